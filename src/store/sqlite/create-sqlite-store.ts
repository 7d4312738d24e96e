import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Direction, Ownership } from '../../engine/types.js';
import type {
  ArbitrationDecision,
  ArbitrationResult,
  DedupCheck,
  KeyState,
  PendingClear,
  SenderMark,
  LogOutcome,
  PositionKey,
  PositionRecord,
  SignalLogInput,
  SignalLogRecord,
  Store,
  UserRecord,
  WrittenChange,
} from '../store.js';
import { MIGRATIONS } from './migrations.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing (SQLITE_BUSY). */
  busyTimeoutMs?: number;
  now?: () => number;
  /** WAL pages a commit may leave before it checkpoints itself (SQLite's default 1000). */
  walAutocheckpointPages?: number;
  /** Told about a failed background write (grouped outcomes), which is retried. */
  onBackgroundError?: (error: unknown) => void;
}

interface PositionRow {
  relay_user: string;
  account_key: string;
  instrument_key: string;
  account: string;
  instrument: string;
  relay_id: string;
  direction: Direction;
  opened_at: number;
  claimed_at: number;
  hold_until: number;
  updated_at: number;
  version: number;
}

interface UserRow {
  relay_user: string;
  crosstrade_key: string;
  webhook_url: string;
  relay_secret: string | null;
  created_at: string;
  updated_at: string;
}

interface LogRow {
  id: number;
  time: number;
  relay_user: string | null;
  relay_id: string | null;
  account: string | null;
  instrument: string | null;
  signal_type: SignalLogInput['signalType'];
  decision: SignalLogInput['decision'];
  reason: string;
  api_check: string | null;
  upstream_status: number | null;
  latency_ms: number | null;
  alert: string;
}

/** Opens (creating and migrating if needed) the SQLite file behind the relay. */
export function createSqliteStore(file: string, options: SqliteStoreOptions = {}): Store {
  const now = options.now ?? Date.now;
  createPrivateFile(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The wait blocks the event loop, so it stays short; transactions here last microseconds.
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 2000}`);
  db.pragma('foreign_keys = ON');
  // After a checkpoint the WAL file is cut back to this size instead of staying at its peak.
  db.pragma('journal_size_limit = 67108864');
  migrate(db);
  if (options.walAutocheckpointPages !== undefined) db.pragma(`wal_autocheckpoint = ${options.walAutocheckpointPages}`);

  const q = {
    getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE relay_user = ?'),
    listUsers: db.prepare<[], UserRow>('SELECT * FROM users ORDER BY relay_user'),
    insertUser: db.prepare('INSERT INTO users (relay_user, crosstrade_key, webhook_url, relay_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
    updateUser: db.prepare('UPDATE users SET crosstrade_key = ?, webhook_url = ?, relay_secret = ?, updated_at = ? WHERE relay_user = ?'),
    deleteUser: db.prepare('DELETE FROM users WHERE relay_user = ?'),
    deleteUserPositions: db.prepare('DELETE FROM positions WHERE relay_user = ?'),
    getPosition: db.prepare<[string, string, string], PositionRow>('SELECT * FROM positions WHERE relay_user = ? AND account_key = ? AND instrument_key = ?'),
    listPositions: db.prepare<[], PositionRow>('SELECT * FROM positions ORDER BY relay_user, account_key, instrument_key'),
    listUserPositions: db.prepare<[string], PositionRow>('SELECT * FROM positions WHERE relay_user = ? ORDER BY account_key, instrument_key'),
    upsertPosition: db.prepare(`
      INSERT INTO positions (relay_user, account_key, instrument_key, account, instrument, relay_id, direction,
                             opened_at, claimed_at, hold_until, updated_at, version)
      VALUES (@relay_user, @account_key, @instrument_key, @account, @instrument, @relay_id, @direction,
              @opened_at, @claimed_at, @hold_until, @updated_at, @version)
      ON CONFLICT (relay_user, account_key, instrument_key) DO UPDATE SET
        account = excluded.account, instrument = excluded.instrument, relay_id = excluded.relay_id,
        direction = excluded.direction, opened_at = excluded.opened_at, claimed_at = excluded.claimed_at,
        hold_until = excluded.hold_until, updated_at = excluded.updated_at, version = excluded.version`),
    deletePosition: db.prepare('DELETE FROM positions WHERE relay_user = ? AND account_key = ? AND instrument_key = ?'),
    // Conditional: only the version we wrote may be undone (someone may have written since).
    deletePositionAtVersion: db.prepare('DELETE FROM positions WHERE relay_user = ? AND account_key = ? AND instrument_key = ? AND version = ?'),
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
    closePending: db.prepare("UPDATE signal_log SET decision = 'failed', reason = ? WHERE decision = 'pending'"),
    // In batches, so a large prune never holds the write lock for long.
    pruneLogs: db.prepare('DELETE FROM signal_log WHERE id IN (SELECT id FROM signal_log WHERE time < ? LIMIT 1000)'),
    pruneFingerprints: db.prepare('DELETE FROM alert_fingerprints WHERE fingerprint IN (SELECT fingerprint FROM alert_fingerprints WHERE time < ? LIMIT 1000)'),
    findFingerprint: db.prepare<[string, number], { time: number }>('SELECT time FROM alert_fingerprints WHERE fingerprint = ? AND time >= ? LIMIT 1'),
    insertFingerprint: db.prepare(
      'INSERT INTO alert_fingerprints (fingerprint, time) VALUES (?, ?) ON CONFLICT (fingerprint) DO UPDATE SET time = excluded.time',
    ),
    listBlocked: db.prepare<[string, string, string], { relay_id: string }>(
      'SELECT relay_id FROM blocked_senders WHERE relay_user = ? AND account_key = ? AND instrument_key = ?',
    ),
    markBlocked: db.prepare(
      'INSERT INTO blocked_senders (relay_user, account_key, instrument_key, relay_id, since) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    unmarkBlocked: db.prepare('DELETE FROM blocked_senders WHERE relay_user = ? AND account_key = ? AND instrument_key = ? AND relay_id = ?'),
    deleteUserBlocked: db.prepare('DELETE FROM blocked_senders WHERE relay_user = ?'),
    getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE name = ?'),
    setSetting: db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
  };

  const readPosition = (key: PositionKey) => {
    const row = q.getPosition.get(key.relayUser, accountKey(key.account), key.instrumentKey);
    return row ? toPositionRecord(row) : null;
  };

  // A version only has to differ from every other write of the same key, also one made by a
  // second process on the same file: a random 48-bit number does that without coordination.
  const nextVersion = () => randomInt(2 ** 48 - 1);

  /** Writes one ownership row with a fresh version; answers the version. */
  const writeRow = (key: PositionKey, instrument: string, ownership: Ownership): number => {
    const version = nextVersion();
    q.upsertPosition.run({
      relay_user: key.relayUser,
      account_key: accountKey(key.account),
      instrument_key: key.instrumentKey,
      account: key.account,
      instrument,
      relay_id: ownership.relayId,
      direction: ownership.direction,
      opened_at: ownership.openedAt,
      claimed_at: ownership.claimedAt,
      hold_until: ownership.holdUntil,
      updated_at: now(),
      version,
    });
    return version;
  };

  const readState = (key: PositionKey): KeyState => ({
    owner: readPosition(key),
    blocked: new Set(q.listBlocked.all(key.relayUser, accountKey(key.account), key.instrumentKey).map((r) => r.relay_id)),
  });

  const applyMark = (key: PositionKey, mark: SenderMark, time: number) => {
    if (mark.blocked) q.markBlocked.run(key.relayUser, accountKey(key.account), key.instrumentKey, mark.relayId, time);
    else q.unmarkBlocked.run(key.relayUser, accountKey(key.account), key.instrumentKey, mark.relayId);
  };

  const arbitrateTx = db.transaction(<T>(keys: PositionKey[], decide: ArbitrationDecision<unknown>, dedup?: DedupCheck): ArbitrationResult<T> => {
    const current = keys.map(readState);
    const time = now();
    const duplicate = dedup !== undefined && dedup.windowMs > 0 && q.findFingerprint.get(dedup.fingerprint, time - dedup.windowMs) !== undefined;
    const { value, changes, mark, log } = decide(current, { duplicate });
    // Only a decided alert counts as seen: one still waiting for its CrossTrade check is not.
    if (dedup !== undefined && dedup.windowMs > 0 && !duplicate && log !== null) q.insertFingerprint.run(dedup.fingerprint, time);
    const written: WrittenChange[] = [];
    const pendingClears: PendingClear[] = [];
    keys.forEach((key, i) => {
      const change = changes[i] ?? { kind: 'keep' };
      const before = current[i]?.owner ?? null;
      if (change.kind === 'set') written.push({ key, before, afterVersion: writeRow(key, change.instrument, change.ownership) });
      if (change.kind === 'set' && change.displaced) applyMark(key, { relayId: change.displaced, blocked: true }, time);
      // An exit's ownership stays until the exit is delivered: until then no other entry walks in.
      if (change.kind === 'clear' && before !== null) pendingClears.push({ key, version: before.version });
      if (mark) applyMark(key, mark, time);
    });
    const logId = log === null ? null : Number(q.insertLog.run(log).lastInsertRowid);
    return { value: value as T, logId, written, pendingClears };
  });

  const undoTx = db.transaction((written: WrittenChange[], markBlocked?: { keys: PositionKey[]; relayId: string }) => {
    for (const key of markBlocked?.keys ?? []) applyMark(key, { relayId: markBlocked!.relayId, blocked: true }, now());
    for (const w of written) {
      // Conditional: only the version this alert wrote may be undone.
      if (readPosition(w.key)?.version !== w.afterVersion) continue;
      q.deletePositionAtVersion.run(w.key.relayUser, accountKey(w.key.account), w.key.instrumentKey, w.afterVersion);
      if (w.before) writeRow(w.before, w.before.instrument, w.before);
    }
  });

  // Outcomes are written in groups, one transaction per event-loop turn: the durable record
  // came before the forward (the pending row); its completion need not cost a commit each.
  let outcomes: { id: number; outcome: LogOutcome }[] = [];
  const writeOutcomes = db.transaction((batch: { id: number; outcome: LogOutcome }[]) => {
    for (const { id, outcome } of batch) q.completeLog.run({ id, ...outcome });
  });
  const flushOutcomes = () => {
    if (outcomes.length === 0 || !db.open) return;
    const batch = outcomes;
    outcomes = [];
    try {
      writeOutcomes(batch);
    } catch (error) {
      // Busy or failing disk: keep the outcomes and try again shortly; never crash the relay.
      outcomes = [...batch, ...outcomes];
      options.onBackgroundError?.(error);
      setTimeout(flushOutcomes, 200).unref();
    }
  };

  const finishClearsTx = db.transaction((clears: PendingClear[]) => {
    for (const c of clears) q.deletePositionAtVersion.run(c.key.relayUser, accountKey(c.key.account), c.key.instrumentKey, c.version);
  });

  return {
    getUser: (relayUser) => {
      const row = q.getUser.get(relayUser);
      return row ? toUserRecord(row) : null;
    },
    listUsers: () => q.listUsers.all().map(toUserRecord),
    saveUser: db.transaction((user: { relayUser: string; crosstradeKey: string; webhookUrl: string; relaySecret?: string | null }) => {
      const stamp = new Date(now()).toISOString();
      const secret = user.relaySecret ?? null;
      if (q.getUser.get(user.relayUser)) {
        q.updateUser.run(user.crosstradeKey, user.webhookUrl, secret, stamp, user.relayUser);
        return 'updated' as const;
      }
      q.insertUser.run(user.relayUser, user.crosstradeKey, user.webhookUrl, secret, stamp, stamp);
      return 'created' as const;
    }),
    removeUser: db.transaction((relayUser: string) => {
      q.deleteUserPositions.run(relayUser);
      q.deleteUserBlocked.run(relayUser);
      return q.deleteUser.run(relayUser).changes > 0;
    }),
    listPositions: (relayUser) => (relayUser === undefined ? q.listPositions.all() : q.listUserPositions.all(relayUser)).map(toPositionRecord),
    clearPosition: (key) => q.deletePosition.run(key.relayUser, accountKey(key.account), key.instrumentKey).changes > 0,
    arbitrate: <T>(keys: PositionKey[], decide: ArbitrationDecision<unknown>, dedup?: DedupCheck) =>
      arbitrateTx.immediate(keys, decide, dedup) as ArbitrationResult<T>,
    undo: (written, markBlocked) => {
      if (written.length > 0 || markBlocked) undoTx.immediate(written, markBlocked);
    },
    finishClears: (clears) => {
      if (clears.length > 0) finishClearsTx.immediate(clears);
    },
    appendLog: (entry) => Number(q.insertLog.run(entry).lastInsertRowid),
    completeLog: (id, outcome: LogOutcome) => {
      if (outcomes.push({ id, outcome }) === 1) setImmediate(flushOutcomes);
    },
    listLogs: ({ relayUser, limit }) => {
      flushOutcomes();
      return (relayUser === undefined ? q.listLogs.all(limit) : q.listUserLogs.all(relayUser, limit)).map(toLogRecord);
    },
    closeInterruptedForwards: (reason) => q.closePending.run(reason).changes,
    prune: ({ logsBefore, fingerprintsBefore }) => ({
      logs: inBatches(() => q.pruneLogs.run(logsBefore).changes),
      fingerprints: inBatches(() => q.pruneFingerprints.run(fingerprintsBefore).changes),
    }),
    getSetting: (name) => q.getSetting.get(name)?.value ?? null,
    setSetting: (name, value) => {
      q.setSetting.run(name, value);
    },
    close: () => {
      if (!db.open) return;
      flushOutcomes();
      db.close();
    },
  };
}

function inBatches(deleteBatch: () => number): number {
  let total = 0;
  for (let n = deleteBatch(); n > 0; n = deleteBatch()) total += n;
  return total;
}

export function accountKey(account: string): string {
  return account.toLowerCase();
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

/** The database holds CrossTrade keys: create it readable by its owner only (POSIX). */
function createPrivateFile(file: string): void {
  if (file === ':memory:' || fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
}

function toUserRecord(row: UserRow): UserRecord {
  return {
    relayUser: row.relay_user,
    crosstradeKey: row.crosstrade_key,
    webhookUrl: row.webhook_url,
    relaySecret: row.relay_secret,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toPositionRecord(row: PositionRow): PositionRecord {
  return {
    relayUser: row.relay_user,
    account: row.account,
    instrumentKey: row.instrument_key,
    instrument: row.instrument,
    relayId: row.relay_id,
    direction: row.direction,
    openedAt: row.opened_at,
    claimedAt: row.claimed_at,
    holdUntil: row.hold_until,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

function toLogRecord(row: LogRow): SignalLogRecord {
  return {
    id: row.id,
    time: row.time,
    relayUser: row.relay_user,
    relayId: row.relay_id,
    account: row.account,
    instrument: row.instrument,
    signalType: row.signal_type,
    decision: row.decision,
    reason: row.reason,
    apiCheck: row.api_check,
    upstreamStatus: row.upstream_status,
    latencyMs: row.latency_ms,
    alert: row.alert,
  };
}
