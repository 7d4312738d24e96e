import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderSystemdUnit } from '../../src/service/systemd-unit.js';
import { renderWinswXml } from '../../src/service/winsw-xml.js';
import { CLI_MAIN, type CliSandbox, createCliSandbox, REPO_ROOT } from '../helpers/run-cli.js';
import { letOthersReach } from '../helpers/reachable-by-others.js';
import { installedSystemdVersion, verifyUnit } from './systemd-verify.js';

// Some tests run the CLI as another account: it must reach this checkout.
letOthersReach(REPO_ROOT);

// Issue 8, observed case 11: "The relay stops with its console window, at logoff and at every
// reboot: nothing runs it as a service." The real CLI, with a fake systemctl (or WinSW) that
// records its calls, and the unit folder in a temp dir.

const INSTALL = REPO_ROOT.replace(/[\\/]$/, '');
const SCRIPT = path.join(INSTALL, 'bin', 'trade-relay.js');

// Answers like systemctl: the active state comes from a file the test sets.
const FAKE_SYSTEMCTL = `#!/bin/sh
echo "systemctl $*" >> "$FAKE_LOG"
case "$1" in
  --version) echo "systemd ${'$'}{FAKE_SYSTEMD_VERSION:-252} (fake)";;
  is-active) cat "$FAKE_STATE"; [ "$(cat "$FAKE_STATE")" = active ] || exit 3;;
  is-enabled) echo enabled;;
esac
exit 0
`;

// Answers like WinSW 2.x: status prints NonExistent, Stopped or Started.
const FAKE_WINSW = `#!/bin/sh
echo "winsw $*" >> "$FAKE_LOG"
[ -f "$FAKE_STATE" ] || echo NonExistent > "$FAKE_STATE"
case "$1" in
  status) cat "$FAKE_STATE";;
  install) echo Stopped > "$FAKE_STATE";;
  start) echo Started > "$FAKE_STATE";;
  stopwait) [ "$(cat "$FAKE_STATE")" = NonExistent ] || echo Stopped > "$FAKE_STATE";;
  uninstall) echo NonExistent > "$FAKE_STATE";;
esac
exit 0
`;

let sandbox: CliSandbox;
let home: string;
let unitDir: string;
const file = (name: string) => path.join(sandbox.dir, name);
const calls = () => (fs.existsSync(file('calls.log')) ? fs.readFileSync(file('calls.log'), 'utf8').trim().split('\n') : []);

beforeEach(() => {
  sandbox = createCliSandbox();
  home = file('trader data');
  unitDir = file('system');
  fs.mkdirSync(file('bin'));
  fs.writeFileSync(file('bin/systemctl'), FAKE_SYSTEMCTL, { mode: 0o755 });
  fs.writeFileSync(file('state'), 'active');
  Object.assign(sandbox.env, {
    PATH: `${file('bin')}${path.delimiter}${process.env.PATH}`,
    RELAY_SERVICE_PLATFORM: 'linux',
    RELAY_SERVICE_DIR: unitDir,
    FAKE_LOG: file('calls.log'),
    FAKE_STATE: file('state'),
  });
});
afterEach(() => sandbox.cleanup());

// Each CLI run takes about a second, and install waits 2 s to see the relay stay up.
describe('trade-relay service on Linux', { timeout: 60_000 }, () => {
  it('is a command with install, uninstall and status', async () => {
    const result = await sandbox.run(['service', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/install \[options\]\s+install the service/);
    expect(result.stdout).toMatch(/uninstall\s+stop, disable and remove the service/);
    expect(result.stdout).toMatch(/status \[options\]\s+whether the service is installed, running and enabled/);
  });

  it('install writes a unit that runs this node on this install with the data folder pinned, enables and starts it', async () => {
    const result = await sandbox.run(['service', 'install', '--home', home, '--user', 'root']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const unit = fs.readFileSync(path.join(unitDir, 'trade-relay.service'), 'utf8');
    expect(unit).toBe(renderSystemdUnit({ nodePath: process.execPath, installDir: INSTALL, scriptPath: SCRIPT, home, user: 'root' }, { systemdVersion: 252 }));
    expect(calls()).toEqual([
      'systemctl --version',
      'systemctl daemon-reload',
      'systemctl enable trade-relay',
      'systemctl restart trade-relay',
      'systemctl is-active trade-relay',
    ]);
    expect(result.stdout).toContain(`service trade-relay installed, enabled at boot and running, as root, data folder ${home}`);
    expect(fs.statSync(home).isDirectory()).toBe(true);
    expect(verifyUnit(unit, sandbox.dir)).toEqual({ code: 0, output: '' });
  });

  it("install runs as the user behind sudo and verifies clean on this machine's systemd", async () => {
    sandbox.env.FAKE_SYSTEMD_VERSION = String(installedSystemdVersion());
    sandbox.env.SUDO_USER = 'daemon';
    const result = await sandbox.run(['service', 'install', '--home', home]);
    expect(result.stderr).toBe('');
    const unit = fs.readFileSync(path.join(unitDir, 'trade-relay.service'), 'utf8');
    expect(unit).toContain('\nUser=daemon\n');
    expect(unit).toContain('\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n');
    expect(fs.statSync(home).uid).not.toBe(0);
    expect(verifyUnit(unit, sandbox.dir)).toEqual({ code: 0, output: '' });
  });

  it('the data folder follows RELAY_HOME, and --home over it, as every command', async () => {
    sandbox.env.RELAY_HOME = file('from env');
    const fromEnv = await sandbox.run(['service', 'install', '--print', '--user', 'root']);
    expect(fromEnv.stdout).toContain(`Environment="RELAY_HOME=${file('from env')}"`);
    const fromFlag = await sandbox.run(['service', 'install', '--print', '--user', 'root', '--home', 'relative'], { cwd: sandbox.dir });
    expect(fromFlag.stdout).toContain(`Environment="RELAY_HOME=${file('relative')}"`);
    delete sandbox.env.RELAY_HOME;
    const byDefault = await sandbox.run(['service', 'install', '--print', '--user', 'root']);
    expect(byDefault.stdout).toContain(`Environment="RELAY_HOME=${path.join(INSTALL, 'data')}"`);
  });

  it('as an ordinary user, install prints the exact sudo command, and that command installs it', () => {
    // Runs the CLI as the system account "daemon" (uid 1): CI runs as root, which can switch to it.
    const asDaemon = spawnSync(
      'setpriv',
      ['--reuid=1', '--regid=1', '--clear-groups', process.execPath, CLI_MAIN, 'service', 'install', '--home', "it's data"],
      {
        cwd: sandbox.dir,
        env: sandbox.env,
        encoding: 'utf8',
      },
    );
    expect(asDaemon.status).toBe(1);
    const sudo = `sudo ${process.execPath} ${SCRIPT} service install --home '${sandbox.dir}/it'\\''s data' --user daemon`;
    expect(asDaemon.stderr).toBe(`error: installing a system service needs root. Run:\n  ${sudo}\n(or add --print to see the unit without installing it)\n`);
    expect(fs.existsSync(unitDir)).toBe(false);

    // sudo drops RELAY_HOME and runs as root: the printed command names the data folder and the user itself.
    const asRoot = spawnSync('sh', ['-c', sudo.replace(/^sudo /, '')], { cwd: '/', env: sandbox.env, encoding: 'utf8' });
    expect(asRoot.stderr).toBe('');
    const unit = fs.readFileSync(path.join(unitDir, 'trade-relay.service'), 'utf8');
    expect(unit).toContain(`Environment="RELAY_HOME=${sandbox.dir}/it's data"`);
    expect(unit).toContain('\nUser=daemon\n');
  });

  it('install --print prints the unit and changes nothing', async () => {
    const result = await sandbox.run(['service', 'install', '--print', '--home', home, '--user', 'daemon']);
    expect(result.code).toBe(0);
    expect(`${result.stdout}`).toBe(
      renderSystemdUnit({ nodePath: process.execPath, installDir: INSTALL, scriptPath: SCRIPT, home, user: 'daemon' }, { systemdVersion: 252 }),
    );
    expect(calls()).toEqual(['systemctl --version']);
    expect(fs.existsSync(unitDir)).toBe(false);
    expect(fs.existsSync(home)).toBe(false);
  });

  it('status says running and enabled, and exits 3 when the relay is not running', async () => {
    await sandbox.run(['service', 'install', '--home', home, '--user', 'root']);
    const running = await sandbox.run(['service', 'status', '--home', home]);
    expect(running.code).toBe(0);
    expect(running.stdout).toContain('running: yes\nstarts at boot: yes\n');
    expect(running.stdout).toContain(`log: ${path.join(home, 'trade_relay.log')}`);
    fs.writeFileSync(file('state'), 'failed');
    const failed = await sandbox.run(['service', 'status', '--home', home]);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toContain('running: no (failed)');
  });

  it('uninstall stops, disables and removes it; status then says not installed', async () => {
    await sandbox.run(['service', 'install', '--home', home, '--user', 'root']);
    fs.rmSync(file('calls.log'));
    const result = await sandbox.run(['service', 'uninstall']);
    expect(result.code).toBe(0);
    expect(calls()).toEqual(['systemctl disable --now trade-relay', 'systemctl daemon-reload', 'systemctl reset-failed trade-relay']);
    expect(fs.existsSync(path.join(unitDir, 'trade-relay.service'))).toBe(false);
    const status = await sandbox.run(['service', 'status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('service trade-relay: not installed');
  });

  it('a failing systemctl is an error with its message, exit 1', async () => {
    fs.writeFileSync(
      file('bin/systemctl'),
      '#!/bin/sh\n[ "$1" = --version ] && exit 0\necho "Failed to connect to bus: No such file or directory" >&2\nexit 1\n',
    );
    const result = await sandbox.run(['service', 'install', '--home', home, '--user', 'root']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: systemctl daemon-reload failed (exit 1): Failed to connect to bus: No such file or directory\n');
  });
});

describe('trade-relay service on Windows (WinSW; a fake one here)', { timeout: 60_000 }, () => {
  beforeEach(() => {
    fs.writeFileSync(file('WinSW-x64.exe'), FAKE_WINSW, { mode: 0o755 });
    fs.rmSync(file('state'));
    sandbox.env.RELAY_SERVICE_PLATFORM = 'win32';
  });

  it('install copies WinSW next to its XML, installs and starts; status and uninstall follow', async () => {
    const install = await sandbox.run(['service', 'install', '--home', home, '--winsw', file('WinSW-x64.exe')]);
    expect(install.stderr).toBe('');
    expect(fs.readFileSync(path.join(unitDir, 'trade-relay-service.xml'), 'utf8')).toBe(
      renderWinswXml({ nodePath: process.execPath, installDir: INSTALL, scriptPath: SCRIPT, home }),
    );
    expect(calls()).toEqual(['winsw install', 'winsw start', 'winsw status']);

    const status = await sandbox.run(['service', 'status', '--home', home]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('running: yes\nstarts at boot: yes (Automatic)\n');

    const uninstall = await sandbox.run(['service', 'uninstall']);
    expect(uninstall.stdout).toBe('service trade-relay stopped and removed; the data folder and its database are kept\n');
    expect((await sandbox.run(['service', 'status'])).code).toBe(3);
  });

  it('without WinSW: exit 1 and where to download it', async () => {
    const result = await sandbox.run(['service', 'install', '--home', home]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Download WinSW-x64.exe (version 2.12.0) from https://github.com/winsw/winsw/releases/tag/v2.12.0');
  });
});
