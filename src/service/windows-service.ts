import fs from 'node:fs';
import path from 'node:path';
import { HOME_FILES } from '../config/home.js';
import type { CommandRunner } from './command-runner.js';
import { SERVICE_NAME, ServiceCommandError, type ServiceSpec, type ServiceState } from './service-spec.js';
import { renderWinswXml, winswHome } from './winsw-xml.js';

/**
 * WinSW 2.x (https://github.com/winsw/winsw, MIT): one .exe, no compiler and, for WinSW-x64.exe,
 * no .NET to install. Renamed `trade-relay-service.exe`, it reads `trade-relay-service.xml` beside
 * it and takes the commands install, uninstall, start, stop, stopwait and status (which prints
 * NonExistent, Started or Stopped). Everything here that cannot run on Linux is this thin edge;
 * the definition it installs is renderWinswXml, tested.
 */
export const WINSW_EXE = `${SERVICE_NAME}-service.exe`;
export const WINSW_XML = `${SERVICE_NAME}-service.xml`;
export const WINSW_DOWNLOAD = 'https://github.com/winsw/winsw/releases/tag/v2.12.0';

export interface WindowsDeps {
  runner: CommandRunner;
  /** `<install folder>\service`: the renamed WinSW and its XML. */
  serviceDir: string;
  out: (line: string) => void;
  /** How long after starting it the service must still run to count as started (a bad setting stops it at once). */
  settleMs: number;
}

const exePath = (deps: WindowsDeps) => path.join(deps.serviceDir, WINSW_EXE);
const xmlPath = (deps: WindowsDeps) => path.join(deps.serviceDir, WINSW_XML);

/** Writes the XML, registers the service (replacing an older registration) and starts it. */
export async function installWindows(spec: ServiceSpec, deps: WindowsDeps, winswSource?: string): Promise<void> {
  const definition = renderWinswXml(spec);
  const source = winswSource === undefined ? undefined : path.resolve(winswSource);
  if (source !== undefined && !fs.existsSync(source))
    throw new ServiceCommandError(`no file ${source} (--winsw): give the path of the downloaded WinSW-x64.exe`);
  if (source === undefined && !fs.existsSync(exePath(deps))) {
    throw new ServiceCommandError(
      [
        `WinSW is needed to run the relay as a Windows service and is not in ${deps.serviceDir}.`,
        `Download WinSW-x64.exe (version 2.12.0) from ${WINSW_DOWNLOAD}`,
        'then, in a command prompt opened with "Run as administrator":',
        '  npx trade-relay service install --winsw <the downloaded WinSW-x64.exe>',
      ].join('\n'),
    );
  }
  // A registered service is stopped and unregistered with the WinSW it runs under: Windows locks a running .exe.
  if (fs.existsSync(exePath(deps)) && (await state(deps)) !== 'NonExistent') {
    await deps.runner.run(exePath(deps), ['stopwait']);
    await winsw(deps, 'uninstall');
  }
  fs.mkdirSync(deps.serviceDir, { recursive: true });
  if (source !== undefined && source !== path.resolve(exePath(deps))) fs.copyFileSync(source, exePath(deps));
  fs.mkdirSync(spec.home, { recursive: true });
  fs.writeFileSync(xmlPath(deps), definition);
  deps.out(`wrote ${xmlPath(deps)}`);
  await winsw(deps, 'install');
  await winsw(deps, 'start');
  await new Promise((resolve) => setTimeout(resolve, deps.settleMs));
  if ((await state(deps)) !== 'Started') {
    throw new ServiceCommandError(
      `service ${SERVICE_NAME} is installed and starts at boot, but the relay is not running; Windows retries after 5 s. ` +
        `See why: ${path.join(spec.home, `${SERVICE_NAME}-service.err.log`)} and ${path.join(spec.home, HOME_FILES.log)}`,
    );
  }
  deps.out(`service ${SERVICE_NAME} installed (starts at boot, restarts after a failure) and running, data folder ${spec.home}`);
  printWhereToLook(spec.home, deps);
}

/** Stops and unregisters the service and removes its XML; the data folder and WinSW stay. */
export async function uninstallWindows(deps: WindowsDeps): Promise<void> {
  if (!fs.existsSync(exePath(deps)) || (await state(deps)) === 'NonExistent') {
    deps.out(`service ${SERVICE_NAME} is not installed`);
    return;
  }
  await deps.runner.run(exePath(deps), ['stopwait']);
  await winsw(deps, 'uninstall');
  fs.rmSync(xmlPath(deps), { force: true });
  deps.out(`service ${SERVICE_NAME} stopped and removed; the data folder and its database are kept`);
}

export async function statusWindows(currentHome: string, deps: WindowsDeps): Promise<ServiceState> {
  const now = fs.existsSync(exePath(deps)) ? await state(deps) : 'NonExistent';
  if (now === 'NonExistent') {
    deps.out(`service ${SERVICE_NAME}: not installed; install it with: npx trade-relay service install`);
    return { installed: false, running: false, enabled: false };
  }
  const home = fs.existsSync(xmlPath(deps)) ? winswHome(fs.readFileSync(xmlPath(deps), 'utf8')) : undefined;
  const running = now === 'Started';
  deps.out(`service ${SERVICE_NAME}: installed (${xmlPath(deps)})`);
  deps.out(`running: ${running ? 'yes' : `no (${now})`}`);
  deps.out('starts at boot: yes (Automatic)');
  deps.out(`data folder: ${home ?? '(unknown: no service XML)'}`);
  if (home !== undefined && path.resolve(home) !== path.resolve(currentHome)) {
    deps.out(`note: this command uses the data folder ${currentHome}, the service ${home}: they read different databases`);
  }
  printWhereToLook(home ?? currentHome, deps);
  return { installed: true, running, enabled: true };
}

function printWhereToLook(home: string, deps: WindowsDeps): void {
  deps.out(
    `log: ${path.join(home, HOME_FILES.log)} (application log); console output and WinSW's own log: ${path.join(home, `${SERVICE_NAME}-service.*.log`)}`,
  );
  deps.out(`status: npx trade-relay service status (or services.msc)    remove: npx trade-relay service uninstall`);
}

/** WinSW's `status` line: NonExistent, Started or Stopped. */
async function state(deps: WindowsDeps): Promise<string> {
  const result = await deps.runner.run(exePath(deps), ['status']);
  const text = result.stdout.trim();
  if (/NonExistent/i.test(text)) return 'NonExistent';
  if (/Started|Active/i.test(text)) return 'Started';
  if (/Stopped|Inactive/i.test(text)) return 'Stopped';
  throw new ServiceCommandError(`${WINSW_EXE} status failed (exit ${result.code}): ${(result.stderr || text).trim()}`);
}

async function winsw(deps: WindowsDeps, command: string): Promise<void> {
  const result = await deps.runner.run(exePath(deps), [command]);
  if (result.code === 0) return;
  const detail = (result.stderr || result.stdout).trim();
  const hint = result.code === 5 ? ' (access denied: open the command prompt with "Run as administrator")' : '';
  throw new ServiceCommandError(`${WINSW_EXE} ${command} failed (exit ${result.code})${hint}${detail ? `: ${detail}` : ''}`);
}
