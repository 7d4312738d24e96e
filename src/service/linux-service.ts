import fs from 'node:fs';
import path from 'node:path';
import { HOME_FILES } from '../config/home.js';
import type { CommandRunner, RunResult } from './command-runner.js';
import { SERVICE_NAME, ServiceCommandError, type ServiceSpec, type ServiceState } from './service-spec.js';
import { renderSystemdUnit, unitHome } from './systemd-unit.js';

/** What the Linux service needs from the system; tests pass a recorder and a temp unit folder. */
export interface LinuxDeps {
  runner: CommandRunner;
  /** `/etc/systemd/system` */
  unitDir: string;
  /** Writing to the unit folder and systemctl need root. */
  isRoot: boolean;
  out: (line: string) => void;
  /** The command to run again with sudo, printed when not root. */
  sudoCommand: string;
  /** How long after starting it the service must still run to count as started (a bad setting stops it at once). */
  settleMs: number;
}

export const unitPath = (deps: LinuxDeps): string => path.join(deps.unitDir, `${SERVICE_NAME}.service`);

/** systemd's version from `systemctl --version` ("systemd 252 (252.38-1~deb12u1)"), undefined if unknown. */
export async function systemdVersion(runner: CommandRunner): Promise<number | undefined> {
  return parseSystemdVersion(await runner.run('systemctl', ['--version']));
}

function parseSystemdVersion(result: RunResult): number | undefined {
  const match = /^systemd (\d+)/.exec(result.stdout);
  return result.code === 0 && match ? Number(match[1]) : undefined;
}

/** Writes the unit, enables it at boot and (re)starts it. Throws ServiceCommandError when not root or systemctl fails. */
export async function installLinux(spec: ServiceSpec, deps: LinuxDeps): Promise<void> {
  requireRoot(deps, 'installing');
  const probe = await deps.runner.run('systemctl', ['--version']);
  if (probe.code === 127) {
    throw new ServiceCommandError(
      'systemctl was not found: this system does not run systemd. Run the relay under your own service manager ' +
        `(the command: RELAY_HOME='${spec.home}' '${spec.nodePath}' '${spec.scriptPath}' start), or see the unit with --print`,
    );
  }
  const unit = renderSystemdUnit(spec, { systemdVersion: parseSystemdVersion(probe) });
  await prepareHome(spec, deps);
  fs.mkdirSync(deps.unitDir, { recursive: true });
  fs.writeFileSync(unitPath(deps), unit, { mode: 0o644 });
  deps.out(`wrote ${unitPath(deps)}`);
  await systemctl(deps, ['daemon-reload']);
  await systemctl(deps, ['enable', SERVICE_NAME]);
  // restart, not start: a second install must run the definition it just wrote.
  await systemctl(deps, ['restart', SERVICE_NAME]);
  await new Promise((resolve) => setTimeout(resolve, deps.settleMs));
  const active = (await deps.runner.run('systemctl', ['is-active', SERVICE_NAME])).stdout.trim();
  if (active !== 'active') {
    throw new ServiceCommandError(
      `service ${SERVICE_NAME} is installed and enabled at boot, but the relay is not running (${active || 'unknown'}); systemd retries every few seconds. ` +
        `See why: journalctl -u ${SERVICE_NAME} -n 30 --no-pager`,
    );
  }
  deps.out(`service ${SERVICE_NAME} installed, enabled at boot and running, as ${spec.user ?? 'root'}, data folder ${spec.home}`);
  printWhereToLook(spec.home, deps);
}

/** Stops and disables the service and removes its unit; the data folder stays. */
export async function uninstallLinux(deps: LinuxDeps): Promise<void> {
  requireRoot(deps, 'removing');
  if (!fs.existsSync(unitPath(deps))) {
    deps.out(`service ${SERVICE_NAME} is not installed (no ${unitPath(deps)})`);
    return;
  }
  await systemctl(deps, ['disable', '--now', SERVICE_NAME]);
  fs.rmSync(unitPath(deps));
  await systemctl(deps, ['daemon-reload']);
  // Forgets a "failed" state; fails harmlessly when there is none.
  await deps.runner.run('systemctl', ['reset-failed', SERVICE_NAME]);
  deps.out(`service ${SERVICE_NAME} stopped, disabled and removed; the data folder and its database are kept`);
}

/** Prints installed / running / enabled, the data folder the service uses and where its log is. */
export async function statusLinux(currentHome: string, deps: LinuxDeps): Promise<ServiceState> {
  const file = unitPath(deps);
  if (!fs.existsSync(file)) {
    deps.out(`service ${SERVICE_NAME}: not installed (no ${file}); install it with: npx trade-relay service install`);
    return { installed: false, running: false, enabled: false };
  }
  const active = (await deps.runner.run('systemctl', ['is-active', SERVICE_NAME])).stdout.trim() || 'unknown';
  const enabled = (await deps.runner.run('systemctl', ['is-enabled', SERVICE_NAME])).stdout.trim() || 'unknown';
  const home = unitHome(fs.readFileSync(file, 'utf8'));
  deps.out(`service ${SERVICE_NAME}: installed (${file})`);
  deps.out(`running: ${active === 'active' ? 'yes' : `no (${active})`}`);
  deps.out(`starts at boot: ${enabled === 'enabled' ? 'yes' : `no (${enabled})`}`);
  deps.out(`data folder: ${home ?? '(not set in the unit)'}`);
  if (home !== undefined && path.resolve(home) !== path.resolve(currentHome)) {
    deps.out(`note: this command uses the data folder ${currentHome}, the service ${home}: they read different databases`);
  }
  printWhereToLook(home ?? currentHome, deps);
  return { installed: true, running: active === 'active', enabled: enabled === 'enabled' };
}

function printWhereToLook(home: string, deps: LinuxDeps): void {
  deps.out(`log: ${path.join(home, HOME_FILES.log)} (application log); console output: journalctl -u ${SERVICE_NAME} -f`);
  deps.out(`status: systemctl status ${SERVICE_NAME}    stop: sudo systemctl stop ${SERVICE_NAME}    remove: npx trade-relay service uninstall`);
}

function requireRoot(deps: LinuxDeps, doing: string): void {
  if (deps.isRoot) return;
  throw new ServiceCommandError(`${doing} a system service needs root. Run:\n  ${deps.sudoCommand}\n(or add --print to see the unit without installing it)`);
}

async function systemctl(deps: LinuxDeps, args: string[]): Promise<void> {
  const result = await deps.runner.run('systemctl', args);
  if (result.code === 0) return;
  const detail = (result.stderr || result.stdout).trim();
  throw new ServiceCommandError(`systemctl ${args.join(' ')} failed (exit ${result.code})${detail ? `: ${detail}` : ''}`);
}

/**
 * The relay runs as spec.user and creates its database readable by its owner only: a data folder
 * that does not exist yet is made for that user (sudo would make it root's), and files another
 * account owns are named with the fix.
 */
async function prepareHome(spec: ServiceSpec, deps: LinuxDeps): Promise<void> {
  if (spec.user === undefined || spec.user === 'root') {
    fs.mkdirSync(spec.home, { recursive: true });
    return;
  }
  const uid = await idNumber(deps.runner, '-u', spec.user);
  const gid = await idNumber(deps.runner, '-g', spec.user);
  if (!fs.existsSync(spec.home)) {
    fs.mkdirSync(spec.home, { recursive: true, mode: 0o700 });
    fs.chownSync(spec.home, uid, gid);
    return;
  }
  const foreign = [spec.home, ...Object.values(HOME_FILES).map((name) => path.join(spec.home, name))].filter(
    (file) => fs.existsSync(file) && fs.statSync(file).uid !== uid,
  );
  if (foreign.length > 0) {
    deps.out(
      `warning: ${foreign.join(', ')} not owned by ${spec.user}, whom the service runs as; it may not open them. Fix: sudo chown -R ${spec.user} '${spec.home}'`,
    );
  }
}

async function idNumber(runner: CommandRunner, flag: '-u' | '-g', user: string): Promise<number> {
  const result = await runner.run('id', [flag, user]);
  const value = Number(result.stdout.trim());
  if (result.code !== 0 || !Number.isInteger(value))
    throw new ServiceCommandError(`no user "${user}" on this system (id ${flag} ${user}: ${result.stderr.trim() || result.code})`);
  return value;
}

/**
 * Whom the service runs as when --user is not given: the user behind sudo, else (root without sudo)
 * the owner of the data folder or, before it exists, of the install folder, else the current user.
 */
export async function defaultServiceUser(input: {
  isRoot: boolean;
  sudoUser?: string;
  currentUser: string;
  home: string;
  installDir: string;
  runner: CommandRunner;
}): Promise<string> {
  if (!input.isRoot) return input.currentUser;
  if (input.sudoUser && input.sudoUser !== 'root') return input.sudoUser;
  const owned = fs.existsSync(input.home) ? input.home : input.installDir;
  const uid = fs.statSync(owned).uid;
  if (uid === 0) return 'root';
  const result = await input.runner.run('id', ['-nu', String(uid)]);
  return result.code === 0 && result.stdout.trim() ? result.stdout.trim() : String(uid);
}
