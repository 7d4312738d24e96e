import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServiceDefinitionError, type ServiceSpec } from '../../src/service/service-spec.js';
import { renderSystemdUnit, unitHome } from '../../src/service/systemd-unit.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { installedSystemdVersion, verifyUnit } from './systemd-verify.js';

const SPEC: ServiceSpec = {
  nodePath: '/usr/bin/node',
  installDir: '/opt/trade-relay',
  scriptPath: '/opt/trade-relay/bin/trade-relay.js',
  home: '/opt/trade-relay/data',
  user: 'alice',
};

/** The value of each `Key=` line (repeated keys in order). */
function settings(unit: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of unit.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) out[match[1] as string] = [...(out[match[1] as string] ?? []), match[2] as string];
  }
  return out;
}

describe('renderSystemdUnit', () => {
  it("runs node on the install folder's launcher with the data folder pinned, as the given user", () => {
    const s = settings(renderSystemdUnit(SPEC));
    expect(s.ExecStart).toEqual(['"/usr/bin/node" "/opt/trade-relay/bin/trade-relay.js" "start"']);
    expect(s.Environment).toEqual(['"RELAY_HOME=/opt/trade-relay/data"']);
    expect(s.WorkingDirectory).toEqual(['/opt/trade-relay']);
    expect(s.User).toEqual(['alice']);
  });

  it('starts at boot after the network, restarts with a delay and never gives up, and gives SIGTERM time', () => {
    const s = settings(renderSystemdUnit(SPEC));
    expect(s.WantedBy).toEqual(['multi-user.target']);
    expect(s.After).toEqual(['network-online.target']);
    expect(s.Wants).toEqual(['network-online.target']);
    expect(s.Restart).toEqual(['always']);
    expect(s.RestartSec).toEqual(['5s']);
    expect(s.StartLimitIntervalSec).toEqual(['0']);
    expect(s.TimeoutStopSec).toEqual(['30s']);
    expect(s.KillSignal).toBeUndefined(); // SIGTERM, systemd's default: the relay closes cleanly on it
  });

  it('lets an ordinary user bind port 80 and nothing more; as root it needs neither', () => {
    const user = settings(renderSystemdUnit(SPEC));
    expect(user.AmbientCapabilities).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(user.CapabilityBoundingSet).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(user.NoNewPrivileges).toEqual(['true']);
    for (const root of [
      { ...SPEC, user: 'root' },
      { ...SPEC, user: undefined },
    ]) {
      const s = settings(renderSystemdUnit(root));
      expect(s.User).toBeUndefined();
      expect(s.AmbientCapabilities).toBeUndefined();
    }
  });

  it('backs off up to 5 minutes on systemd 254 and later, which know RestartSteps', () => {
    expect(settings(renderSystemdUnit(SPEC, { systemdVersion: 252 })).RestartSteps).toBeUndefined();
    const s = settings(renderSystemdUnit(SPEC, { systemdVersion: 254 }));
    expect(s.RestartSteps).toEqual(['10']);
    expect(s.RestartMaxDelaySec).toEqual(['5min']);
  });

  it('escapes spaces, quotes, backslashes, % and $ in paths', () => {
    const dir = '/srv/my "relay" 100% $HOME\\x\'s';
    const s = settings(renderSystemdUnit({ ...SPEC, installDir: dir, scriptPath: `${dir}/bin/trade-relay.js`, home: `${dir}/data` }));
    expect(s.ExecStart).toEqual(['"/usr/bin/node" "/srv/my \\"relay\\" 100%% $$HOME\\\\x\'s/bin/trade-relay.js" "start"']);
    expect(s.Environment).toEqual(['"RELAY_HOME=/srv/my \\"relay\\" 100%% $HOME\\\\x\'s/data"']);
    expect(s.WorkingDirectory).toEqual(['/srv/my "relay" 100%% $HOME\\x\'s']);
  });

  it('gives back the data folder it pinned, whatever its characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), (name) => {
        fc.pre(!/[\u0000-\u001f\u007f]/.test(name));
        const home = `/data/${name}`;
        expect(unitHome(renderSystemdUnit({ ...SPEC, home }))).toBe(home);
      }),
    );
    expect(unitHome('[Service]\nExecStart=/bin/true\n')).toBeUndefined();
  });

  it('refuses what a unit file cannot hold, saying which path and why', () => {
    const refusals: [Partial<ServiceSpec>, string][] = [
      [{ home: '/data/a\nExecStartPre=/bin/rm' }, 'the data folder path holds a control character (a line break?): "/data/a\\nExecStartPre=/bin/rm"'],
      [{ scriptPath: '/opt/x\r/bin/trade-relay.js' }, 'the program path holds a control character (a line break?): "/opt/x\\r/bin/trade-relay.js"'],
      [{ installDir: '/opt/relay\\' }, 'the install folder path ends with a backslash, which a unit file reads as a line continuation: /opt/relay\\'],
      [{ installDir: '/opt/relay ' }, 'the install folder path starts or ends with a space, which a unit file drops: "/opt/relay "'],
      [
        { nodePath: "/opt/node's/bin/node" },
        "systemd cannot run a program whose path holds a quote or a backslash: /opt/node's/bin/node; install Node.js in another folder",
      ],
      [
        { nodePath: 'C:\\node\\node.exe' },
        'systemd cannot run a program whose path holds a quote or a backslash: C:\\node\\node.exe; install Node.js in another folder',
      ],
      [{ user: 'alice smith' }, '"alice smith" is not a user name systemd accepts (letters, digits, _ . -)'],
      [{ user: 'a\nb' }, '"a\nb" is not a user name systemd accepts (letters, digits, _ . -)'],
    ];
    for (const [change, message] of refusals) {
      expect(() => renderSystemdUnit({ ...SPEC, ...change })).toThrow(new ServiceDefinitionError(message));
    }
  });
});

describe('systemd-analyze verify', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir('trade-relay-unit-');
  });
  afterEach(() => temp.cleanup());

  /** An install folder named `name` holding a node to run (systemd checks the program exists). */
  function installAt(name: string): ServiceSpec {
    const dir = path.join(temp.dir, name);
    fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
    return {
      ...SPEC,
      installDir: dir,
      scriptPath: path.join(dir, 'bin', 'trade-relay.js'),
      home: path.join(dir, 'data'),
      nodePath: process.execPath,
      user: 'daemon',
    };
  }

  it('accepts the unit, for plain paths and for paths with spaces, quotes, backslashes, % and $', () => {
    const version = installedSystemdVersion();
    for (const name of ['relay', 'Trade Relay', 'a "b" c', "it's", 'back\\slash', '100%', '$HOME $' + '{X}', 'semi;colon']) {
      expect(verifyUnit(renderSystemdUnit(installAt(name), { systemdVersion: version }), temp.dir), name).toEqual({ code: 0, output: '' });
    }
  });

  it('accepts a node binary in a folder with a space, % and $ (as systemd reads the program path)', () => {
    const spec = installAt('node home');
    const dir = path.join(temp.dir, 'node 100% $dir');
    fs.mkdirSync(dir);
    fs.symlinkSync(process.execPath, path.join(dir, 'node'));
    expect(verifyUnit(renderSystemdUnit({ ...spec, nodePath: path.join(dir, 'node') }), temp.dir)).toEqual({ code: 0, output: '' });
  });

  it('is a real check: it fails an ExecStart whose path with a space is not quoted', () => {
    const spec = installAt('node home');
    const dir = path.join(temp.dir, 'node dir');
    fs.mkdirSync(dir);
    fs.symlinkSync(process.execPath, path.join(dir, 'node'));
    const unit = renderSystemdUnit(spec).replace(/^ExecStart=.*$/m, `ExecStart=${dir}/node start`);
    const result = verifyUnit(unit, temp.dir);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('is not executable');
  });
});
