import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { recordAfterRelease } from '../../engine/decide.js';
import type { KeyRecord, Strategy, StrategyMark } from '../../engine/types.js';
import { accountGroupOf } from '../account-group.js';
import { createLocalLimits } from '../local-limits.js';
import {
  type AlertIdentity,
  type ArbitrationDecision,
  type InstanceIdentity,
  type ArbitrationPlan,
  type ArbitrationResult,
  type KeyView,
  type KeyWrite,
  type LogDecision,
  type LogQuery,
  type PositionKey,
  type Refusal,
  type Settlement,
  type Store,
  StoreBusyError,
  StoreUnavailableError,
  type UserRecord,
} from '../store.js';
import { accountKey, type KeyRow, type LogRow, rowKey, toKeyRecord, toKeyRow, toLogRecord, toPositionRecord, toUserRecord, type UserRow } from '../rows.js';
import { MIGRATIONS } from './migrations.js';
import { createFlushTimer } from '../flush-timer.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing (SQLITE_BUSY). */
  busyTimeoutMs?: number;
  now?: () => number;
  /** WAL pages a commit may leave before it checkpoints itself (SQLite's default 1000). */
  walAutocheckpointPages?: number;
  /** Told about a failed background write (queued outcomes and refusals), which is retried. */
  onBackgroundError?: (error: unknown) => void;
  /** How long to wait before retrying queued writes after a failure (ms). Default 200. */
  retryMs?: number;
  /** How long `flush()` and `close()` keep trying to write what is queued while the database is busy or failing (ms). Default 5000. */
  flushTimeoutMs?: number;
  /** What a committed decision survives (see Durability). Default 'power-cut'. */
  durability?: Durability;
}

/**
 * What a decision committed before its order leaves survives (issue 9, README "Power cuts"):
 * - `power-cut`: commits are written without an fsync each (SQLite `synchronous=NORMAL`), and
 *   `sync()` fsyncs the write-ahead log before the order leaves, one fsync shared by every alert
 *   committed meanwhile (a group commit, off the event loop);
 * - `full`: SQLite `synchronous=FULL`, an fsync inside every commit, on the event loop;
 * - `crash`: no fsync (`synchronous=NORMAL` alone): survives a crash of the relay, not of the machine.
 */
export type Durability = 'power-cut' | 'full' | 'crash';

/** How soon `flush()` tries again while the database is busy or failing (ms). */
const FLUSH_RETRY_MS = 50;

type Queued = { kind: 'settle'; settlement: Settlement } | { kind: 'refusal'; refusal: Refusal };

/** Opens (creating and migrating if needed) the SQLite file behind the relay. */
export function createSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  const retryMs = options.retryMs ?? 200;
  const flushTimeoutMs = options.flushTimeoutMs ?? 5000;
  const durability = options.durability ?? 'power-cut';
  const db = openDatabase(file, options.busyTimeoutMs ?? 2000, durability);
  if (options.walAutocheckpointPages !== undefined) db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages}`);

  const q = {
    getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE relay_user = ?'),
    listUsers: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY relay_user'),
    insertUser: db.prepare(
      'INSERT INTO users (relay_user, crosstrade_key, webhook_url, relay_secret, account_group, created_at, updated_at, paper) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateUser: db.prepare(
      'UPDATE users SET crosstrade_key = ?, webhook_url = ?, relay_secret = ?, account_group = ?, updated_at = ?, paper = ? WHERE relay_user = ?',
    ),
    deleteUser: db.prepare('DELETE FROM users WHERE relay_user = ?'),
    moveUserStrategies: db.prepare('UPDATE OR IGNORE strategy_keys SET account_group = ? WHERE account_group = ? AND relay_user = ?'),
    getKey: db.prepare<[string, string, string], KeyRow>('SELECT * FROM key_records WHERE account_group = ? AND account_key = ? AND instrument_key = ?'),
    listOwned: db.prepare<[], KeyRow>('SELECT * FROM key_records WHERE owner_user IS NOT NULL ORDER BY owner_user, account_key, instrument_key'),
    listOwnedBy: db.prepare<[string], KeyRow>('SELECT * FROM key_records WHERE owner_user = ? ORDER BY account_key, instrument_key'),
    upsertKey: db.prepare(`
      INSERT INTO key_records (account_group, account_key, instrument_key, account, instrument, owner_user, owner_id, direction,
                               quantity, opened_at, claimed_at, hold_until, doubt, doubt_since, closing_until, updated_at, version)
      VALUES (@account_group, @account_key, @instrument_key, @account, @instrument, @owner_user, @owner_id, @direction,
              @quantity, @opened_at, @claimed_at, @hold_until, @doubt, @doubt_since, @closing_until, @updated_at, @version)
      ON CONFLICT (account_group, account_key, instrument_key) DO UPDATE SET
        account = excluded.account, instrument = excluded.instrument, owner_user = excluded.owner_user, owner_id = excluded.owner_id,
        direction = excluded.direction, quantity = excluded.quantity, opened_at = excluded.opened_at, claimed_at = excluded.claimed_at, hold_until = excluded.hold_until,
        doubt = excluded.doubt, doubt_since = excluded.doubt_since, closing_until = excluded.closing_until, updated_at = excluded.updated_at,
        version = excluded.version`),
    deleteKey: db.prepare('DELETE FROM key_records WHERE account_group = ? AND account_key = ? AND instrument_key = ?'),
    getSender: db.prepare<[string, string, string, string, string], { holds_nothing: number; last_fingerprint: string | null }>(
      'SELECT holds_nothing, last_fingerprint FROM strategy_keys WHERE account_group = ? AND account_key = ? AND instrument_key = ? AND relay_user = ? AND relay_id = ?',
    ),
    // A mark that changes nothing writes nothing: every delivered forward marks its sender (issue 9).
    mark: db.prepare(`
      INSERT INTO strategy_keys (account_group, account_key, instrument_key, relay_user, relay_id, holds_nothing, last_fingerprint, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
      ON CONFLICT DO UPDATE SET holds_nothing = excluded.holds_nothing, updated_at = excluded.updated_at
      WHERE holds_nothing <> excluded.holds_nothing`),
    setLast: db.prepare(`
      INSERT INTO strategy_keys (account_group, account_key, instrument_key, relay_user, relay_id, holds_nothing, last_fingerprint, updated_at)
      VALUES (?, ?, ?, ?, ?, 0, ?, ?)
      ON CONFLICT DO UPDATE SET last_fingerprint = excluded.last_fingerprint, updated_at = excluded.updated_at`),
    insertLog: db.prepare(`
      INSERT INTO signal_log (time, relay_user, relay_id, account, instrument, signal_type, decision, reason,
                              api_check, upstream_status, latency_ms, alert)
      VALUES (@time, @relayUser, @relayId, @account, @instrument, @signalType, @decision, @reason,
              @apiCheck, @upstreamStatus, @latencyMs, @alert)`),
    completeLog: db.prepare(
      'UPDATE signal_log SET decision = @decision, reason = @reason, upstream_status = @upstreamStatus, latency_ms = @latencyMs WHERE id = @id',
    ),
    listLogs: db.prepare<[number], LogRow>('SELECT * FROM signal_log ORDER BY id DESC LIMIT ?'),
    listUserLogs: db.prepare<[string, number], LogRow>('SELECT * FROM signal_log WHERE relay_user = ? ORDER BY id DESC LIMIT ?'),
    closePending: db.prepare("UPDATE signal_log SET decision = 'unknown', reason = ? WHERE decision = 'pending'"),
    // The version stays: a process still running on the same file may yet settle its own order.
    closeInFlight: db.prepare("UPDATE key_records SET doubt = 'unknown-outcome' WHERE doubt = 'in-flight'"),
    closeUnfinishedLog: db.prepare("UPDATE signal_log SET decision = 'unknown', reason = ? WHERE id = ? AND decision = 'pending'"),
    closeUnfinishedKey: db.prepare(
      "UPDATE key_records SET doubt = 'unknown-outcome' WHERE account_group = ? AND account_key = ? AND instrument_key = ? AND version = ? AND doubt = 'in-flight'",
    ),
    // In batches, so a large prune never holds the write lock for long.
    pruneLogs: db.prepare('DELETE FROM signal_log WHERE id IN (SELECT id FROM signal_log WHERE time < ? LIMIT 1000)'),
    pruneFingerprints: db.prepare('DELETE FROM alert_fingerprints WHERE fingerprint IN (SELECT fingerprint FROM alert_fingerprints WHERE time < ? LIMIT 1000)'),
    findFingerprint: db.prepare<[string, number], { time: number; refused: number }>(
      'SELECT time, refused FROM alert_fingerprints WHERE fingerprint = ? AND time >= ? LIMIT 1',
    ),
    insertFingerprint: db.prepare(
      'INSERT INTO alert_fingerprints (fingerprint, time, refused) VALUES (?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET time = excluded.time, refused = excluded.refused',
    ),
    // A refused copy never hides a decided one: TradingView's resend of it must stay a duplicate.
    insertRefusedFingerprint: db.prepare(
      'INSERT INTO alert_fingerprints (fingerprint, time, refused) VALUES (?, ?, 1) ON CONFLICT (fingerprint) DO UPDATE SET time = excluded.time WHERE alert_fingerprints.refused = 1',
    ),
    listGroupKeys: db.prepare<[string], KeyRow>('SELECT * FROM key_records WHERE account_group = ? ORDER BY account_key, instrument_key'),
    listOwnedIn: db.prepare<[string, string], KeyRow>('SELECT * FROM key_records WHERE account_group = ? AND owner_user = ?'),
    deleteUserStrategies: db.prepare('DELETE FROM strategy_keys WHERE account_group = ? AND relay_user = ?'),
    ping: db.prepare('SELECT 1'),
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?'),
    setSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    getPaperBook: db.prepare<[string], { book: string }>('SELECT book FROM paper_books WHERE account_group = ?'),
    savePaperBook: db.prepare(
      'INSERT INTO paper_books (account_group, book, updated_at) VALUES (?, ?, ?) ON CONFLICT (account_group) DO UPDATE SET book = excluded.book, updated_at = excluded.updated_at',
    ),
  };

  // Filtered listings (trade-relay logs): one statement per combination of conditions, prepared once.
  const logStatements = new Map<string, Database.Statement>();
  const logStatement = (sql: string) => {
    let statement = logStatements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      logStatements.set(sql, statement);
    }
    return statement;
  };
  const logFilter = (query: LogQuery) => {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    const add = (condition: string, ...values: (string | number)[]) => {
      conditions.push(condition);
      params.push(...values);
    };
    if (query.relayUser !== undefined) add('relay_user = ?', query.relayUser);
    if (query.relayId !== undefined) add('relay_id = ?', query.relayId);
    if (query.since !== undefined) add('time >= ?', query.since);
    if (query.until !== undefined) add('time < ?', query.until);
    if (query.afterId !== undefined) add('id > ?', query.afterId);
    if (query.decisions !== undefined) add(`decision IN (${query.decisions.map(() => '?').join(', ') || 'NULL'})`, ...query.decisions);
    return { where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
  };
  const isPlainQuery = (query: LogQuery) =>
    query.relayId === undefined &&
    query.decisions === undefined &&
    query.since === undefined &&
    query.until === undefined &&
    query.afterId === undefined &&
    query.oldestFirst !== true;

  const keyArgs = (key: PositionKey) => [key.accountGroup, accountKey(key.account), key.instrumentKey] as const;
  const readKey = (key: PositionKey) => q.getKey.get(...keyArgs(key)) ?? null;

  // A version only has to differ from every other write of the same key, also one made by a
  // second process on the same file: a random 48-bit number does that without coordination.
  const nextVersion = () => randomInt(2 ** 48 - 1);

  /** Writes one key's record with a fresh version (a record with no owner and no doubt is deleted); answers the version. */
  const writeRecord = (key: PositionKey, instrument: string, record: KeyRecord): number | null => {
    // A free, certain key needs no row, unless a reading may still show contracts an order closed.
    if (record.owner === null && record.doubt === null && (record.closingUntil ?? 0) <= now()) {
      q.deleteKey.run(...keyArgs(key));
      return null;
    }
    const version = nextVersion();
    q.upsertKey.run(toKeyRow(key, instrument, record, now(), version));
    return version;
  };

  const applyMarks = (key: PositionKey, marks: readonly StrategyMark[]) => {
    for (const m of marks) q.mark.run(...keyArgs(key), m.relayUser, m.relayId, m.holdsNothing ? 1 : 0, now());
  };

  const applyWrite = (key: PositionKey, write: KeyWrite, currentVersion: number | null): number | null => {
    // An alert that names no instrument (FLATTENEVERYTHING) keeps the one the record shows.
    const instrument = write.instrument !== '' ? write.instrument : (readKey(key)?.instrument ?? '');
    const version = write.record === null ? currentVersion : writeRecord(key, instrument, write.record);
    applyMarks(key, write.marks);
    return version;
  };

  // What this store left unfinished, for close(interrupted): the `pending` rows it wrote and the
  // versions of the keys it put in flight, each forgotten once its outcome is written. Closing
  // matches them on the database again (still pending, the same version), so nothing written by
  // another process since is touched.
  const unfinishedLogs = new Set<number>();
  const unfinishedKeys = new Map<string, { key: PositionKey; version: number }>();
  const closeUnfinished = db.transaction((reason: string) => {
    for (const id of unfinishedLogs) q.closeUnfinishedLog.run(reason, id);
    for (const { key, version } of unfinishedKeys.values()) q.closeUnfinishedKey.run(...keyArgs(key), version);
  });

  const applySettlement = (s: Settlement) => {
    for (const { key, version, write } of s.keys) {
      // Conditional: only the state this alert wrote may be replaced by its outcome.
      const current = readKey(key)?.version ?? null;
      applyWrite(key, current === version ? write : { ...write, record: null }, current);
      const id = keyArgs(key).join('\0');
      if (unfinishedKeys.get(id)?.version === version) unfinishedKeys.delete(id);
    }
    if (s.log !== null) {
      q.completeLog.run({ id: s.log.id, ...s.log.outcome });
      unfinishedLogs.delete(s.log.id);
    }
  };

  const applyRefusal = (r: Refusal) => {
    for (const key of r.keys) {
      // The record as it is now, not as it was when the alert was refused: outcomes may have landed since.
      const row = r.record === null ? null : readKey(key);
      const rec = row === null ? null : (r.record?.(toKeyRecord(row)) ?? null);
      if (row !== null && rec !== null) writeRecord(key, row.instrument, rec);
      applyMarks(key, r.marks);
      if (r.identity !== null) q.setLast.run(...keyArgs(key), r.identity.relayUser, r.identity.relayId, r.identity.fingerprint, now());
    }
    if (r.identity !== null) q.insertRefusedFingerprint.run(r.identity.fingerprint, r.log.time);
    q.insertLog.run(r.log);
  };

  // Outcomes and refusals are queued: written in groups after the answer, and applied first by
  // the next arbitration, so no decision is ever taken on a record missing an earlier outcome.
  let queue: Queued[] = [];
  const applyQueued = db.transaction((item: Queued) => {
    if (item.kind === 'settle') applySettlement(item.settlement);
    else applyRefusal(item.refusal);
  });
  const drainQueue = () => {
    const batch = queue;
    for (const item of batch) {
      try {
        applyQueued(item); // a savepoint of its own
      } catch (error) {
        if (isPassing(error)) throw error;
        // Not a passing fault: retrying it forever would stop every later decision.
        options.onBackgroundError?.(storeError(error));
      }
    }
    return batch.length;
  };
  const commitDrain = (drained: number) => {
    queue = queue.slice(drained);
  };
  const flushTx = db.transaction(() => drainQueue());
  const flushQueue = () => {
    if (queue.length === 0 || !db.open) return;
    try {
      commitDrain(flushTx.immediate());
    } catch (error) {
      // Busy or failing disk: keep everything and try again shortly; never crash the relay.
      options.onBackgroundError?.(storeError(error));
      scheduleFlush(retryMs);
    }
  };
  const flushTimer = createFlushTimer(() => flushQueue());
  const scheduleFlush = (delayMs: number) => flushTimer.schedule(delayMs);
  const cancelFlush = () => flushTimer.cancel();
  /** Writes the queue now; while the database is busy or failing, tries again until `timeoutMs` has passed, then rejects. */
  const flushWithin = async (timeoutMs: number): Promise<void> => {
    // The real clock: a test's frozen `now` must not make this wait forever.
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (queue.length === 0) return;
      if (!db.open) throw new StoreUnavailableError(`the database was closed with ${queue.length} alert outcome(s) not written`);
      try {
        commitDrain(flushTx.immediate());
        return;
      } catch (error) {
        const failure = storeError(error);
        const left = deadline - Date.now();
        if (!isPassing(error) || left <= 0) throw failure;
        // Someone waits on this one: shorter turns than the background retry's.
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, FLUSH_RETRY_MS, left)));
      }
    }
  };

  /** One piece of synchronous work as the contract's promise: run now, its SQLite failures as the store's errors. */
  const run = <T>(work: () => T): Promise<T> => {
    try {
      if (!db.open) throw new StoreUnavailableError('the database is closed');
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(storeError(error));
    }
  };

  const arbitrateTx = db.transaction(<T>(keys: PositionKey[], strategy: Strategy, decide: ArbitrationDecision<T>, identity: AlertIdentity | null) => {
    const drained = drainQueue();
    return { result: arbitrateIn(keys, strategy, decide, identity), drained };
  });
  const listKeys = (accountGroup: string) => q.listGroupKeys.all(accountGroup).map(rowKey);
  const arbitrateAsTx = db.transaction(<T>(relayUser: string, plan: (user: UserRecord | null, list: typeof listKeys) => ArbitrationPlan<T> | null) => {
    const drained = drainQueue();
    const row = q.getUser.get(relayUser);
    const chosen = plan(row === undefined ? null : toUserRecord(row), listKeys);
    return { result: chosen === null ? null : arbitrateIn(chosen.keys, chosen.sender, chosen.decide, chosen.identity), drained };
  });

  function arbitrateIn<T>(keys: PositionKey[], strategy: Strategy, decide: ArbitrationDecision<T>, identity: AlertIdentity | null): ArbitrationResult<T> {
    const time = now();
    const rows = keys.map(readKey);
    const views: KeyView[] = keys.map((key, i) => {
      const row = rows[i] ?? null;
      const sender = q.getSender.get(...keyArgs(key), strategy.relayUser, strategy.relayId);
      return {
        record: toKeyRecord(row),
        version: row?.version ?? null,
        sender: { holdsNothing: sender?.holds_nothing === 1, lastFingerprint: sender?.last_fingerprint ?? null },
      };
    });
    const found = identity === null ? undefined : q.findFingerprint.get(identity.fingerprint, time - identity.windowMs);
    const earlier = found === undefined ? null : { at: found.time, refused: found.refused === 1 };
    const { value, writes, seen, log } = decide(views, earlier);
    const versions = keys.map((key, i) => {
      const write = writes[i] ?? null;
      const version = write === null ? (views[i]?.version ?? null) : applyWrite(key, write, views[i]?.version ?? null);
      if (write?.record?.doubt?.kind === 'in-flight' && version !== null) unfinishedKeys.set(keyArgs(key).join('\0'), { key, version });
      return version;
    });
    if (seen && identity !== null) {
      q.insertFingerprint.run(identity.fingerprint, time, 0);
      for (const key of keys) q.setLast.run(...keyArgs(key), identity.relayUser, identity.relayId, identity.fingerprint, time);
    }
    const logId = log === null ? null : Number(q.insertLog.run(log).lastInsertRowid);
    if (logId !== null && log?.decision === 'pending') unfinishedLogs.add(logId);
    return { value, logId, versions };
  }

  // Released, the key stays in doubt: if its position is in fact still open, the next entry reads it
  // and is blocked instead of stacking on it. `byHand`: see recordAfterRelease.
  const clearTx = db.transaction((key: PositionKey, byHand: boolean) => {
    const row = readKey(key);
    if (row === null) return false;
    writeRecord(key, row.instrument, recordAfterRelease(toKeyRecord(row), now(), byHand));
    if (row.owner_user === null || row.owner_id === null) return false;
    applyMarks(key, [{ relayUser: row.owner_user, relayId: row.owner_id, holdsNothing: true }]);
    return true;
  });

  /**
   * A user's key changed: its positions and memory move to the new account group. A key there that
   * already has a record keeps it, put in doubt, and the moving owner holds nothing there; an order
   * in flight can no longer be settled under the old group, so its outcome becomes unknown.
   */
  const moveUser = (relayUser: string, from: string, to: string) => {
    for (const row of q.listOwnedIn.all(from, relayUser)) {
      const target: PositionKey = { accountGroup: to, account: row.account, instrumentKey: row.instrument_key };
      const old = rowKey(row);
      const moved = toKeyRecord(row);
      const existing = readKey(target);
      q.deleteKey.run(...keyArgs(old));
      if (existing === null) {
        writeRecord(target, row.instrument, moved.doubt?.kind === 'in-flight' ? { ...moved, doubt: { kind: 'unknown-outcome', since: now() } } : moved);
      } else {
        writeRecord(target, existing.instrument, { ...toKeyRecord(existing), doubt: { kind: 'changed', since: now() } });
        applyMarks(target, [{ relayUser, relayId: row.owner_id ?? '', holdsNothing: true }]);
      }
    }
    q.moveUserStrategies.run(to, from, relayUser);
    q.deleteUserStrategies.run(from, relayUser);
  };

  /**
   * A user switched between paper and live: the paper book and the CrossTrade accounts hold different
   * positions, so nothing moves; what it owned in the old group is released (in doubt) and it holds nothing there.
   */
  const leaveGroup = (relayUser: string, from: string) => {
    for (const row of q.listOwnedIn.all(from, relayUser)) clearTx(rowKey(row), false);
    q.deleteUserStrategies.run(from, relayUser);
  };

  const saveUserTx = db.transaction((user: { relayUser: string; crosstradeKey: string; webhookUrl: string; relaySecret?: string | null; paper?: boolean }) => {
    const stamp = new Date(now()).toISOString();
    const secret = user.relaySecret ?? null;
    const paper = user.paper === true;
    const group = accountGroupOf(user.crosstradeKey, paper);
    const existing = q.getUser.get(user.relayUser);
    if (existing) {
      if (existing.account_group !== group) {
        if ((existing.paper === 1) === paper) moveUser(user.relayUser, existing.account_group, group);
        else leaveGroup(user.relayUser, existing.account_group);
      }
      q.updateUser.run(user.crosstradeKey, user.webhookUrl, secret, group, stamp, paper ? 1 : 0, user.relayUser);
      return 'updated' as const;
    }
    q.insertUser.run(user.relayUser, user.crosstradeKey, user.webhookUrl, secret, group, stamp, stamp, paper ? 1 : 0);
    return 'created' as const;
  });

  const removeUserTx = db.transaction((relayUser: string) => {
    const user = q.getUser.get(relayUser);
    if (!user) return false;
    for (const row of q.listOwnedBy.all(relayUser)) clearTx(rowKey(row), false);
    q.deleteUser.run(relayUser);
    return true;
  });

  const sync = durability === 'power-cut' ? groupSync(file) : null;
  // One process per database file: an instance of its own, registered nowhere (nothing to hand over).
  const instance: InstanceIdentity = { id: randomInt(2 ** 48 - 1), host: os.hostname(), pid: process.pid, startedAt: Date.now() };

  let closing: Promise<void> | null = null;

  // One relay process per database file: its rate limits need no sharing (store.ts, takeLimit).
  const limits = createLocalLimits();

  return {
    kind: 'sqlite',
    ...limits,
    sync: () => (sync === null || !db.open ? Promise.resolve() : sync.run()),
    getUser: (relayUser) =>
      run(() => {
        const row = q.getUser.get(relayUser);
        return row ? toUserRecord(row) : null;
      }),
    listUsers: () => run(() => q.listUsers.all().map(toUserRecord)),
    saveUser: (user) => run(() => saveUserTx.immediate(user)),
    removeUser: (relayUser) => run(() => removeUserTx.immediate(relayUser)),
    listPositions: (relayUser) =>
      run(() => {
        flushQueue();
        return (relayUser === undefined ? q.listOwned.all() : q.listOwnedBy.all(relayUser)).flatMap(toPositionRecord);
      }),
    listKeys: (accountGroup) => run(() => listKeys(accountGroup)),
    clearPosition: ({ relayUser, account, instrumentKey }) =>
      run(() => {
        const user = q.getUser.get(relayUser);
        if (!user) return false;
        return clearTx.immediate({ accountGroup: user.account_group, account, instrumentKey }, true);
      }),
    arbitrate: <T>(keys: PositionKey[], strategy: Strategy, decide: ArbitrationDecision<T>, identity: AlertIdentity | null) =>
      run(() => {
        const { result, drained } = arbitrateTx.immediate(keys, strategy, decide as ArbitrationDecision<unknown>, identity);
        commitDrain(drained);
        return result as ArbitrationResult<T>;
      }),
    arbitrateAs: <T>(relayUser: string, plan: (user: UserRecord | null, list: typeof listKeys) => ArbitrationPlan<T> | null) =>
      run(() => {
        const { result, drained } = arbitrateAsTx.immediate(
          relayUser,
          plan as (user: UserRecord | null, list: typeof listKeys) => ArbitrationPlan<unknown> | null,
        );
        commitDrain(drained);
        return result as ArbitrationResult<T> | null;
      }),
    settle: (settlement) => {
      queue.push({ kind: 'settle', settlement });
      scheduleFlush(0);
    },
    recordRefusal: (refusal) => {
      queue.push({ kind: 'refusal', refusal });
      scheduleFlush(0);
    },
    flush: () => flushWithin(flushTimeoutMs),
    appendLog: (entry) => run(() => Number(q.insertLog.run(entry).lastInsertRowid)),
    listLogs: (query) =>
      run(() => {
        flushQueue();
        const { relayUser, limit } = query;
        if (isPlainQuery(query)) return (relayUser === undefined ? q.listLogs.all(limit) : q.listUserLogs.all(relayUser, limit)).map(toLogRecord);
        const { where, params } = logFilter(query);
        return (
          logStatement(`SELECT * FROM signal_log ${where} ORDER BY id ${query.oldestFirst === true ? 'ASC' : 'DESC'} LIMIT ?`).all(...params, limit) as LogRow[]
        ).map(toLogRecord);
      }),
    countLogs: (query) =>
      run(() => {
        flushQueue();
        const { where, params } = logFilter(query);
        const rows = logStatement(`SELECT decision, COUNT(*) AS n FROM signal_log ${where} GROUP BY decision`).all(...params) as {
          decision: LogDecision;
          n: number;
        }[];
        return Object.fromEntries(rows.map((row) => [row.decision, row.n]));
      }),
    closeInterruptedForwards: (reason) =>
      run(() =>
        db.transaction(() => {
          q.closeInFlight.run();
          return q.closePending.run(reason).changes;
        })(),
      ),
    instance,
    listInstances: () => run(() => [{ ...instance, lastSeen: now() }]),
    closeStoppedInstances: () => run(() => ({ instances: [], logs: 0, keys: 0 })),
    prune: ({ logsBefore, fingerprintsBefore }) =>
      run(() => ({
        logs: inBatches(() => q.pruneLogs.run(logsBefore).changes),
        fingerprints: inBatches(() => q.pruneFingerprints.run(fingerprintsBefore).changes),
      })),
    getPaperBook: (accountGroup) => run(() => q.getPaperBook.get(accountGroup)?.book ?? null),
    savePaperBook: (accountGroup, book) =>
      run(() => {
        q.savePaperBook.run(accountGroup, book, now());
      }),
    getSetting: (name) => run(() => q.getSetting.get(name)?.value ?? null),
    setSetting: (name, value) =>
      run(() => {
        q.setSetting.run(name, value);
      }),
    ping: async (_timeoutMs) => {
      // A query on this connection cannot hang (a read never waits for a writer in WAL mode): no timer needed.
      try {
        return db.open && q.ping.get() !== undefined;
      } catch {
        return false;
      }
    },
    close: (interrupted) =>
      (closing ??= (async () => {
        cancelFlush();
        try {
          // Another process may hold the lock for a moment: outcomes are worth a few more tries.
          await flushWithin(flushTimeoutMs);
          if (interrupted !== undefined) closeUnfinished.immediate(interrupted);
        } catch (error) {
          options.onBackgroundError?.(
            new Error(`${queue.length} alert outcome(s) could not be written before closing: ${(error as Error).message}`, { cause: error }),
          );
        } finally {
          cancelFlush();
          db.close();
          sync?.close();
        }
      })()),
  };
}

/**
 * Group commit for `power-cut` durability: `run()` resolves once an fsync that started after the
 * call has finished, so every commit made before the call is on disk. Calls that arrive while an
 * fsync runs share the next one. The fsync runs on libuv's thread pool, never on the event loop.
 * The WAL holds every commit until a checkpoint, which SQLite itself syncs (synchronous=NORMAL).
 */
function groupSync(databaseFile: string): { run: () => Promise<void>; close: () => void } {
  let fd: number | null = null;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const fsyncOnce = (): Promise<void> => {
    let done: Promise<void>;
    try {
      // Opened on first use: the WAL file exists once the database is open in WAL mode. SQLite
      // keeps it beside the real file when the database path is a symbolic link: resolve it.
      fd ??= fs.openSync(`${fs.realpathSync(databaseFile)}-wal`, 'r+');
      const at = fd;
      done = new Promise<void>((resolve, reject) => fs.fdatasync(at, (error) => (error ? reject(error) : resolve())));
    } catch (error) {
      // A failure to open is a failed sync (the order is refused), never an exception thrown
      // after the decision was committed (a 5xx would invite TradingView's resend).
      done = Promise.reject(error);
    }
    // Settles when the fsync ends, never rejects: the failure belongs to `done`'s callers.
    const ended: Promise<void> = done.then(
      () => undefined,
      () => undefined,
    );
    running = ended;
    void ended.then(() => {
      if (running === ended) running = null;
    });
    return done;
  };
  return {
    run: () => {
      if (running === null) return fsyncOnce();
      queued ??= running.then(() => {
        queued = null;
        return fsyncOnce();
      });
      return queued;
    },
    close: () => {
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}

/**
 * SQLite's failures as the store's own errors (issue 10: nothing above the store reads a vendor
 * code): busy → StoreBusyError; a file that cannot be opened, read or written → StoreUnavailableError,
 * in words that name no path; anything else (a bug, a throwing `decide`) as it was.
 */
function storeError(error: unknown): unknown {
  if (error instanceof StoreBusyError || error instanceof StoreUnavailableError) return error;
  const code = sqliteCode(error);
  if (isBusyCode(code)) return new StoreBusyError({ cause: error });
  const what = unavailableReason(code);
  return what === null ? error : new StoreUnavailableError(what, { cause: error });
}

/** A fault that may pass (busy, a disk that fills or fails for a moment): queued writes are kept and retried. */
function isPassing(error: unknown): boolean {
  if (error instanceof StoreBusyError || error instanceof StoreUnavailableError) return true;
  const code = sqliteCode(error);
  return isBusyCode(code) || unavailableReason(code) !== null;
}

function sqliteCode(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? '');
}

function isBusyCode(code: string): boolean {
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

function unavailableReason(code: string): string | null {
  if (code === 'SQLITE_FULL') return 'the disk holding the database is full';
  if (code.startsWith('SQLITE_IOERR')) return 'the disk failed to read or write the database file';
  if (code.startsWith('SQLITE_READONLY')) return 'the database file can no longer be written (read-only)';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'the database file cannot be opened';
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return 'the database file is damaged';
  return null;
}

function inBatches(deleteBatch: () => number): number {
  let total = 0;
  for (let n = deleteBatch(); n > 0; n = deleteBatch()) total += n;
  return total;
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(`database schema version ${current} is newer than this relay understands (${MIGRATIONS.length}); upgrade the relay`);
  }
  db.transaction(() => {
    // Re-read inside the write lock: another process may have migrated meanwhile.
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
}

/** A database that cannot be opened: the message names the file and what to do (issue 8, case 6). */
export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

/**
 * Opens, configures and migrates the file. A file this process may not write is refused before
 * SQLite touches it: SQLite would create the -wal and -shm with the database's own read-only mode,
 * and they would stay read-only after the database is fixed. Throws StoreOpenError.
 */
function openDatabase(file: string, busyTimeoutMs: number, durability: Durability): Database.Database {
  if (file !== ':memory:') checkWritable(file);
  let db: Database.Database | null = null;
  try {
    createPrivateFile(file);
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
    // The wait blocks the event loop, so it stays short; transactions here last microseconds.
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('foreign_keys = ON');
    // After a checkpoint the WAL file is cut back to this size instead of staying at its peak.
    db.pragma('journal_size_limit = 67108864');
    db.function('relay_account_group', { deterministic: true }, (key: unknown) => accountGroupOf(String(key)));
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw describeOpenError(error, file);
  }
}

/** Refuses a database, a -wal/-shm beside it or a folder this process may not write, naming it and the fix. */
function checkWritable(file: string): void {
  const absolute = path.resolve(file);
  const dir = path.dirname(absolute);
  if (fs.existsSync(dir) && !canWrite(dir)) {
    throw new StoreOpenError(
      `cannot write in the database folder ${dir}: SQLite keeps its -wal and -shm files beside the database. ` +
        `Give this user write access to it (e.g. chown ${userLabel()} "${dir}"), or choose another data folder with --home`,
    );
  }
  if (!fs.existsSync(absolute)) return;
  if (!canWrite(absolute)) {
    throw new StoreOpenError(
      `the database ${absolute} is read-only for this user: make it writable (Linux: chmod 600 "${absolute}", and chown ${userLabel()} it ` +
        'if the relay runs as another user; Windows: clear its read-only attribute in Properties)',
    );
  }
  const mode = fs.statSync(absolute).mode & 0o666;
  for (const side of [`${absolute}-wal`, `${absolute}-shm`]) {
    if (!fs.existsSync(side) || canWrite(side)) continue;
    // Left read-only by an earlier failed start (SQLite gives them the database's mode): ours to repair.
    const own = process.getuid !== undefined && fs.statSync(side).uid === process.getuid();
    if (own) fs.chmodSync(side, mode | 0o600);
    if (!own || !canWrite(side)) {
      throw new StoreOpenError(`${side} is read-only for this user: with no relay running, delete it or make it writable (chmod 600 "${side}")`);
    }
  }
}

function canWrite(target: string): boolean {
  try {
    fs.accessSync(target, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function userLabel(): string {
  try {
    return os.userInfo().username;
  } catch {
    return '<the relay user>';
  }
}

/** SQLite's and the file system's errors at open, as one line that names the file and the fix. */
function describeOpenError(error: unknown, file: string): Error {
  if (error instanceof StoreOpenError) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  const absolute = path.resolve(file);
  const message = error instanceof Error ? error.message : String(error);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreOpenError(
      `the database ${absolute} is locked by another process: another relay (or a tool such as a SQLite browser) is holding it; ` +
        'stop it or wait for it to finish, then try again',
    );
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new StoreOpenError(
      `cannot write the database ${absolute} (${message}): make it and its folder writable for this user (chmod 600 / chown ${userLabel()}), ` +
        'and check the disk is not mounted read-only',
    );
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StoreOpenError(`${absolute} is not a readable Trade Relay database (${message}): check --db / RELAY_DB, or restore it from a backup`);
  }
  if (code === 'SQLITE_CANTOPEN' || code === 'ENOENT') {
    return new StoreOpenError(`cannot open the database ${absolute} (${message}): check that its folder exists and this user may write in it`);
  }
  return error instanceof Error ? error : new Error(message);
}

/** The database holds CrossTrade keys: create it readable by its owner only (POSIX). */
function createPrivateFile(file: string): void {
  if (file === ':memory:' || fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
}
