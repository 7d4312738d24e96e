import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServiceCommandError, type ServiceSpec } from '../../src/service/service-spec.js';
import { installWindows, statusWindows, uninstallWindows, type WindowsDeps } from '../../src/service/windows-service.js';
import { renderWinswXml } from '../../src/service/winsw-xml.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { commandRecorder } from './command-recorder.js';

let temp: ReturnType<typeof makeTempDir>;
let out: string[];
let spec: ServiceSpec;
let exe: string;

beforeEach(() => {
  temp = makeTempDir('trade-relay-windows-');
  out = [];
  spec = {
    nodePath: 'C:\\Program Files\\nodejs\\node.exe',
    installDir: temp.dir,
    scriptPath: path.join(temp.dir, 'bin', 'trade-relay.js'),
    home: temp.file('data'),
  };
  exe = temp.file('service/trade-relay-service.exe');
});
afterEach(() => temp.cleanup());

/** WinSW as its commands change the service: `status` prints NonExistent, Stopped or Started. */
function fakeWinsw(initial: 'NonExistent' | 'Stopped' | 'Started' = 'NonExistent', fail: Record<string, number> = {}) {
  let state = initial;
  return commandRecorder((line) => {
    const command = line.slice(exe.length + 1);
    if (fail[command]) return { code: fail[command], stderr: `${command} failed\n` };
    if (command === 'status') return { stdout: `${state}\n` };
    if (command === 'install') state = 'Stopped';
    if (command === 'start') state = 'Started';
    if (command === 'stopwait') state = state === 'NonExistent' ? state : 'Stopped';
    if (command === 'uninstall') state = 'NonExistent';
    return undefined;
  });
}

const deps = (recorder: ReturnType<typeof commandRecorder>): WindowsDeps => ({
  runner: recorder.runner,
  serviceDir: temp.file('service'),
  out: (line) => out.push(line),
  settleMs: 0,
});

function downloadedWinsw(): string {
  fs.writeFileSync(temp.file('WinSW-x64.exe'), 'MZ fake WinSW');
  return temp.file('WinSW-x64.exe');
}

describe('installWindows', () => {
  it('copies the given WinSW beside its XML, installs and starts the service', async () => {
    const winsw = fakeWinsw();
    await installWindows(spec, deps(winsw), downloadedWinsw());
    expect(fs.readFileSync(exe, 'utf8')).toBe('MZ fake WinSW');
    expect(fs.readFileSync(temp.file('service/trade-relay-service.xml'), 'utf8')).toBe(renderWinswXml(spec));
    expect(winsw.calls).toEqual([`${exe} install`, `${exe} start`, `${exe} status`]);
    expect(fs.existsSync(spec.home)).toBe(true);
    expect(out).toEqual([
      `wrote ${temp.file('service/trade-relay-service.xml')}`,
      `service trade-relay installed (starts at boot, restarts after a failure) and running, data folder ${spec.home}`,
      `log: ${path.join(spec.home, 'trade_relay.log')} (application log); console output and WinSW's own log: ${path.join(spec.home, 'trade-relay-service.*.log')}`,
      'status: npx trade-relay service status (or services.msc)    remove: npx trade-relay service uninstall',
    ]);
  });

  it('replaces an installed service: stops and unregisters it first', async () => {
    downloadedWinsw();
    fs.mkdirSync(temp.file('service'));
    fs.copyFileSync(temp.file('WinSW-x64.exe'), exe);
    const winsw = fakeWinsw('Started');
    await installWindows(spec, deps(winsw));
    expect(winsw.calls).toEqual([`${exe} status`, `${exe} stopwait`, `${exe} uninstall`, `${exe} install`, `${exe} start`, `${exe} status`]);
  });

  it('replaces WinSW only once the running service has been stopped with the old one (Windows locks a running .exe)', async () => {
    fs.mkdirSync(temp.file('service'));
    fs.writeFileSync(exe, 'old WinSW');
    let exeWhenUninstalled = '';
    const winsw = fakeWinsw('Started');
    const runner = {
      run: async (file: string, args: string[]) => {
        if (args[0] === 'uninstall') exeWhenUninstalled = fs.readFileSync(exe, 'utf8');
        return winsw.runner.run(file, args);
      },
    };
    await installWindows(spec, { ...deps(winsw), runner }, downloadedWinsw());
    expect(exeWhenUninstalled).toBe('old WinSW');
    expect(fs.readFileSync(exe, 'utf8')).toBe('MZ fake WinSW');
  });

  it('accepts the WinSW already in place as --winsw, and refuses a --winsw that does not exist', async () => {
    fs.mkdirSync(temp.file('service'));
    fs.writeFileSync(exe, 'WinSW');
    await installWindows(spec, deps(fakeWinsw()), exe);
    expect(fs.readFileSync(exe, 'utf8')).toBe('WinSW');
    await expect(installWindows(spec, deps(fakeWinsw()), temp.file('missing.exe'))).rejects.toThrow(
      new ServiceCommandError(`no file ${temp.file('missing.exe')} (--winsw): give the path of the downloaded WinSW-x64.exe`),
    );
  });

  it('without WinSW says where to get it and how to go on', async () => {
    const winsw = fakeWinsw();
    await expect(installWindows(spec, deps(winsw))).rejects.toThrow(
      new ServiceCommandError(
        [
          `WinSW is needed to run the relay as a Windows service and is not in ${temp.file('service')}.`,
          'Download WinSW-x64.exe (version 2.12.0) from https://github.com/winsw/winsw/releases/tag/v2.12.0',
          'then, in a command prompt opened with "Run as administrator":',
          '  npx trade-relay service install --winsw <the downloaded WinSW-x64.exe>',
        ].join('\n'),
      ),
    );
    expect(winsw.calls).toEqual([]);
  });

  it('says so, with where to look, when the relay does not stay up', async () => {
    let started = false;
    const winsw = commandRecorder((line) => {
      if (line.endsWith(' start')) started = true;
      return line.endsWith(' status') ? { stdout: started ? 'Stopped\n' : 'NonExistent\n' } : undefined;
    });
    await expect(installWindows(spec, deps(winsw), downloadedWinsw())).rejects.toThrow(
      new ServiceCommandError(
        `service trade-relay is installed and starts at boot, but the relay is not running; Windows retries after 5 s. See why: ${path.join(spec.home, 'trade-relay-service.err.log')} and ${path.join(spec.home, 'trade_relay.log')}`,
      ),
    );
  });

  it('explains access denied (exit 5): an administrator command prompt is needed', async () => {
    const winsw = fakeWinsw('NonExistent', { install: 5 });
    await expect(installWindows(spec, deps(winsw), downloadedWinsw())).rejects.toThrow(
      new ServiceCommandError(
        'trade-relay-service.exe install failed (exit 5) (access denied: open the command prompt with "Run as administrator"): install failed',
      ),
    );
  });

  it('refuses a definition it cannot write before touching anything', async () => {
    const winsw = fakeWinsw();
    await expect(installWindows({ ...spec, home: 'C:\\100%\\data' }, deps(winsw), downloadedWinsw())).rejects.toThrow(/holds a "%"/);
    expect(winsw.calls).toEqual([]);
    expect(fs.existsSync(temp.file('service'))).toBe(false);
  });
});

describe('uninstallWindows', () => {
  it('stops and unregisters the service, removes its XML; keeps WinSW and the data folder', async () => {
    await installWindows(spec, deps(fakeWinsw()), downloadedWinsw());
    out = [];
    const winsw = fakeWinsw('Started');
    await uninstallWindows(deps(winsw));
    expect(winsw.calls).toEqual([`${exe} status`, `${exe} stopwait`, `${exe} uninstall`]);
    expect(fs.existsSync(temp.file('service/trade-relay-service.xml'))).toBe(false);
    expect(fs.existsSync(exe)).toBe(true);
    expect(fs.existsSync(spec.home)).toBe(true);
    expect(out).toEqual(['service trade-relay stopped and removed; the data folder and its database are kept']);
  });

  it('says when there is nothing to remove', async () => {
    const winsw = fakeWinsw();
    await uninstallWindows(deps(winsw));
    expect(winsw.calls).toEqual([]);
    expect(out).toEqual(['service trade-relay is not installed']);
  });
});

describe('statusWindows', () => {
  it('running, with its data folder and logs; a different data folder is pointed out', async () => {
    await installWindows(spec, deps(fakeWinsw()), downloadedWinsw());
    out = [];
    expect(await statusWindows(spec.home, deps(fakeWinsw('Started')))).toEqual({ installed: true, running: true, enabled: true });
    expect(out.slice(0, 4)).toEqual([
      `service trade-relay: installed (${temp.file('service/trade-relay-service.xml')})`,
      'running: yes',
      'starts at boot: yes (Automatic)',
      `data folder: ${spec.home}`,
    ]);
    out = [];
    expect(await statusWindows(temp.file('other'), deps(fakeWinsw('Stopped')))).toEqual({ installed: true, running: false, enabled: true });
    expect(out[1]).toBe('running: no (Stopped)');
    expect(out[4]).toBe(`note: this command uses the data folder ${temp.file('other')}, the service ${spec.home}: they read different databases`);
  });

  it('not installed, with or without WinSW', async () => {
    expect(await statusWindows(spec.home, deps(fakeWinsw()))).toEqual({ installed: false, running: false, enabled: false });
    expect(out).toEqual(['service trade-relay: not installed; install it with: npx trade-relay service install']);
  });

  it('an answer it cannot read is an error, not a guess', async () => {
    downloadedWinsw();
    fs.mkdirSync(temp.file('service'));
    fs.copyFileSync(temp.file('WinSW-x64.exe'), exe);
    const winsw = commandRecorder(() => ({ code: 1, stdout: '', stderr: 'Unhandled exception: config not found' }));
    await expect(statusWindows(spec.home, deps(winsw))).rejects.toThrow(
      new ServiceCommandError('trade-relay-service.exe status failed (exit 1): Unhandled exception: config not found'),
    );
  });
});
