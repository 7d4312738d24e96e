import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultServiceUser, installLinux, type LinuxDeps, statusLinux, uninstallLinux } from '../../src/service/linux-service.js';
import { ServiceCommandError, type ServiceSpec } from '../../src/service/service-spec.js';
import { renderSystemdUnit } from '../../src/service/systemd-unit.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { commandRecorder } from './command-recorder.js';

// The account the service runs as in these tests: chown to it needs root, which CI is.
const UID = process.getuid?.() === 0 ? 1 : (process.getuid?.() ?? 1000);
const GID = process.getgid?.() === 0 ? 1 : (process.getgid?.() ?? 1000);
const SUDO = "sudo /usr/bin/node /opt/trade-relay/bin/trade-relay.js service install --home '/srv/my data' --user alice";

let temp: ReturnType<typeof makeTempDir>;
let out: string[];
let spec: ServiceSpec;

beforeEach(() => {
  temp = makeTempDir('trade-relay-linux-');
  out = [];
  spec = {
    nodePath: '/usr/bin/node',
    installDir: '/opt/trade-relay',
    scriptPath: '/opt/trade-relay/bin/trade-relay.js',
    home: temp.file('my data'),
    user: 'alice',
  };
});
afterEach(() => temp.cleanup());

const systemAnswers = (line: string) => {
  if (line === 'systemctl --version') return { stdout: 'systemd 252 (252.38-1~deb12u1)\n+PAM +AUDIT\n' };
  if (line === 'id -u alice') return { stdout: `${UID}\n` };
  if (line === 'id -g alice') return { stdout: `${GID}\n` };
  if (line === 'systemctl is-active trade-relay') return { stdout: 'active\n' };
  return undefined;
};

function deps(recorder: ReturnType<typeof commandRecorder>, isRoot = true): LinuxDeps {
  return { runner: recorder.runner, unitDir: temp.file('system'), isRoot, out: (line) => out.push(line), sudoCommand: SUDO, settleMs: 0 };
}

const unitFile = () => temp.file('system/trade-relay.service');

describe('installLinux', () => {
  it('writes the unit for this systemd, then reloads, enables at boot and (re)starts it', async () => {
    const recorder = commandRecorder(systemAnswers);
    await installLinux(spec, deps(recorder));
    expect(fs.readFileSync(unitFile(), 'utf8')).toBe(renderSystemdUnit(spec, { systemdVersion: 252 }));
    expect(fs.statSync(unitFile()).mode & 0o777).toBe(0o644);
    expect(recorder.calls).toEqual([
      'systemctl --version',
      'id -u alice',
      'id -g alice',
      'systemctl daemon-reload',
      'systemctl enable trade-relay',
      'systemctl restart trade-relay',
      'systemctl is-active trade-relay',
    ]);
    expect(out).toEqual([
      `wrote ${unitFile()}`,
      `service trade-relay installed, enabled at boot and running, as alice, data folder ${spec.home}`,
      `log: ${path.join(spec.home, 'trade_relay.log')} (application log); console output: journalctl -u trade-relay -f`,
      'status: systemctl status trade-relay    stop: sudo systemctl stop trade-relay    remove: npx trade-relay service uninstall',
    ]);
  });

  it('makes a missing data folder for the service user, not for root (its database is readable by its owner only)', async () => {
    await installLinux(spec, deps(commandRecorder(systemAnswers)));
    const stat = fs.statSync(spec.home);
    expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([UID, GID, 0o700]);
  });

  it('warns, with the fix, when the data folder or its files belong to another account', async () => {
    fs.mkdirSync(spec.home);
    fs.writeFileSync(path.join(spec.home, 'trade_relay.db'), '');
    const recorder = commandRecorder((line) => (line === 'id -u alice' ? { stdout: '4242\n' } : systemAnswers(line)));
    await installLinux(spec, deps(recorder));
    expect(out).toContain(
      `warning: ${spec.home}, ${path.join(spec.home, 'trade_relay.db')} not owned by alice, whom the service runs as; it may not open them. Fix: sudo chown -R alice '${spec.home}'`,
    );
  });

  it('as root makes the data folder and asks no user id', async () => {
    const recorder = commandRecorder(systemAnswers);
    await installLinux({ ...spec, user: 'root' }, deps(recorder));
    expect(fs.existsSync(spec.home)).toBe(true);
    expect(recorder.calls.filter((c) => c.startsWith('id '))).toEqual([]);
    expect(out[1]).toBe(`service trade-relay installed, enabled at boot and running, as root, data folder ${spec.home}`);
  });

  it('without root says so and prints the sudo command; writes and runs nothing', async () => {
    const recorder = commandRecorder(systemAnswers);
    await expect(installLinux(spec, deps(recorder, false))).rejects.toThrow(
      new ServiceCommandError(`installing a system service needs root. Run:\n  ${SUDO}\n(or add --print to see the unit without installing it)`),
    );
    expect(recorder.calls).toEqual([]);
    expect(fs.existsSync(unitFile())).toBe(false);
  });

  it('names a user the system does not know', async () => {
    const recorder = commandRecorder((line) => (line === 'id -u alice' ? { code: 1, stderr: "id: 'alice': no such user\n" } : systemAnswers(line)));
    await expect(installLinux(spec, deps(recorder))).rejects.toThrow(
      new ServiceCommandError(`no user "alice" on this system (id -u alice: id: 'alice': no such user)`),
    );
    expect(fs.existsSync(unitFile())).toBe(false);
  });

  it('reports a failing systemctl with its message', async () => {
    const recorder = commandRecorder((line) =>
      line === 'systemctl enable trade-relay'
        ? { code: 1, stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\n" }
        : systemAnswers(line),
    );
    await expect(installLinux(spec, deps(recorder))).rejects.toThrow(
      new ServiceCommandError("systemctl enable trade-relay failed (exit 1): System has not been booted with systemd as init system (PID 1). Can't operate."),
    );
  });

  it('writes a unit without RestartSteps when systemctl cannot tell its version', async () => {
    await installLinux(spec, deps(commandRecorder((line) => (line === 'systemctl --version' ? { code: 1 } : systemAnswers(line)))));
    expect(fs.readFileSync(unitFile(), 'utf8')).toBe(renderSystemdUnit(spec));
  });

  it('says so, with where to look, when the relay does not stay up', async () => {
    const recorder = commandRecorder((line) => (line === 'systemctl is-active trade-relay' ? { code: 3, stdout: 'activating\n' } : systemAnswers(line)));
    await expect(installLinux(spec, deps(recorder))).rejects.toThrow(
      new ServiceCommandError(
        'service trade-relay is installed and enabled at boot, but the relay is not running (activating); systemd retries every few seconds. See why: journalctl -u trade-relay -n 30 --no-pager',
      ),
    );
    expect(fs.existsSync(unitFile())).toBe(true);
  });

  it('without systemd says so and writes nothing', async () => {
    const recorder = commandRecorder((line) => (line === 'systemctl --version' ? { code: 127, stderr: 'systemctl: not found' } : undefined));
    await expect(installLinux(spec, deps(recorder))).rejects.toThrow(
      new ServiceCommandError(
        `systemctl was not found: this system does not run systemd. Run the relay under your own service manager (the command: RELAY_HOME='${spec.home}' '/usr/bin/node' '/opt/trade-relay/bin/trade-relay.js' start), or see the unit with --print`,
      ),
    );
    expect(recorder.calls).toEqual(['systemctl --version']);
    expect(fs.existsSync(unitFile())).toBe(false);
  });
});

describe('uninstallLinux', () => {
  it('stops and disables the service, removes the unit and reloads; the data folder stays', async () => {
    await installLinux(spec, deps(commandRecorder(systemAnswers)));
    out = [];
    const recorder = commandRecorder();
    await uninstallLinux(deps(recorder));
    expect(recorder.calls).toEqual(['systemctl disable --now trade-relay', 'systemctl daemon-reload', 'systemctl reset-failed trade-relay']);
    expect(fs.existsSync(unitFile())).toBe(false);
    expect(fs.existsSync(spec.home)).toBe(true);
    expect(out).toEqual(['service trade-relay stopped, disabled and removed; the data folder and its database are kept']);
  });

  it('says when there is nothing to remove', async () => {
    const recorder = commandRecorder();
    await uninstallLinux(deps(recorder));
    expect(recorder.calls).toEqual([]);
    expect(out).toEqual([`service trade-relay is not installed (no ${unitFile()})`]);
  });

  it('needs root too', async () => {
    await expect(uninstallLinux(deps(commandRecorder(), false))).rejects.toThrow(ServiceCommandError);
  });
});

describe('statusLinux', () => {
  const answers = (active: string, enabled: string) => (line: string) =>
    line === 'systemctl is-active trade-relay'
      ? { stdout: `${active}\n`, code: active === 'active' ? 0 : 3 }
      : line === 'systemctl is-enabled trade-relay'
        ? { stdout: `${enabled}\n` }
        : undefined;

  it('not installed', async () => {
    const state = await statusLinux(spec.home, deps(commandRecorder()));
    expect(state).toEqual({ installed: false, running: false, enabled: false });
    expect(out).toEqual([`service trade-relay: not installed (no ${unitFile()}); install it with: npx trade-relay service install`]);
  });

  it('installed, running and enabled: says so, with the data folder and where the log is', async () => {
    await installLinux(spec, deps(commandRecorder(systemAnswers)));
    out = [];
    const state = await statusLinux(spec.home, deps(commandRecorder(answers('active', 'enabled'))));
    expect(state).toEqual({ installed: true, running: true, enabled: true });
    expect(out).toEqual([
      `service trade-relay: installed (${unitFile()})`,
      'running: yes',
      'starts at boot: yes',
      `data folder: ${spec.home}`,
      `log: ${path.join(spec.home, 'trade_relay.log')} (application log); console output: journalctl -u trade-relay -f`,
      'status: systemctl status trade-relay    stop: sudo systemctl stop trade-relay    remove: npx trade-relay service uninstall',
    ]);
  });

  it('failed and disabled, on another data folder than this command: says each', async () => {
    await installLinux(spec, deps(commandRecorder(systemAnswers)));
    out = [];
    const state = await statusLinux('/elsewhere/data', deps(commandRecorder(answers('failed', 'disabled'))));
    expect(state).toEqual({ installed: true, running: false, enabled: false });
    expect(out.slice(1, 5)).toEqual([
      'running: no (failed)',
      'starts at boot: no (disabled)',
      `data folder: ${spec.home}`,
      `note: this command uses the data folder /elsewhere/data, the service ${spec.home}: they read different databases`,
    ]);
  });
});

describe('defaultServiceUser', () => {
  const base = { currentUser: 'bob', home: '/nonexistent/home', installDir: '/' };

  it('is the current user when not root, and the user behind sudo when root', async () => {
    const { runner } = commandRecorder();
    expect(await defaultServiceUser({ ...base, isRoot: false, sudoUser: 'carol', runner })).toBe('bob');
    expect(await defaultServiceUser({ ...base, isRoot: true, sudoUser: 'carol', runner })).toBe('carol');
  });

  it('as root without sudo: the owner of the data folder (else of the install folder), root if root owns it', async () => {
    fs.mkdirSync(spec.home);
    fs.chownSync(spec.home, UID, GID);
    const recorder = commandRecorder((line) => (line === `id -nu ${UID}` ? { stdout: 'dave\n' } : undefined));
    expect(await defaultServiceUser({ ...base, isRoot: true, home: spec.home, runner: recorder.runner })).toBe('dave');
    expect(await defaultServiceUser({ ...base, isRoot: true, sudoUser: 'root', runner: recorder.runner })).toBe('root');
  });
});
