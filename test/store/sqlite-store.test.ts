import fs from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import type { PositionKey, SignalLogInput, Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const key: PositionKey = { relayUser: 'bob', account: 'Sim101', instrumentKey: 'ES' };
const log = (extra: Partial<SignalLogInput> = {}): SignalLogInput => ({
  time: 1_800_000_000_000,
  relayUser: 'bob',
  relayId: 'A',
  account: 'Sim101',
  instrument: 'ES 03-26',
  signalType: 'entry',
  decision: 'pending',
  reason: 'entry: nobody owns the position',
  apiCheck: null,
  upstreamStatus: null,
  latencyMs: null,
  alert: 'command=PLACE;',
  ...extra,
});
const ownership = (relayId: string) => ({ relayId, direction: 'long' as const, openedAt: 1, claimedAt: 2, holdUntil: 3 });

describe('SQLite store', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  beforeEach(() => {
    temp = makeTempDir();
    store = createSqliteStore(temp.file('relay.db'));
  });
  afterEach(() => {
    store.close();
    temp.cleanup();
  });

  it('creates the database with its schema version, in WAL mode, readable by its owner only', () => {
    const db = new Database(temp.file('relay.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    if (process.platform !== 'win32') expect(fs.statSync(temp.file('relay.db')).mode & 0o777).toBe(0o600);
  });

  it('reopens an existing database without migrating it again', () => {
    store.saveUser({ relayUser: 'bob', crosstradeKey: 'k'.repeat(10), webhookUrl: 'https://x.test/v1/send/a/b' });
    store.close();
    store = createSqliteStore(temp.file('relay.db'));
    expect(store.getUser('bob')?.crosstradeKey).toBe('k'.repeat(10));
  });

  it('refuses a database written by a newer relay', () => {
    store.close();
    const db = new Database(temp.file('relay.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => createSqliteStore(temp.file('relay.db'))).toThrow(`database schema version ${MIGRATIONS.length + 1} is newer than this relay understands`);
  });

  it('creates, updates, lists and removes users (removing their positions too)', () => {
    expect(store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-one-1', webhookUrl: 'https://x.test/1' })).toBe('created');
    expect(store.saveUser({ relayUser: 'bob', crosstradeKey: 'key-two-2', webhookUrl: 'https://x.test/2' })).toBe('updated');
    expect(store.listUsers().map((u) => [u.relayUser, u.crosstradeKey])).toEqual([['bob', 'key-two-2']]);
    store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES 03-26' }], log: null }));
    expect(store.removeUser('bob')).toBe(true);
    expect(store.removeUser('bob')).toBe(false);
    expect(store.listPositions()).toEqual([]);
  });

  it('records an ownership and its log row in one transaction, matching accounts case-insensitively', () => {
    const result = store.arbitrate([key], (current) => {
      expect(current).toEqual([{ owner: null, blocked: new Set() }]);
      return { value: 'x', changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES 03-26' }], log: log() };
    });
    expect(result.value).toBe('x');
    expect(result.logId).toBeTypeOf('number');
    const again = store.arbitrate([{ ...key, account: 'SIM101' }], (current) => {
      expect(current[0]?.owner?.relayId).toBe('A');
      return { value: null, changes: [{ kind: 'keep' }], log: null };
    });
    expect(again.written).toEqual([]);
    expect(store.listPositions('bob')).toMatchObject([{ relayId: 'A', account: 'Sim101', instrument: 'ES 03-26', instrumentKey: 'ES' }]);
  });

  it('undoes a claim unless somebody wrote the key since', () => {
    const first = store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES' }], log: null }));
    store.undo(first.written);
    expect(store.listPositions()).toEqual([]);

    const a = store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES' }], log: null }));
    store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('B'), instrument: 'ES' }], log: null }));
    store.undo(a.written);
    expect(store.listPositions().map((p) => p.relayId)).toEqual(['B']);
  });

  it('keeps an exit’s owner until the exit is delivered, and then only if nobody wrote the key since', () => {
    store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES' }], log: null }));
    const exit = store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'clear' }], log: null }));
    expect(store.listPositions().map((p) => p.relayId)).toEqual(['A']);
    store.finishClears(exit.pendingClears);
    expect(store.listPositions()).toEqual([]);

    store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES' }], log: null }));
    const stale = store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'clear' }], log: null }));
    store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES' }], log: null })); // re-entry
    store.finishClears(stale.pendingClears);
    expect(store.listPositions().map((p) => p.relayId)).toEqual(['A']);
  });

  it('marks and unmarks a sender as blocked on every key of an alert', () => {
    const other: PositionKey = { ...key, account: 'Sim102' };
    store.arbitrate([key, other], () => ({ value: null, changes: [{ kind: 'keep' }, { kind: 'keep' }], mark: { relayId: 'B', blocked: true }, log: null }));
    const seen = store.arbitrate([{ ...key, account: 'SIM101' }, other], (current) => ({ value: current.map((c) => [...c.blocked]), changes: [], log: null }));
    expect(seen.value).toEqual([['B'], ['B']]);
    store.arbitrate([key], () => ({ value: null, changes: [], mark: { relayId: 'B', blocked: false }, log: null }));
    const after = store.arbitrate([key, other], (current) => ({ value: current.map((c) => [...c.blocked]), changes: [], log: null }));
    expect(after.value).toEqual([[], ['B']]);
  });

  it('writes nothing when the decision throws', () => {
    expect(() =>
      store.arbitrate([key], () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.listPositions()).toEqual([]);
    expect(store.listLogs({ limit: 10 })).toEqual([]);
  });

  it('completes a pending log row and lists logs newest first, per user and limited', () => {
    const id = store.appendLog(log());
    store.appendLog(log({ relayUser: 'amy', decision: 'blocked' }));
    store.completeLog(id, { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 12.5 });
    expect(store.listLogs({ limit: 10 }).map((l) => l.relayUser)).toEqual(['amy', 'bob']);
    expect(store.listLogs({ relayUser: 'bob', limit: 10 })).toMatchObject([{ id, decision: 'forwarded', upstreamStatus: 200, latencyMs: 12.5 }]);
    expect(store.listLogs({ limit: 1 })).toHaveLength(1);
  });

  it('clears one position by its key', () => {
    store.arbitrate([key], () => ({ value: null, changes: [{ kind: 'set', ownership: ownership('A'), instrument: 'ES' }], log: null }));
    expect(store.clearPosition({ ...key, account: 'sim101' })).toBe(true);
    expect(store.clearPosition(key)).toBe(false);
  });

  it('sees a write made through a second connection at once', () => {
    const other = createSqliteStore(temp.file('relay.db'));
    other.saveUser({ relayUser: 'amy', crosstradeKey: 'key-amy-1', webhookUrl: 'https://x.test/1' });
    other.close();
    expect(store.getUser('amy')?.relayUser).toBe('amy');
  });

  it('prunes signal-log rows past the retention and old duplicate fingerprints', () => {
    store.appendLog(log({ time: 1000, decision: 'blocked' }));
    store.appendLog(log({ time: 5000, decision: 'blocked' }));
    store.arbitrate([], () => ({ value: null, changes: [], log: log({ time: 6000, decision: 'blocked' }) }), { fingerprint: 'f', windowMs: 1000 });
    expect(store.prune({ logsBefore: 2000, fingerprintsBefore: Date.now() + 1 })).toEqual({ logs: 1, fingerprints: 1 });
    expect(store.listLogs({ limit: 10 }).map((l) => l.time)).toEqual([6000, 5000]);
  });

  it('closes forwards a crash left pending as failed', () => {
    store.appendLog(log({ decision: 'pending' }));
    store.appendLog(log({ decision: 'forwarded' }));
    expect(store.closeInterruptedForwards('interrupted')).toBe(1);
    expect(store.listLogs({ limit: 10 }).map((l) => [l.decision, l.reason])).toEqual([
      ['forwarded', 'entry: nobody owns the position'],
      ['failed', 'interrupted'],
    ]);
  });

  it('reports a repeat of a fingerprint inside its window as a duplicate', () => {
    const seen: boolean[] = [];
    for (let i = 0; i < 2; i++) {
      store.arbitrate(
        [],
        (_current, { duplicate }) => {
          seen.push(duplicate);
          return { value: null, changes: [], log: log() };
        },
        { fingerprint: 'same', windowMs: 60_000 },
      );
    }
    expect(seen).toEqual([false, true]);
  });
});

describe('SQLite store migrations', () => {
  it('brings a first-version database up to date and keeps its users and signal log', () => {
    const temp = makeTempDir();
    try {
      const file = temp.file('old.db');
      const old = new Database(file);
      old.exec(MIGRATIONS[0]!);
      old.pragma('user_version = 1');
      old.prepare("INSERT INTO users VALUES ('bob', 'key-of-bob-1', 'https://x.test/1', 'then', 'then')").run();
      old.prepare("INSERT INTO signal_log (time, decision, reason, alert) VALUES (1, 'forwarded', 'r', 'a')").run();
      old.close();
      const store = createSqliteStore(file);
      expect(store.getUser('bob')).toMatchObject({ crosstradeKey: 'key-of-bob-1', relaySecret: null });
      expect(store.listLogs({ limit: 5 }).map((l) => [l.id, l.decision])).toEqual([[1, 'forwarded']]);
      expect(store.appendLog({ ...log(), decision: 'blocked' })).toBe(2);
      store.close();
      const db = new Database(file, { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      db.close();
    } finally {
      temp.cleanup();
    }
  });
});

describe('SQLite store under a held write lock', () => {
  it('keeps grouped outcomes when their write finds the database busy, and writes them once it is free', async () => {
    const temp = makeTempDir();
    const errors: unknown[] = [];
    const store = createSqliteStore(temp.file('busy.db'), { busyTimeoutMs: 10, onBackgroundError: (error) => errors.push(error) });
    try {
      const id = store.appendLog(log());
      const other = new Database(temp.file('busy.db'));
      other.prepare('BEGIN IMMEDIATE').run();
      store.completeLog(id, { decision: 'forwarded', reason: 'ok', upstreamStatus: 200, latencyMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((errors[0] as { code?: string }).code).toBe('SQLITE_BUSY');
      other.prepare('COMMIT').run();
      other.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(store.listLogs({ limit: 1 })[0]).toMatchObject({ id, decision: 'forwarded', upstreamStatus: 200 });
    } finally {
      store.close();
      temp.cleanup();
    }
  });
});
