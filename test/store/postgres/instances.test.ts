import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStoreOptions } from '../../../src/store/postgres/create-postgres-store.js';
import type { InstanceRecord, PositionKey, StoppedInstances, Store } from '../../../src/store/store.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { A, emptyTables, GROUP, key, log, raw, record, T0, viewOf, write, writing } from './fixtures.js';

// Several instances on one database (issue 10): each registers and heartbeats; what an instance
// that stopped left unfinished (a signal-log row `pending`, a key in flight) is closed by the
// survivors within the instance timeout plus one heartbeat, without it restarting.

let db: TestDatabase;
let opened: Store[];
let errors: unknown[];

beforeAll(async () => {
  const created = await createTestDatabase();
  if (created === null) throw new Error('PostgreSQL does not answer');
  db = created;
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  opened = [];
  errors = [];
  await (await createPostgresStore(db.url)).close();
  await emptyTables(db.url);
  await raw(db.url, 'DELETE FROM relay_instances');
});
afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
});

const open = async (options: PostgresStoreOptions = {}, url = db.url) => {
  const store = await createPostgresStore(url, { now: () => T0, onBackgroundError: (error) => errors.push(error), ...options });
  opened.push(store);
  return store;
};

/** A survivor that sweeps: fast heartbeats, a short timeout, what it closed kept. */
const survivor = async (closed: StoppedInstances[], options: PostgresStoreOptions = {}, url = db.url) =>
  open(
    {
      heartbeatMs: 100,
      instanceTimeoutMs: 600,
      sweep: { reason: reasonOf, onClosed: (c) => closed.push(c) },
      ...options,
    },
    url,
  );

const reasonOf = (instance: InstanceRecord | null) =>
  instance === null ? 'stopped: unknown instance' : `stopped: ${instance.host} pid ${instance.pid} id ${instance.id}`;

/** An instance that stopped beating: it beats once a minute, and its last beat is made `ms` old. */
const silence = (store: Store, ms = 60_000) => raw(db.url, 'UPDATE relay_instances SET last_seen = last_seen - $2 WHERE id = $1', [store.instance.id, ms]);

const instanceRows = () =>
  raw<{ id: number; host: string; pid: number; last_seen: number }>(
    db.url,
    'SELECT id::float8 AS id, host, pid, last_seen::float8 AS last_seen FROM relay_instances ORDER BY id',
  );

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - started;
}

describe('PostgreSQL instances', () => {
  it('registers at open with its host and pid, heartbeats, and removes itself at close', async () => {
    const store = await open({ heartbeatMs: 100 });
    const [registered] = await instanceRows();
    expect(registered).toMatchObject({ id: store.instance.id, host: store.instance.host, pid: process.pid });
    await until(async () => ((await instanceRows())[0]?.last_seen ?? 0) > (registered?.last_seen ?? 0), 1000);
    expect((await store.listInstances()).map((i) => i.id)).toEqual([store.instance.id]);
    await store.close();
    expect(await instanceRows()).toEqual([]);
  });

  it('closes a stopped instance’s forwards within the timeout plus one heartbeat, naming it, without it restarting', async () => {
    const closed: StoppedInstances[] = [];
    const other: PositionKey = { ...key, account: 'Sim102' };
    // The survivor has been up for the timeout (its own heartbeats answered all along).
    const sweeper = await survivor(closed);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const victim = await open({ heartbeatMs: 60_000 });
    const sent = await victim.arbitrate([key, other], A, writing([write(record(A, 'in-flight')), write(record(A))], { log: log() }), null);
    await victim.appendLog(log({ decision: 'forwarded' }));
    const stopped = (await sweeper.listInstances()).find((i) => i.id === victim.instance.id);
    const lastBeat = stopped?.lastSeen ?? 0;
    await until(async () => (await viewOf(sweeper)).record.doubt?.kind === 'unknown-outcome', 3000);
    // Its last heartbeat was at open: never swept before the timeout (600 ms) ran out. The bound
    // (timeout plus one heartbeat) is the survivor's schedule; `until` waits generously for it, as
    // a loaded machine can delay a sweep without it being wrong.
    expect(Date.now() - lastBeat).toBeGreaterThanOrEqual(600);
    expect(closed).toEqual([{ instances: [{ ...victim.instance, lastSeen: lastBeat }], logs: 1, keys: 1 }]);
    expect((await sweeper.listLogs({ limit: 10 })).map((l) => [l.id, l.decision, l.reason])).toEqual([
      [expect.any(Number), 'forwarded', 'entry: nobody owns the position'],
      [sent.logId, 'unknown', reasonOf({ ...victim.instance, lastSeen: lastBeat })],
    ]);
    const views = await Promise.all([key, other].map((k) => viewOf(sweeper, k)));
    expect(views.map((v) => v.record)).toEqual([record(A, 'unknown-outcome'), record(A)]);
    expect(views.map((v) => v.version)).toEqual(sent.versions);
    expect((await instanceRows()).map((r) => r.id)).toEqual([sweeper.instance.id]);
  });

  it('closes every row once when two survivors sweep at once', async () => {
    const victim = await open({ heartbeatMs: 60_000 });
    const keys = Array.from({ length: 20 }, (_, i): PositionKey => ({ accountGroup: `${GROUP}-${i % 5}`, account: `Sim${i}`, instrumentKey: 'ES' }));
    for (const k of keys) await victim.arbitrate([k], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
    const [first, second] = [await open(), await open()];
    await silence(victim);
    const results = await Promise.all([first, second].map((s) => (s as Store).closeStoppedInstances(reasonOf)));
    expect(results.map((r) => r.logs).reduce((a, b) => a + b)).toBe(20);
    expect(results.map((r) => r.keys).reduce((a, b) => a + b)).toBe(20);
    expect(results.flatMap((r) => r.instances.map((i) => i.id))).toEqual([victim.instance.id]);
    expect(await raw(db.url, "SELECT count(*)::int AS n FROM signal_log WHERE decision = 'unknown'")).toEqual([{ n: 20 }]);
    expect(await raw(db.url, "SELECT count(*)::int AS n FROM key_records WHERE doubt = 'unknown-outcome' AND in_flight_instance IS NULL")).toEqual([{ n: 20 }]);
  });

  it('closes rows no instance owns (written before instances, or by an instance that closed with work left) and leaves live ones’', async () => {
    const live = await open();
    await live.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
    const gone = await open();
    const nq: PositionKey = { ...key, instrumentKey: 'NQ' };
    await gone.arbitrate([nq], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
    await gone.close();
    await raw(db.url, "INSERT INTO signal_log (time, decision, reason, alert) VALUES (1, 'pending', 'old', '')");
    expect(await live.closeStoppedInstances(reasonOf)).toEqual({ instances: [], logs: 2, keys: 1 });
    expect(await raw(db.url, 'SELECT decision, reason FROM signal_log ORDER BY id')).toEqual([
      { decision: 'pending', reason: 'entry: nobody owns the position' },
      { decision: 'unknown', reason: 'stopped: unknown instance' },
      { decision: 'unknown', reason: 'stopped: unknown instance' },
    ]);
    expect((await viewOf(live)).record).toEqual(record(A, 'in-flight'));
    expect((await viewOf(live, nq)).record).toEqual(record(A, 'unknown-outcome'));
  });

  it('keeps whose order is in flight when another instance rewrites the record with the same doubt; a new order is the new sender’s', async () => {
    const first = await open({ heartbeatMs: 60_000 });
    const second = await open();
    const nq: PositionKey = { ...key, instrumentKey: 'NQ' };
    await first.arbitrate([key, nq], A, writing([write(record(A, 'in-flight')), write(record(A, 'in-flight'))]), null);
    // The same doubt (same since) on ES, its owner's direction changed; a new order in flight on NQ.
    const flipped = { ...record(A, 'in-flight'), owner: { ...record(A).owner!, direction: 'short' as const } };
    await second.arbitrate([key, nq], A, writing([write(flipped), write({ owner: record(A).owner, doubt: { kind: 'in-flight', since: T0 + 1 } })]), null);
    expect(await raw(db.url, 'SELECT instrument_key, in_flight_instance FROM key_records ORDER BY instrument_key')).toEqual([
      { instrument_key: 'ES', in_flight_instance: String(first.instance.id) },
      { instrument_key: 'NQ', in_flight_instance: String(second.instance.id) },
    ]);
    await silence(first);
    expect(await second.closeStoppedInstances(reasonOf)).toMatchObject({ logs: 0, keys: 1 });
    expect((await viewOf(second, nq)).record.doubt?.kind).toBe('in-flight');
  });

  it('registers again when another instance took it for stopped, and says so', async () => {
    let told = 0;
    const store = await open({ heartbeatMs: 100, onPresumedStopped: () => told++ });
    await raw(db.url, 'DELETE FROM relay_instances WHERE id = $1', [store.instance.id]);
    await until(async () => told === 1, 1000);
    expect((await instanceRows()).map((r) => r.id)).toEqual([store.instance.id]);
  });

  describe('after the database itself was away', () => {
    let proxy: TcpProxy;
    beforeEach(async () => {
      proxy = await startTcpProxy({ host: new URL(db.url).hostname, port: Number(new URL(db.url).port || 5432) });
    });
    afterEach(async () => {
      proxy.thaw();
      await Promise.all(opened.map((store) => store.close()));
      opened = [];
      await proxy.close();
    });

    it('judges no instance until its own heartbeats were answered for the whole timeout again', async () => {
      const via = new URL(db.url);
      via.port = String(proxy.port);
      const closed: StoppedInstances[] = [];
      const heartbeatErrors: unknown[] = [];
      // It beats less often than the sweeper: after the outage the sweeper is back first.
      const other = await open({ heartbeatMs: 300, onHeartbeatError: (e) => heartbeatErrors.push(e) }, via.toString());
      await other.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      await survivor(closed, { onHeartbeatError: (e) => heartbeatErrors.push(e) }, via.toString());
      await new Promise((resolve) => setTimeout(resolve, 700));
      proxy.freeze();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // What was sent meanwhile never arrives (a database that restarted): only new heartbeats count.
      proxy.drop();
      proxy.thaw();
      // Both are silent past the timeout when the database answers again; whichever beats first must not judge the other.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      expect(closed).toEqual([]);
      expect(await raw(db.url, 'SELECT doubt FROM key_records')).toEqual([{ doubt: 'in-flight' }]);
      expect(await raw(db.url, 'SELECT decision FROM signal_log')).toEqual([{ decision: 'pending' }]);
      // One report per instance and outage, not one per beat.
      expect(heartbeatErrors.length).toBe(2);
      expect(String(heartbeatErrors[0])).toMatch(/^StoreUnavailableError: database unavailable/);
    });
  });
});
