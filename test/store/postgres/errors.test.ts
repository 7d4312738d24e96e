import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStore, type PostgresStoreOptions } from '../../../src/store/postgres/create-postgres-store.js';
import { lockId } from '../../../src/store/postgres/lock-id.js';
import { keyId } from '../../../src/store/rows.js';
import { type AlertIdentity, isStoreBusyError, isStoreUnavailableError, type Store, StoreBusyError, StoreUnavailableError } from '../../../src/store/store.js';
import { closedPort } from '../../helpers/closed-port.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { startSilentServer, startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';
import { A, B, emptyTables, GROUP, identity, key, log, look, mark, raw, record, T0, viewOf, write, writing } from './fixtures.js';

// What a store call does when the database is busy, slow, hanging or gone: it fails within its
// budget (TradingView gives up after 3 s) with the store's own error, never a PostgreSQL code,
// and never shows the database password.

const PASSWORD = 's3cret-pw';
let db: TestDatabase;
let store: Store | null;
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
  store = null;
  errors = [];
  await (await createPostgresStore(db.url)).close(); // migrated before the test takes its time
  await emptyTables(db.url);
});
afterEach(async () => {
  await store?.close();
});

/** The test database's URL with a password (trust authentication ignores it) and another port. */
function urlWith(port: number): string {
  const url = new URL(db.url);
  url.password = PASSWORD;
  url.port = String(port);
  return url.toString();
}

const open = async (url: string, options: PostgresStoreOptions = {}) => {
  store = await createPostgresStore(url, { now: () => T0, onBackgroundError: (error) => errors.push(error), ...options });
  return store;
};

/** How long `promise` takes to settle (ms), and its error. */
/**
 * Puts the key in flight with a `pending` row through a `decide` that holds the event loop 400 ms,
 * past a 300 ms call budget: the write and the COMMIT go out at once after it, the call's timer
 * fires before their answer, so the caller hears "unavailable" (and sends nothing) while the
 * server commits. The store then closes what it left, once it can. Answers the call's error.
 */
async function decideUnseen(s: Store, id: AlertIdentity | null): Promise<unknown> {
  const slow = writing([write(record(A, 'in-flight'))], { seen: id !== null, log: log({ decision: 'pending' }) });
  const decide: typeof slow = (views, earlier) => {
    const until = Date.now() + 400;
    while (Date.now() < until);
    return slow(views, earlier);
  };
  return (await timed(s.arbitrate([key], A, decide, id))).error;
}

/** Waits until the signal log has rows and none is `pending`, in one read per look (the row may land between two). */
async function untilSettled(): Promise<void> {
  for (;;) {
    const [row] = await raw<{ open: number; all: number }>(
      db.url,
      "SELECT count(*) FILTER (WHERE decision = 'pending')::int AS open, count(*)::int AS all FROM signal_log",
    );
    if (row !== undefined && row.all > 0 && row.open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await promise;
    return { ms: Date.now() - started, error: null };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

/** Everything an error shows anywhere: message, cause, stack, JSON. */
const everything = (error: unknown) => `${String(error)} ${inspect(error, { depth: 10 })} ${JSON.stringify(error)}`;

describe('PostgreSQL store errors', () => {
  it('fails with StoreBusyError, deciding nothing, while another writer holds the key past the lock wait', async () => {
    const s = await open(db.url, { lockTimeoutMs: 100, busyRetries: 2 });
    const holder = await connectTo(db.url);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [lockId('key', keyId(key))]);
      let decided = false;
      const { ms, error } = await timed(
        s.arbitrate(
          [key],
          A,
          () => {
            decided = true;
            return { value: null, writes: [null], seen: false, log: null };
          },
          null,
        ),
      );
      expect(error).toBeInstanceOf(StoreBusyError);
      expect(isStoreBusyError(error)).toBe(true);
      expect((error as Error).message).toBe('database busy: another process holds the write lock');
      expect((error as { code?: unknown }).code).toBeUndefined();
      expect(((error as Error).cause as { code?: string }).code).toBe('55P03');
      expect(decided).toBe(false);
      // three waits of 100 ms (the first and two retries), well within the call's budget
      expect(ms).toBeGreaterThanOrEqual(290);
      expect(ms).toBeLessThan(1200);
      await holder.query('COMMIT');
      await s.arbitrate([key], A, writing([write(record(A))]), null);
      expect((await viewOf(s)).record).toEqual(record(A));
    } finally {
      await holder.end();
    }
  });

  it('is busy, not stuck, while a user’s account group is held whole (a key change in progress elsewhere)', async () => {
    const s = await open(db.url, { lockTimeoutMs: 100, busyRetries: 0 });
    const holder = await connectTo(db.url);
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [lockId('group', GROUP)]);
      await expect(s.arbitrate([key], A, writing([null]), null)).rejects.toThrow(StoreBusyError);
      await holder.query('ROLLBACK');
      await expect(s.arbitrate([key], A, writing([null]), null)).resolves.toMatchObject({ versions: [null] });
    } finally {
      await holder.end();
    }
  });

  it('fails with StoreUnavailableError when a statement runs past statement_timeout (pg_sleep), and goes on', async () => {
    const s = await open(db.url, { statementTimeoutMs: 200 });
    const admin = await connectTo(db.url);
    try {
      await admin.query(`
        CREATE FUNCTION slow_setting() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$;
        CREATE TRIGGER slow_setting BEFORE INSERT ON settings FOR EACH ROW EXECUTE FUNCTION slow_setting();`);
      const { ms, error } = await timed(s.setSetting('admin_token', 'x'));
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(isStoreUnavailableError(error)).toBe(true);
      expect((error as Error).message).toBe('database unavailable: a statement ran past its timeout');
      expect(((error as Error).cause as { code?: string }).code).toBe('57014');
      expect(ms).toBeLessThan(1000);
      expect(await s.getSetting('admin_token')).toBeNull();
    } finally {
      await admin.query('DROP TRIGGER slow_setting ON settings; DROP FUNCTION slow_setting()');
      await admin.end();
    }
  });

  it('gives the resend of an alert decided unseen its second chance: nothing was sent, so it is not a duplicate', async () => {
    const s = await open(db.url, { callTimeoutMs: 300, retryMs: 20 });
    const id = identity('exit-fingerprint');
    expect(isStoreUnavailableError(await decideUnseen(s, id))).toBe(true);
    await untilSettled();
    // TradingView's resend 5 s later: the earlier copy reads as refused (answered 5xx), so it is decided again.
    expect((await look(s, [key], A, id)).earlier).toEqual({ at: expect.any(Number), refused: true });
    expect(errors).toEqual([]);
  });

  it('closes a decision that committed after its call ran out of budget: its row blocked, its key of unknown outcome', async () => {
    const s = await open(db.url, { callTimeoutMs: 300, retryMs: 20 });
    expect(isStoreUnavailableError(await decideUnseen(s, null))).toBe(true);
    await untilSettled();
    expect(await raw(db.url, 'SELECT decision, reason FROM signal_log')).toEqual([
      {
        decision: 'blocked',
        reason: 'database unavailable: decided after the database call had given up; the alert was refused (503) and nothing was sent',
      },
    ]);
    expect(await raw(db.url, 'SELECT doubt, in_flight_instance FROM key_records')).toEqual([{ doubt: 'unknown-outcome', in_flight_instance: null }]);
    expect(errors).toEqual([]);
  });

  it('refuses to open on a port nobody listens on, fast, as unavailable, the password masked', async () => {
    const port = await closedPort();
    const { ms, error } = await timed(open(urlWith(port)));
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toBe(`database unavailable: postgres://postgres:***@127.0.0.1:${port}/${db.name}: connection refused`);
    expect(everything(error)).not.toContain(PASSWORD);
    expect(ms).toBeLessThan(1500);
  });

  it('refuses a database URL it cannot read without repeating it', async () => {
    for (const url of [`postgres://postgres:${PASSWORD}@[::1/x`, `mysql://postgres:${PASSWORD}@127.0.0.1/x`, `host=127.0.0.1 password=${PASSWORD}`]) {
      const { error } = await timed(open(url));
      expect((error as Error).message).toBe('the database URL is not a PostgreSQL URL: expected postgres://user:password@host:5432/database');
      expect(everything(error)).not.toContain(PASSWORD);
    }
  });

  it('gives up opening on a server that accepts and never answers, within the connection timeout', async () => {
    const silent = await startSilentServer();
    try {
      const { ms, error } = await timed(open(urlWith(silent.port)));
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect((error as Error).message).toBe(
        `database unavailable: postgres://postgres:***@127.0.0.1:${silent.port}/${db.name}: no answer to the connection in time`,
      );
      expect(everything(error)).not.toContain(PASSWORD);
      expect(ms).toBeLessThan(1500);
    } finally {
      await silent.close();
    }
  });

  describe('a database that stops answering while the relay runs', () => {
    let proxy: TcpProxy;
    beforeEach(async () => {
      proxy = await startTcpProxy({ host: new URL(db.url).hostname, port: Number(new URL(db.url).port || 5432) });
    });
    afterEach(async () => {
      proxy.thaw();
      await store?.close();
      store = null;
      await proxy.close();
    });

    it('fails every call within its budget, says so on ping, keeps outcomes queued, and recovers when it answers again', async () => {
      const s = await open(urlWith(proxy.port), { retryMs: 100 });
      const sent = await s.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
      proxy.freeze();

      const arbitration = await timed(s.arbitrate([key], B, writing([write(record(B))]), null));
      expect(arbitration.error).toBeInstanceOf(StoreUnavailableError);
      expect((arbitration.error as Error).message).toBe('database unavailable: no answer within 1200 ms');
      expect(arbitration.ms).toBeGreaterThanOrEqual(1150);
      expect(arbitration.ms).toBeLessThan(1700);
      const read = await timed(s.getUser('bob'));
      expect(read.error).toBeInstanceOf(StoreUnavailableError);
      expect(read.ms).toBeLessThan(1700);
      const ping = await timed(s.ping(300));
      expect(ping).toEqual({ ms: expect.any(Number), error: null });
      expect(await s.ping(300)).toBe(false);
      expect(ping.ms).toBeLessThan(600);

      // An outcome that arrives meanwhile is kept and retried, its failures reported without the password.
      s.settle({
        keys: [{ key, version: sent.versions[0]!, write: write(record(A), [mark(A, false)]) }],
        log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'delivered', upstreamStatus: 200, latencyMs: 9 } },
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) {
        expect(error).toBeInstanceOf(StoreUnavailableError);
        expect(everything(error)).not.toContain(PASSWORD);
      }

      proxy.thaw();
      await s.flush();
      expect(await raw(db.url, 'SELECT owner_id, doubt FROM key_records')).toEqual([{ owner_id: 'A', doubt: null }]);
      expect(await raw(db.url, 'SELECT decision, upstream_status FROM signal_log')).toEqual([{ decision: 'forwarded', upstream_status: 200 }]);
      expect(await s.ping(1000)).toBe(true);
      await s.arbitrate([key], B, writing([null]), null);
    });

    it('fails fast as unavailable once the server is gone, and flush and close give up within their time', async () => {
      const s = await open(urlWith(proxy.port), { flushTimeoutMs: 400, retryMs: 50 });
      await s.saveUser({ relayUser: 'bob', crosstradeKey: 'key-of-bob-1', webhookUrl: 'https://x.test/b' });
      await proxy.close();
      const { ms, error } = await timed(s.getUser('bob'));
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(['database unavailable: connection refused', 'database unavailable: the connection was lost']).toContain((error as Error).message);
      expect(everything(error)).not.toContain(PASSWORD);
      expect(ms).toBeLessThan(1000);

      s.recordRefusal({ keys: [key], marks: [], record: null, identity: null, log: log({ decision: 'blocked' }) });
      const flush = await timed(s.flush());
      expect(flush.error).toBeInstanceOf(StoreUnavailableError);
      expect(flush.ms).toBeLessThan(1500);
      errors.length = 0;
      const closing = await timed(s.close());
      expect(closing.ms).toBeLessThan(2500);
      expect(errors.map((e) => (e as Error).message)).toEqual([
        expect.stringMatching(/^1 alert outcome\(s\) could not be written before closing: database unavailable: /),
      ]);
      expect(everything(errors[0])).not.toContain(PASSWORD);
    });
  });

  describe('a queued outcome that can never be written', () => {
    it('is reported and given up, and neither later outcomes nor the next decision are held back', async () => {
      const s = await open(db.url);
      const other = { ...key, account: 'Sim102' };
      const sent = await s.arbitrate([key, other], A, writing([write(record(A, 'in-flight')), write(record(A, 'in-flight'))], { log: log() }), null);
      const refusalLog = log({ relayId: 'B', decision: 'blocked', reason: 'database busy' });
      // a record function that throws, and an outcome the database refuses (a status that is no integer)
      s.recordRefusal({
        keys: [key],
        marks: [],
        record: () => {
          throw new Error('bad record');
        },
        identity: null,
        log: refusalLog,
      });
      s.settle({ keys: [], log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'delivered', upstreamStatus: 200.5, latencyMs: 1 } } });
      s.settle({ keys: [{ key: other, version: sent.versions[1]!, write: write(record(A)) }], log: null });
      s.recordRefusal({ keys: [key], marks: [mark(B, true)], record: null, identity: null, log: refusalLog });
      // The next decision applies what it can first, and is not refused for the rest.
      const decided = await s.arbitrate(
        [key, other],
        B,
        (views) => ({ value: views.map((v) => v.record), writes: [null, null], seen: false, log: null }),
        null,
      );
      expect(decided.value).toEqual([record(A, 'in-flight'), record(A)]);
      await s.flush();
      expect((await viewOf(s, other)).record).toEqual(record(A));
      expect((await viewOf(s, key, B)).sender.holdsNothing).toBe(true);
      expect(await s.countLogs({})).toEqual({ pending: 1, blocked: 1 });
      expect(errors.map((e) => (e as Error).message)).toEqual(['bad record', expect.stringContaining('invalid input syntax for type integer')]);
    });
  });
});
