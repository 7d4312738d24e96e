import fs from 'node:fs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { startSimulator, type Simulator } from '../../../src/simulator/create-simulator.js';
import { type RunningRelay, startRelay } from '../../../src/start-relay.js';
import { lockId } from '../../../src/store/postgres/lock-id.js';
import { keyId } from '../../../src/store/rows.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { ADMIN_TOKEN, alertText, entry, USER_KEY } from '../../helpers/start-test-relay.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { makeTempDir } from '../../helpers/temp-dir.js';

// Issue 10: GET /health answers 503 when the database does not answer within its budget, so a load
// balancer takes the instance out; a database that hangs never makes TradingView wait past 3 s, and
// an alert that could not be decided is refused before anything is forwarded.

const PASSWORD = 'health-pw-secret';

describe('GET /health and alerts on PostgreSQL when the database hangs', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let sim: Simulator;
  let relay: RunningRelay;
  let logFile: string;
  const temp = makeTempDir('trade-relay-health-');
  afterAll(() => temp.cleanup());

  beforeEach(async () => {
    const created = await createTestDatabase();
    if (created === null) throw new Error('PostgreSQL does not answer');
    db = created;
    proxy = await startTcpProxy({ host: new URL(db.url).hostname, port: Number(new URL(db.url).port || 5432) });
    sim = await startSimulator({ keys: [USER_KEY] });
    const via = new URL(db.url);
    via.port = String(proxy.port);
    via.password = PASSWORD; // trust authentication ignores it; it must never be shown
    logFile = temp.file(`relay-${Date.now()}.log`);
    relay = await startRelay({
      ...loadConfig({}),
      port: 0,
      host: '127.0.0.1',
      databaseUrl: via.toString(),
      logFile,
      crosstradeApiUrl: sim.url,
      adminToken: ADMIN_TOKEN,
      rateLimitPerMin: 0,
      apiTimeoutMs: 400,
      forwardTimeoutMs: 600,
    });
    await relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: sim.webhookUrl(USER_KEY) });
  });
  afterEach(async () => {
    proxy.thaw();
    await relay.close();
    await sim.close();
    await proxy.close();
    await db.drop();
  });

  const health = async () => {
    const started = performance.now();
    const response = await fetch(`${relay.url}/health`);
    const text = await response.text();
    return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown>, ms: performance.now() - started };
  };
  const post = async (body: string) => {
    const started = performance.now();
    const response = await fetch(`${relay.url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    return { status: response.status, body: (await response.json()) as Record<string, unknown>, ms: performance.now() - started };
  };

  it('answers 503 quickly while the database hangs, refuses an alert in time with nothing forwarded, and recovers', async () => {
    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok' } });
    proxy.freeze();
    const [down, alert] = await Promise.all([health(), post(entry('A'))]);
    expect(down.status).toBe(503);
    expect(down.body).toEqual({ status: 'unavailable', reason: 'the database did not answer within 500 ms' });
    expect(down.ms).toBeLessThan(1000);
    for (const secret of [PASSWORD, String(proxy.port), db.name, 'postgres']) expect(down.text).not.toContain(secret);
    expect(alert.status).toBe(503);
    expect(alert.body).toEqual({ decision: 'blocked', signal_type: null, reason: 'database unavailable: nothing was forwarded, send again' });
    expect(alert.ms).toBeLessThan(3000);
    // An alert of an unknown user, and one while /health is asked again: the same bound.
    const [again, unknown] = await Promise.all([health(), post(entry('B').replace('relay_user=bob', 'relay_user=nobody'))]);
    expect(again.status).toBe(503);
    expect(unknown.status).toBe(503);
    expect(unknown.ms).toBeLessThan(3000);
    expect(sim.received).toEqual([]);

    proxy.thaw();
    const started = Date.now();
    while ((await health()).status !== 200) expect(Date.now() - started).toBeLessThan(5000);
    expect(await post(entry('A'))).toMatchObject({ status: 200, body: { decision: 'forwarded' } });
    expect(sim.positions('Sim101').map((p) => `${p.marketPosition} ${p.quantity}`)).toEqual(['Long 1']);
    const logged = fs.readFileSync(logFile, 'utf8');
    expect(logged).toContain('database unavailable');
    expect(logged).not.toContain(PASSWORD);
  });

  it('answers 200 at once while every pooled connection waits for keys another writer holds', async () => {
    const holder = await connectTo(db.url);
    try {
      const user = await relay.store.getUser('bob');
      const keys = Array.from({ length: 12 }, (_, i) => ({ accountGroup: user?.accountGroup ?? '', account: `Sim${i}`, instrumentKey: 'ES' }));
      await holder.query('BEGIN');
      for (const key of keys) await holder.query('SELECT pg_advisory_xact_lock($1)', [lockId('key', keyId(key))]);
      const alerts = keys.map((_, i) => post(alertText({ relayId: `S${i}`, prev: 'flat', now: 'long', account: `Sim${i}` })));
      await new Promise((resolve) => setTimeout(resolve, 150));
      const up = await health();
      expect(up.status).toBe(200);
      expect(up.ms).toBeLessThan(300);
      const answers = await Promise.all(alerts);
      // Each waited for its key (or, past the pool's 10, for a connection) within its budget and was refused with nothing sent.
      expect(answers.map((a) => [a.status, a.body.decision, a.ms < 3000])).toEqual(answers.map(() => [503, 'blocked', true]));
      expect(answers.filter((a) => a.body.reason === 'database busy: nothing was decided or forwarded').length).toBeGreaterThanOrEqual(8);
      expect(sim.received).toEqual([]);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });
});
