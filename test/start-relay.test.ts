import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';
import { readAdminTokenSource } from '../src/relay/admin-token.js';
import { INTERRUPTED_REASON, startRelay } from '../src/start-relay.js';
import { entry, startTestRig } from './helpers/start-test-relay.js';
import { makeTempDir } from './helpers/temp-dir.js';

describe('startRelay', () => {
  it('logs the database, the data folder, the admin-token source and what to change for TradingView, never the token', async () => {
    const temp = makeTempDir();
    const home = { dir: temp.dir, source: 'RELAY_HOME' as const };
    const config = { ...loadConfig({}, {}, { home }), port: 0, host: '0.0.0.0', adminToken: 'env-admin-token-0123456789' };
    const interfaces = { eth0: [{ address: '52.10.20.30', netmask: '255.255.255.0', family: 'IPv4' as const, mac: '', internal: false, cidr: null }] };
    const relay = await startRelay(config, {
      interfaces,
      adminTokenFrom: 'environment',
      settingsFile: { path: path.join(temp.dir, 'settings.env'), exists: false },
    });
    await relay.close();
    const text = fs.readFileSync(path.join(temp.dir, 'trade_relay.log'), 'utf8');
    temp.cleanup();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string; db?: string; home?: string; home_source?: string });
    expect(lines.find((l) => l.msg === 'relay listening')).toMatchObject({
      db: path.join(temp.dir, 'trade_relay.db'),
      home: temp.dir,
      home_source: 'RELAY_HOME',
    });
    const msgs = lines.map((l) => l.msg);
    expect(msgs).toContain(
      `data folder ${temp.dir} (set by RELAY_HOME); database ${path.join(temp.dir, 'trade_relay.db')}; settings file ${path.join(temp.dir, 'settings.env')} (none yet)`,
    );
    expect(msgs).toContain('admin token: RELAY_ADMIN_TOKEN from the environment (the token stored in the database is not accepted)');
    expect(msgs).toContain(
      `web console: http://127.0.0.1:${relay.port}/ on this machine, log in with the admin token (from another machine only over TLS, see README "Console")`,
    );
    const warning = lines.find((l) => l.msg.startsWith(`no TradingView URL on port ${relay.port}`));
    expect(warning?.level).toBe(40);
    expect(warning?.msg).toContain('TradingView only delivers webhooks to ports 80 and 443. Start with --port 80');
    expect(warning?.msg).toContain('then use http://52.10.20.30/webhook');
    expect(text).not.toContain('YOUR_VPS_IP');
    expect(text).not.toContain('env-admin-token-0123456789');
  });

  it('records which admin token a relay accepts, for `admin-token` run from another shell', async () => {
    const rig = await startTestRig();
    try {
      expect((await readAdminTokenSource(rig.relay.store))?.source).toBe('RELAY_ADMIN_TOKEN');
    } finally {
      await rig.close();
    }
  });

  it('closes forwards left pending as `unknown` at start, yet lets a relay still running on the same file settle its own order', async () => {
    const rig = await startTestRig();
    try {
      // CrossTrade takes the order and answers 0.3 s later; meanwhile a second relay starts on the same file.
      rig.sim.failWebhook({ kind: 'status', status: 200, apply: true, delayMs: 300, times: 1 });
      const pending = rig.post(entry('A'));
      while (rig.sim.received.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
      const second = await startRelay({ ...rig.config, logFile: `${rig.config.logFile}.second` });
      try {
        // The starting relay cannot tell a crashed forward from a running one: never `failed`, the outcome is unknown.
        expect((await second.store.listLogs({ limit: 5 })).map((l) => [l.decision, l.reason])).toEqual([['unknown', INTERRUPTED_REASON]]);
        expect((await second.store.listPositions()).map((p) => [p.relayId, p.doubt])).toEqual([['A', 'unknown-outcome']]);
        expect((await pending).body).toEqual({ decision: 'forwarded', signal_type: 'entry', reason: 'entry: nobody owns the position' });
        await new Promise((resolve) => setImmediate(resolve)); // the outcome is written just after the answer
        expect((await rig.relay.store.listLogs({ limit: 5 })).map((l) => l.decision)).toEqual(['forwarded']);
        expect((await rig.relay.store.listPositions()).map((p) => [p.relayId, p.doubt])).toEqual([['A', null]]);
      } finally {
        await second.close();
      }
      expect(fs.readFileSync(`${rig.config.logFile}.second`, 'utf8')).toContain('their outcome is unknown (logged as unknown)');
      expect(rig.book()).toEqual(['Long 1']);
    } finally {
      await rig.close();
    }
  });
});
