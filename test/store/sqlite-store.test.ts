// What only the SQLite store does: its file, WAL and fsync durability, the write lock another
// process holds, and SQLite's failures as the store's errors. Everything the contract says is
// tested for every implementation by the contract suite (sqlite.contract.test.ts).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/create-sqlite-store.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { isStoreBusyError, type Store, StoreBusyError } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { A, B, identity, key, log, look, mark, record, T0, write, writing } from './contract/fixtures.js';

describe('SQLite store', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  const open = (options: SqliteStoreOptions = {}) => createSqliteStore(temp.file('relay.db'), { now: () => T0, ...options });
  beforeEach(() => {
    temp = makeTempDir();
    store = open();
  });
  afterEach(async () => {
    await store.close();
    temp.cleanup();
  });

  it('creates the database with its schema version, in WAL mode, readable by its owner only', () => {
    expect(store.kind).toBe('sqlite');
    const db = new Database(temp.file('relay.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(MIGRATIONS).toHaveLength(7);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    if (process.platform !== 'win32') expect(fs.statSync(temp.file('relay.db')).mode & 0o777).toBe(0o600);
  });

  it('refuses a database written by a newer relay', async () => {
    await store.close();
    const db = new Database(temp.file('relay.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => open()).toThrow(`database schema version ${MIGRATIONS.length + 1} is newer than this relay understands`);
  });

  it('rolls back the queued writes an arbitration drained when its decision throws: they stay queued', async () => {
    const first = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
    store.settle({
      keys: [{ key, version: first.versions[0]!, write: write(record(A)) }],
      log: { id: first.logId!, outcome: { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 3 } },
    });
    const thrown = store.arbitrate(
      [key],
      A,
      () => {
        throw new Error('boom');
      },
      null,
    );
    // Read past the store before its background write runs (the next turn): the file still holds what was there before.
    const db = new Database(temp.file('relay.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT owner_id, doubt FROM key_records').all()).toEqual([{ owner_id: 'A', doubt: 'in-flight' }]);
      expect(db.prepare('SELECT decision FROM signal_log').all()).toEqual([{ decision: 'pending' }]);
    } finally {
      db.close();
    }
    await expect(thrown).rejects.toThrow('boom');
    await store.flush();
    expect(await store.listPositions()).toMatchObject([{ relayId: 'A', doubt: null }]);
  });

  describe('sync (durability)', () => {
    it('power-cut (default): commits without an fsync each, and sync() fsyncs the WAL once for every caller waiting meanwhile', async () => {
      const calls: number[] = [];
      const real = fs.fdatasync;
      const spy = vi.spyOn(fs, 'fdatasync').mockImplementation(((fd: number, done: (error: Error | null) => void) => {
        calls.push(fd);
        setTimeout(() => real(fd, done), 20);
      }) as typeof fs.fdatasync);
      try {
        await store.arbitrate([key], A, writing([write(record(A))]), null);
        const first = store.sync();
        // Committed while the first fsync runs: these need one that starts after them, shared.
        await store.arbitrate([key], B, writing([write(record(B))]), null);
        const waiting = Array.from({ length: 10 }, () => store.sync());
        await Promise.all([first, ...waiting]);
        expect(calls).toHaveLength(2);
        await store.sync();
        expect(calls).toHaveLength(3);
      } finally {
        spy.mockRestore();
      }
    });

    it('rejects when the fsync fails, and the next sync tries again', async () => {
      const spy = vi.spyOn(fs, 'fdatasync').mockImplementationOnce(((_fd: number, done: (error: Error | null) => void) => {
        done(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
      }) as typeof fs.fdatasync);
      try {
        await expect(store.sync()).rejects.toThrow(/EIO/);
        await expect(store.sync()).resolves.toBeUndefined();
      } finally {
        spy.mockRestore();
      }
    });

    it.each([
      ['full', 0],
      ['crash', 0],
      ['power-cut', 1],
    ] as const)('%s: %i fsync(s) from sync()', async (durability, fsyncs) => {
      await store.close();
      store = open({ durability });
      const spy = vi.spyOn(fs, 'fdatasync');
      try {
        await store.arbitrate([key], A, writing([write(record(A))]), null);
        await store.sync();
        expect(spy).toHaveBeenCalledTimes(fsyncs);
      } finally {
        spy.mockRestore();
      }
    });
  });
});

describe('SQLite store under a held write lock', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let holder: Database.Database;
  let errors: unknown[];
  const file = () => temp.file('busy.db');
  const open = (retryMs: number, options: SqliteStoreOptions = {}) =>
    createSqliteStore(file(), { busyTimeoutMs: 20, retryMs, now: () => T0, onBackgroundError: (error) => errors.push(error), ...options });
  /** Another process takes the write lock and keeps it. */
  const hold = () => {
    holder = new Database(file());
    holder.prepare('BEGIN IMMEDIATE').run();
  };
  const free = () => {
    holder.prepare('COMMIT').run();
    holder.close();
  };
  /** Reads the file directly, without the store (whose listLogs would flush its queue). */
  const raw = <T>(sql: string): T[] => {
    const db = new Database(file(), { readonly: true });
    try {
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };

  beforeEach(() => {
    temp = makeTempDir();
    errors = [];
  });
  afterEach(async () => {
    if (holder?.open) free();
    await store.close();
    temp.cleanup();
  });

  /** An in-flight entry of A, a settlement of it and a refusal of B, both queued while the lock is held. */
  async function queueWhileHeld() {
    const sent = await store.arbitrate([key], A, writing([write(record(A, 'in-flight'))], { log: log() }), null);
    hold();
    store.settle({
      keys: [{ key, version: sent.versions[0]!, write: write(record(A), [mark(A, false)]) }],
      log: { id: sent.logId!, outcome: { decision: 'forwarded', reason: 'delivered', upstreamStatus: 200, latencyMs: 7 } },
    });
    store.recordRefusal({
      keys: [key],
      marks: [mark(B, true)],
      record: null,
      identity: identity('fp-b', 30_000, B),
      log: log({ relayId: 'B', decision: 'blocked', reason: 'database busy: nothing was decided or forwarded' }),
    });
    return sent;
  }

  it('rejects arbitrate with StoreBusyError (not an SQLite error), and decides nothing', async () => {
    store = open(60_000);
    hold();
    let decided = false;
    const error = await store
      .arbitrate(
        [key],
        A,
        () => {
          decided = true;
          return { value: null, writes: [null], seen: false, log: null };
        },
        null,
      )
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StoreBusyError);
    expect(isStoreBusyError(error)).toBe(true);
    expect((error as Error).message).toBe('database busy: another process holds the write lock');
    expect((error as { code?: unknown }).code).toBeUndefined();
    expect(((error as Error).cause as { code?: string }).code).toBe('SQLITE_BUSY');
    expect(decided).toBe(false);
    free();
    expect((await look(store, [key])).views[0]?.record).toEqual({ owner: null, doubt: null });
  });

  it('keeps settlements and refusals queued while busy, and writes them once the lock frees', async () => {
    store = open(30);
    const sent = await queueWhileHeld();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(errors.length).toBeGreaterThan(0);
    // Told as the store's own error: nothing above the store reads SQLite's codes.
    expect(errors[0]).toBeInstanceOf(StoreBusyError);
    expect(((errors[0] as Error).cause as { code?: string }).code).toBe('SQLITE_BUSY');
    free();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(raw<{ id: number; decision: string; upstream_status: number | null }>('SELECT id, decision, upstream_status FROM signal_log ORDER BY id')).toEqual([
      { id: sent.logId, decision: 'forwarded', upstream_status: 200 },
      { id: sent.logId! + 1, decision: 'blocked', upstream_status: null },
    ]);
    expect(raw('SELECT owner_id, doubt FROM key_records')).toEqual([{ owner_id: 'A', doubt: null }]);
    expect(raw('SELECT relay_id, holds_nothing, last_fingerprint FROM strategy_keys ORDER BY relay_id')).toEqual([
      { relay_id: 'A', holds_nothing: 0, last_fingerprint: null },
      { relay_id: 'B', holds_nothing: 1, last_fingerprint: 'fp-b' },
    ]);
    expect(raw('SELECT fingerprint, refused FROM alert_fingerprints')).toEqual([{ fingerprint: 'fp-b', refused: 1 }]);
  });

  it('has the next arbitrate apply what is queued before it decides, once, even before the retry runs', async () => {
    store = open(60_000); // the retry would come far too late: only the arbitration can have written them
    await queueWhileHeld();
    await new Promise((resolve) => setTimeout(resolve, 40));
    await expect(look(store, [key], B)).rejects.toThrow(StoreBusyError);
    free();
    const { views, earlier } = await look(store, [key], B, identity('fp-b', 30_000, B));
    expect(views[0]).toMatchObject({ record: record(A), sender: { holdsNothing: true, lastFingerprint: 'fp-b' } });
    expect(earlier).toEqual({ at: T0, refused: true });
    expect(raw<{ decision: string }>('SELECT decision FROM signal_log ORDER BY id').map((r) => r.decision)).toEqual(['forwarded', 'blocked']);
    // applied once: neither another arbitration nor closing writes them again
    await look(store, [key], B);
    await store.close();
    expect(raw('SELECT count(*) AS n FROM signal_log')).toEqual([{ n: 2 }]);
  });

  it('flush() keeps trying while the lock is held and resolves once it frees', async () => {
    store = open(60_000, { flushTimeoutMs: 5000 });
    await queueWhileHeld();
    const flushed = store.flush();
    setTimeout(free, 80);
    await flushed;
    expect(raw<{ decision: string }>('SELECT decision FROM signal_log ORDER BY id').map((r) => r.decision)).toEqual(['forwarded', 'blocked']);
  });

  it('flush() rejects with StoreBusyError once its time is up, keeping the queue for later', async () => {
    store = open(60_000, { flushTimeoutMs: 100 });
    await queueWhileHeld();
    const started = Date.now();
    await expect(store.flush()).rejects.toThrow(StoreBusyError);
    expect(Date.now() - started).toBeLessThan(2000);
    free();
    await store.flush();
    expect(raw<{ decision: string }>('SELECT decision FROM signal_log ORDER BY id').map((r) => r.decision)).toEqual(['forwarded', 'blocked']);
  });

  it('close() gives up on a lock held past its time, says how many outcomes were not written, and still closes', async () => {
    store = open(60_000, { flushTimeoutMs: 100 });
    await queueWhileHeld();
    await store.close();
    expect(errors.map((e) => (e as Error).message)).toContain(
      '2 alert outcome(s) could not be written before closing: database busy: another process holds the write lock',
    );
    expect(await store.ping(100)).toBe(false);
  });
});

describe('SQLite store on a failing disk', () => {
  let temp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    temp = makeTempDir();
  });
  afterEach(() => {
    temp.cleanup();
  });

  it('rejects a write the disk refuses with StoreUnavailableError, in words and without the path', () => {
    // A file-size limit (ulimit -f, in KiB) makes the disk refuse the write-ahead log's growth:
    // the relay's process sees what a full or failing disk gives it.
    const modulePath = path.resolve(import.meta.dirname, '../../dist/store/sqlite/create-sqlite-store.js');
    const storePath = path.resolve(import.meta.dirname, '../../dist/store/store.js');
    const script = `
      const { createSqliteStore } = await import(${JSON.stringify(modulePath)});
      const { isStoreUnavailableError } = await import(${JSON.stringify(storePath)});
      const store = createSqliteStore(${JSON.stringify(temp.file('full.db'))}, { durability: 'crash' });
      const row = (i) => ({ time: i, relayUser: 'bob', relayId: 'A', account: null, instrument: null, signalType: null,
        decision: 'blocked', reason: 'r', apiCheck: null, upstreamStatus: null, latencyMs: null, alert: 'x'.repeat(100000) });
      let outcome = 'never refused';
      for (let i = 0; i < 200; i++) {
        try { await store.appendLog(row(i)); } catch (error) {
          outcome = JSON.stringify({ unavailable: isStoreUnavailableError(error), name: error.name, message: error.message });
          break;
        }
      }
      console.log(outcome);
      console.log(JSON.stringify({ ping: await store.ping(100) }));
      await store.close();
    `;
    const child = spawnSync('bash', ['-c', `ulimit -f 2048 && exec "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8' });
    const [outcome, ping] = child.stdout.trim().split('\n');
    expect(JSON.parse(outcome ?? 'null'), child.stderr).toEqual({
      unavailable: true,
      name: 'StoreUnavailableError',
      message: 'database unavailable: the disk failed to read or write the database file',
    });
    // Reading still works: the store still answers a health check.
    expect(JSON.parse(ping ?? 'null')).toEqual({ ping: true });
  });
});
