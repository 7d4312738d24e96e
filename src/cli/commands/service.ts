import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { installDir, resolveHome } from '../../config/home.js';
import { execRunner } from '../../service/command-runner.js';
import { defaultServiceUser, installLinux, type LinuxDeps, statusLinux, systemdVersion, uninstallLinux } from '../../service/linux-service.js';
import type { ServiceSpec } from '../../service/service-spec.js';
import { renderSystemdUnit } from '../../service/systemd-unit.js';
import { installWindows, statusWindows, uninstallWindows, type WindowsDeps } from '../../service/windows-service.js';
import { renderWinswXml } from '../../service/winsw-xml.js';
import { CliError } from './cli-error.js';
import type { CliIo } from './cli-io.js';

interface InstallOptions {
  print?: boolean;
  user?: string;
  home?: string;
  winsw?: string;
}

// RELAY_SERVICE_PLATFORM and RELAY_SERVICE_DIR exist for the tests (a fake systemctl or WinSW in a
// temp folder); a trader never needs them.
function platform(): 'linux' | 'win32' {
  const name = process.env.RELAY_SERVICE_PLATFORM || process.platform;
  if (name === 'linux' || name === 'win32') return name;
  throw new CliError(
    `trade-relay service supports Linux (systemd) and Windows (WinSW), not ${name}; run "trade-relay start" under your system's service manager`,
  );
}

// A relay that cannot start (a bad setting, a taken port) exits within a second: `start` is healthy in under 1 s.
const SETTLE_MS = 2000;

const isRoot = () => process.getuid?.() === 0;

function linuxDeps(io: CliIo, sudoArgs: string[]): LinuxDeps {
  const sudoCommand = ['sudo', process.execPath, scriptPath(), 'service', ...sudoArgs].map(shellQuote).join(' ');
  return {
    runner: execRunner,
    unitDir: process.env.RELAY_SERVICE_DIR || '/etc/systemd/system',
    isRoot: isRoot(),
    out: io.out,
    sudoCommand,
    settleMs: SETTLE_MS,
  };
}

function windowsDeps(io: CliIo): WindowsDeps {
  return { runner: execRunner, serviceDir: process.env.RELAY_SERVICE_DIR || path.join(installDir(), 'service'), out: io.out, settleMs: SETTLE_MS };
}

const scriptPath = () => path.join(installDir(), 'bin', 'trade-relay.js');

async function buildSpec(options: InstallOptions, os_: 'linux' | 'win32'): Promise<ServiceSpec> {
  const home = resolveHome(process.env, options.home).dir;
  const spec: ServiceSpec = { nodePath: process.execPath, installDir: installDir(), scriptPath: scriptPath(), home };
  if (os_ === 'win32') return spec;
  const user =
    options.user ??
    (await defaultServiceUser({
      isRoot: isRoot(),
      sudoUser: process.env.SUDO_USER,
      currentUser: os.userInfo().username,
      home,
      installDir: spec.installDir,
      runner: execRunner,
    }));
  return { ...spec, user };
}

async function install(options: InstallOptions, io: CliIo): Promise<void> {
  const os_ = platform();
  const spec = await buildSpec(options, os_);
  if (options.print) {
    const text = os_ === 'win32' ? renderWinswXml(spec) : renderSystemdUnit(spec, { systemdVersion: await systemdVersion(execRunner) });
    io.out(text.replace(/\r?\n$/, ''));
    return;
  }
  if (os_ === 'win32') return installWindows(spec, windowsDeps(io), options.winsw);
  // sudo drops RELAY_HOME and changes the user: the command to repeat names both.
  return installLinux(spec, linuxDeps(io, ['install', '--home', spec.home, '--user', spec.user ?? 'root']));
}

export function registerService(program: Command, io: CliIo): void {
  const service = program
    .command('service')
    .description('run the relay as a service: starts at boot, restarts after a crash (systemd on Linux, WinSW on Windows)');
  service
    .command('install')
    .description('install the service for this install and data folder, enable it at boot and start it (Linux: as root)')
    .option('--print', 'only print the service definition it would install')
    .option('--user <name>', "Linux: the account the relay runs as (default: the user behind sudo, else the data folder's owner)")
    .option('--home <path>', 'data folder (RELAY_HOME, default <install folder>/data)')
    .option('--winsw <exe>', 'Windows: the downloaded WinSW-x64.exe to use (copied into <install folder>\\service)')
    .action((options: InstallOptions) => install(options, io));
  service
    .command('uninstall')
    .description('stop, disable and remove the service (the data folder is kept)')
    .action(() => (platform() === 'win32' ? uninstallWindows(windowsDeps(io)) : uninstallLinux(linuxDeps(io, ['uninstall']))));
  service
    .command('status')
    .description('whether the service is installed, running and enabled at boot, its data folder and where its log is')
    .option('--home <path>', "data folder to compare with the service's (RELAY_HOME, default <install folder>/data)")
    .action(async (options: { home?: string }) => {
      const home = resolveHome(process.env, options.home).dir;
      const state = platform() === 'win32' ? await statusWindows(home, windowsDeps(io)) : await statusLinux(home, linuxDeps(io, ['status']));
      // As systemctl status and LSB: 3 = not running.
      if (!state.running) process.exitCode = 3;
    });
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
