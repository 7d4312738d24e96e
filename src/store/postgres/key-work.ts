import { randomInt } from 'node:crypto';
import type { KeyRecord, Strategy, StrategyMark } from '../../engine/types.js';
import type { AlertIdentity, KeyView, KeyWrite, LogOutcome, PositionKey, Refusal, Settlement, SignalLogInput } from '../store.js';
import { accountKey, type KeyRow, keyId, toKeyRecord, toKeyRow } from '../rows.js';

interface SenderRow {
  account_group: string;
  account_key: string;
  instrument_key: string;
  holds_nothing: boolean;
  last_fingerprint: string | null;
}

interface FingerprintRow {
  time: number;
  refused: boolean;
}

/** What a transaction read under its locks: the rows of its keys, the sender's memory on them, one fingerprint. */
export interface LoadedKeys {
  keys: KeyRow[];
  senders: SenderRow[];
  fingerprint: FingerprintRow | null;
}

/**
 * A decision whose write and COMMIT left but whose answer never came (its store call gave up
 * first, or the connection broke): it may have committed. Its caller heard a failure and sent
 * nothing, so what it left is closed later, matched on what it wrote (see KeyWork.void).
 */
export interface Unanswered {
  keys: { key: PositionKey; version: number }[];
  logs: SignalLogInput[];
  /** The alerts it saw as decided (fingerprint, time): their resend must get the 5xx's second chance. */
  fingerprints: { fingerprint: string; time: number }[];
}

/** Changes of one strategy's memory on one key; a field left undefined keeps what the row holds. */
interface StrategyChange {
  key: PositionKey;
  relayUser: string;
  relayId: string;
  holdsNothing?: boolean;
  lastFingerprint?: string;
}

/**
 * One transaction's work on the keys it holds locked, done in memory and written in one statement
 * (`writeStatement`). The rows are read once under the locks, so what is in memory is what the
 * database holds; queued outcomes, refusals and the alert's own decision are applied to it in
 * order, with the same rules as the SQLite store's statements (src/store/sqlite), and only the
 * final state of each row is written: a few round trips per alert whatever it changed.
 */
export class KeyWork {
  private readonly rows = new Map<string, KeyRow | null>();
  private readonly changedRows = new Map<string, PositionKey>();
  private readonly senders = new Map<string, { holdsNothing: boolean; lastFingerprint: string | null }>();
  private readonly strategies = new Map<string, StrategyChange>();
  /** Per fingerprint the time of its last decided and last refused sighting written here. */
  private readonly fingerprints = new Map<string, { decided: number | null; refused: number | null }>();
  private readonly logs: SignalLogInput[] = [];
  private readonly completions = new Map<number, LogOutcome>();
  private readonly voided: { log: SignalLogInput; reason: string }[] = [];
  private readonly unseen: { fingerprint: string; time: number }[] = [];

  /**
   * @param keys every key this work may touch (read and locked by the caller)
   * @param sender whose memory `loaded.senders` holds
   * @param fingerprint the fingerprint `loaded.fingerprint` is the row of
   * @param instanceId the instance writing: its log rows and the orders it puts in flight carry it
   */
  constructor(
    keys: readonly PositionKey[],
    loaded: LoadedKeys,
    private readonly sender: Strategy | null,
    private readonly fingerprint: string | null,
    private readonly now: () => number,
    private readonly instanceId: number,
  ) {
    for (const key of keys) this.rows.set(keyId(key), null);
    for (const row of loaded.keys) this.rows.set(keyId({ accountGroup: row.account_group, account: row.account_key, instrumentKey: row.instrument_key }), row);
    for (const row of loaded.senders) {
      const key = { accountGroup: row.account_group, account: row.account_key, instrumentKey: row.instrument_key };
      this.senders.set(keyId(key), { holdsNothing: row.holds_nothing, lastFingerprint: row.last_fingerprint });
    }
    this.fingerprintRow = loaded.fingerprint;
  }

  private fingerprintRow: FingerprintRow | null;

  row(key: PositionKey): KeyRow | null {
    const id = keyId(key);
    const row = this.rows.get(id);
    // A key nobody read (nor locked) must never be decided on.
    if (row === undefined) throw new Error(`internal: key ${id} was not read in this transaction`);
    return row;
  }

  /** What `decide` sees of one key for the sender this work read. */
  view(key: PositionKey): KeyView {
    const row = this.row(key);
    return { record: toKeyRecord(row), version: row?.version ?? null, sender: this.senderOn(key) };
  }

  private senderOn(key: PositionKey): { holdsNothing: boolean; lastFingerprint: string | null } {
    const stored = this.senders.get(keyId(key)) ?? { holdsNothing: false, lastFingerprint: null };
    if (this.sender === null) return stored;
    const change = this.strategies.get(strategyId(key, this.sender));
    return {
      holdsNothing: change?.holdsNothing ?? stored.holdsNothing,
      lastFingerprint: change?.lastFingerprint ?? stored.lastFingerprint,
    };
  }

  /** An earlier copy of the alert seen within its window (the fingerprint read, with this work's own sightings). */
  earlier(identity: AlertIdentity | null, time: number): { at: number; refused: boolean } | null {
    if (identity === null || identity.fingerprint !== this.fingerprint) return null;
    const row = this.fingerprintRow;
    return row === null || row.time < time - identity.windowMs ? null : { at: row.time, refused: row.refused };
  }

  /** Writes one key's record with a fresh version (a record with no owner and no doubt is deleted); answers the version. */
  writeRecord(key: PositionKey, instrument: string, record: KeyRecord): number | null {
    this.row(key);
    const id = keyId(key);
    this.changedRows.set(id, key);
    // A free, certain key needs no row, unless a reading may still show contracts an order closed.
    if (record.owner === null && record.doubt === null && (record.closingUntil ?? 0) <= this.now()) {
      this.rows.set(id, null);
      return null;
    }
    const { doubt } = record;
    const before = this.rows.get(id) ?? null;
    // An order in flight is its sender's: a record rewritten with the same doubt (the same time)
    // keeps whose it is, so the survivors close it only if that instance stops.
    const inFlightInstance =
      doubt?.kind !== 'in-flight'
        ? null
        : before?.doubt === 'in-flight' && before.doubt_since === doubt.since
          ? (before.in_flight_instance ?? null)
          : this.instanceId;
    const row: KeyRow = { ...toKeyRow(key, instrument, record, this.now(), nextVersion()), in_flight_instance: inFlightInstance };
    this.rows.set(id, row);
    return row.version;
  }

  applyWrite(key: PositionKey, write: KeyWrite, currentVersion: number | null): number | null {
    // An alert that names no instrument (FLATTENEVERYTHING) keeps the one the record shows.
    const instrument = write.instrument !== '' ? write.instrument : (this.row(key)?.instrument ?? '');
    const version = write.record === null ? currentVersion : this.writeRecord(key, instrument, write.record);
    this.mark(key, write.marks);
    return version;
  }

  mark(key: PositionKey, marks: readonly StrategyMark[]): void {
    for (const m of marks) this.changeStrategy(key, m, { holdsNothing: m.holdsNothing });
  }

  /** Records a fingerprint as the strategy's last decided (or refused) alert on the key. */
  setLast(key: PositionKey, strategy: Strategy, fingerprint: string): void {
    this.changeStrategy(key, strategy, { lastFingerprint: fingerprint });
  }

  private changeStrategy(key: PositionKey, strategy: Strategy, change: { holdsNothing?: boolean; lastFingerprint?: string }): void {
    const id = strategyId(key, strategy);
    const known = this.strategies.get(id) ?? { key, relayUser: strategy.relayUser, relayId: strategy.relayId };
    this.strategies.set(id, { ...known, ...change });
  }

  /** A decided copy: its fingerprint is seen at `time` (and no longer refused). */
  seeDecided(fingerprint: string, time: number): void {
    const sightings = this.sightings(fingerprint);
    sightings.decided = time;
    if (fingerprint === this.fingerprint) this.fingerprintRow = { time, refused: false };
  }

  /** A refused copy never hides a decided one: TradingView's resend of that must stay a duplicate. */
  seeRefused(fingerprint: string, time: number): void {
    const sightings = this.sightings(fingerprint);
    sightings.refused = time;
    if (fingerprint !== this.fingerprint) return;
    const row = this.fingerprintRow;
    if (row === null || row.refused) this.fingerprintRow = { time, refused: true };
  }

  private sightings(fingerprint: string): { decided: number | null; refused: number | null } {
    let sightings = this.fingerprints.get(fingerprint);
    if (sightings === undefined) {
      sightings = { decided: null, refused: null };
      this.fingerprints.set(fingerprint, sightings);
    }
    return sightings;
  }

  /** Queues a signal-log row; answers its place among the rows this work inserts. */
  appendLog(entry: SignalLogInput): number {
    this.logs.push(entry);
    return this.logs.length - 1;
  }

  /**
   * What this work's write would leave unfinished if it committed unseen: the keys it puts in
   * flight (with their new versions) and the `pending` rows it logs.
   */
  unanswered(): Unanswered {
    const keys: Unanswered['keys'] = [];
    for (const [id, key] of this.changedRows) {
      const row = this.rows.get(id) ?? null;
      if (row?.doubt === 'in-flight') keys.push({ key, version: row.version });
    }
    const fingerprints = [...this.fingerprints].flatMap(([fingerprint, s]) => (s.decided === null ? [] : [{ fingerprint, time: s.decided }]));
    return { keys, logs: this.logs.filter((l) => l.decision === 'pending'), fingerprints };
  }

  /**
   * Closes what a decision committed unseen left (see Unanswered): each key still as it left it
   * becomes of unknown outcome, each of its rows still `pending` is logged `blocked` with `reason`.
   */
  void(u: Unanswered, reason: string): void {
    for (const { key, version } of u.keys) {
      const row = this.row(key);
      if (row === null || row.version !== version || row.doubt !== 'in-flight') continue;
      this.writeRecord(key, row.instrument, { ...toKeyRecord(row), doubt: { kind: 'unknown-outcome', since: row.doubt_since ?? this.now() } });
    }
    for (const log of u.logs) this.voided.push({ log, reason });
    // The caller answered 503 and sent nothing: TradingView's resend is that alert's second chance,
    // not a duplicate of a decision nobody acted on (an owner's exit would otherwise never go out).
    this.unseen.push(...u.fingerprints);
  }

  completeLog(id: number, outcome: LogOutcome): void {
    this.completions.set(id, outcome);
  }

  /** A forward's outcome: each record only if its key was not written since (same version). */
  settle(s: Settlement): void {
    for (const { key, version, write } of s.keys) {
      const current = this.row(key)?.version ?? null;
      this.applyWrite(key, current === version ? write : { ...write, record: null }, current);
    }
    if (s.log !== null) this.completeLog(s.log.id, s.log.outcome);
  }

  refuse(r: Refusal): void {
    for (const key of r.keys) {
      // The record as it is now, not as it was when the alert was refused: outcomes may have landed since.
      const row = r.record === null ? null : this.row(key);
      const record = row === null ? null : (r.record?.(toKeyRecord(row)) ?? null);
      if (row !== null && record !== null) this.writeRecord(key, row.instrument, record);
      this.mark(key, r.marks);
      if (r.identity !== null) this.setLast(key, r.identity, r.identity.fingerprint);
    }
    if (r.identity !== null) this.seeRefused(r.identity.fingerprint, r.log.time);
    this.appendLog(r.log);
  }

  /** Whether there is anything to write. */
  get empty(): boolean {
    return (
      this.changedRows.size === 0 &&
      this.strategies.size === 0 &&
      this.fingerprints.size === 0 &&
      this.logs.length === 0 &&
      this.completions.size === 0 &&
      this.voided.length === 0 &&
      this.unseen.length === 0
    );
  }

  /**
   * The statement that writes this work's final state, and its parameters: one statement, with
   * only the parts this work needs (see WRITE_PARTS), prepared under a name per shape so each
   * shape is planned once per connection. It answers the ids of the log rows inserted, in order.
   */
  writeQuery(): { name: string; text: string; values: unknown[] } {
    const upserts: KeyRow[] = [];
    const deletes: PositionKey[] = [];
    for (const [id, key] of this.changedRows) {
      const row = this.rows.get(id) ?? null;
      if (row === null) deletes.push(key);
      else upserts.push(row);
    }
    const col = <R, V>(rows: readonly R[], pick: (row: R) => V) => rows.map(pick);
    const changes = [...this.strategies.values()];
    const marksOnly = changes.filter((c) => c.holdsNothing !== undefined && c.lastFingerprint === undefined);
    const lastsOnly = changes.filter((c) => c.holdsNothing === undefined && c.lastFingerprint !== undefined);
    const both = changes.filter((c) => c.holdsNothing !== undefined && c.lastFingerprint !== undefined);
    const strategyColumns = (list: StrategyChange[]) => [
      col(list, (c) => c.key.accountGroup),
      col(list, (c) => accountKey(c.key.account)),
      col(list, (c) => c.key.instrumentKey),
      col(list, (c) => c.relayUser),
      col(list, (c) => c.relayId),
    ];
    // A decided sighting makes the row decided whatever refused copies came after it; without one,
    // the last refused sighting is written as a refused copy.
    const sightings = [...this.fingerprints];
    const decided = sightings.filter(([, s]) => s.decided !== null);
    const refused = sightings.filter(([, s]) => s.decided === null);
    const completions = [...this.completions];
    const now = ms(this.now());
    const parts: { part: WritePart; values: unknown[] }[] = [];
    const add = (part: WritePart, count: number, values: () => unknown[]) => {
      if (count > 0) parts.push({ part, values: values() });
    };
    add('upserted', upserts.length, () => [
      col(upserts, (r) => r.account_group),
      col(upserts, (r) => r.account_key),
      col(upserts, (r) => r.instrument_key),
      col(upserts, (r) => r.account),
      col(upserts, (r) => r.instrument),
      col(upserts, (r) => r.owner_user),
      col(upserts, (r) => r.owner_id),
      col(upserts, (r) => r.direction),
      col(upserts, (r) => r.quantity),
      col(upserts, (r) => ms(r.opened_at)),
      col(upserts, (r) => ms(r.claimed_at)),
      col(upserts, (r) => ms(r.hold_until)),
      col(upserts, (r) => r.doubt),
      col(upserts, (r) => ms(r.doubt_since)),
      col(upserts, (r) => ms(r.updated_at)),
      col(upserts, (r) => r.version),
      col(upserts, (r) => ms(r.closing_until)),
      col(upserts, (r) => r.in_flight_instance ?? null),
    ]);
    add('deleted', deletes.length, () => [
      col(deletes, (k) => k.accountGroup),
      col(deletes, (k) => accountKey(k.account)),
      col(deletes, (k) => k.instrumentKey),
    ]);
    add('marked', marksOnly.length, () => [...strategyColumns(marksOnly), col(marksOnly, (c) => c.holdsNothing), now]);
    add('lasts', lastsOnly.length, () => [...strategyColumns(lastsOnly), col(lastsOnly, (c) => c.lastFingerprint), now]);
    add('marked_and_last', both.length, () => [...strategyColumns(both), col(both, (c) => c.holdsNothing), col(both, (c) => c.lastFingerprint), now]);
    add('decided', decided.length, () => [col(decided, ([f]) => f), col(decided, ([, s]) => ms(s.decided))]);
    add('refused', refused.length, () => [col(refused, ([f]) => f), col(refused, ([, s]) => ms(s.refused))]);
    add('unseen', this.unseen.length, () => [col(this.unseen, (u) => u.fingerprint), col(this.unseen, (u) => ms(u.time))]);
    add('completed', completions.length, () => [
      col(completions, ([id]) => id),
      col(completions, ([, o]) => o.decision),
      col(completions, ([, o]) => o.reason),
      col(completions, ([, o]) => o.upstreamStatus),
      col(completions, ([, o]) => o.latencyMs),
    ]);
    add('voided', this.voided.length, () => [
      col(this.voided, (v) => ms(v.log.time)),
      col(this.voided, (v) => v.log.relayUser),
      col(this.voided, (v) => v.log.relayId),
      col(this.voided, (v) => v.log.alert),
      col(this.voided, (v) => v.reason),
      this.instanceId,
    ]);
    add('logged', this.logs.length, () => [
      col(this.logs, (l) => ms(l.time)),
      col(this.logs, (l) => l.relayUser),
      col(this.logs, (l) => l.relayId),
      col(this.logs, (l) => l.account),
      col(this.logs, (l) => l.instrument),
      col(this.logs, (l) => l.signalType),
      col(this.logs, (l) => l.decision),
      col(this.logs, (l) => l.reason),
      col(this.logs, (l) => l.apiCheck),
      col(this.logs, (l) => l.upstreamStatus),
      col(this.logs, (l) => l.latencyMs),
      col(this.logs, (l) => l.alert),
      this.instanceId,
    ]);
    return writeStatement(parts);
  }
}

const STRATEGY_COLUMNS = 'account_group, account_key, instrument_key, relay_user, relay_id, holds_nothing, last_fingerprint, updated_at';
const STRATEGY_KEY = 'account_group, account_key, instrument_key, relay_user, relay_id';

/**
 * Reads what a transaction works on, under its locks: $1-$3 the keys, $4-$5 the sender, $6 a fingerprint, $7 a user, $8 account groups listed whole.
 * Planned once per connection for any values (plan_cache_mode force_generic_plan), so it is written
 * to need an index whatever the planner guesses: each key is looked up on its own (a lateral
 * subquery kept apart by OFFSET 0), and the groups' read runs only when groups are listed. Written
 * as `IN (SELECT unnest ...)` and `= ANY($8)`, a generic plan read the whole of key_records and
 * strategy_keys for every alert (bench/RESULTS.md, 2026-11-30).
 */
export const LOAD_STATEMENT = `
SELECT
  (SELECT coalesce(json_agg(k ORDER BY k.account_group, k.account_key, k.instrument_key), '[]'::json)
    FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[])) AS x(g, a, i)
    CROSS JOIN LATERAL (SELECT * FROM key_records k WHERE k.account_group = x.g AND k.account_key = x.a AND k.instrument_key = x.i OFFSET 0) AS k) AS keys,
  (SELECT coalesce(json_agg(json_build_object('account_group', s.account_group, 'account_key', s.account_key, 'instrument_key', s.instrument_key,
                                              'holds_nothing', s.holds_nothing, 'last_fingerprint', s.last_fingerprint)
                            ORDER BY s.account_group, s.account_key, s.instrument_key), '[]'::json)
    FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[], $3::text[])) AS x(g, a, i)
    CROSS JOIN LATERAL (SELECT * FROM strategy_keys s WHERE s.account_group = x.g AND s.account_key = x.a AND s.instrument_key = x.i
                          AND s.relay_user = $4 AND s.relay_id = $5 OFFSET 0) AS s) AS senders,
  (SELECT json_build_object('time', f.time, 'refused', f.refused) FROM alert_fingerprints f WHERE f.fingerprint = $6) AS fingerprint,
  (SELECT row_to_json(u) FROM users u WHERE u.relay_user = $7) AS "user",
  CASE WHEN cardinality($8::text[]) = 0 THEN '[]'::json ELSE
    (SELECT coalesce(json_agg(json_build_array(k.account_group, k.account, k.instrument_key) ORDER BY k.account_group, k.account_key, k.instrument_key), '[]'::json)
      FROM (SELECT DISTINCT * FROM unnest($8::text[])) AS x(g)
      CROSS JOIN LATERAL (SELECT * FROM key_records k WHERE k.account_group = x.g OFFSET 0) AS k)
  END AS groups`;

/**
 * LOAD_STATEMENT with a digest of all it read (md5 of the row's text; every list in it is in key
 * order), for a look whose read a later round may decide on (see GUARD_STATEMENT). `OFFSET 0`
 * keeps the read a subquery of its own: pulled up, its reads would each run twice (for `l.*` and
 * for the digest).
 */
export const LOOK_STATEMENT = `SELECT l.*, md5(l::text) AS digest FROM (${LOAD_STATEMENT} OFFSET 0) AS l`;

/**
 * Run under the locks before a write decided on a look's read: the same read, failing with
 * division_by_zero (22012) unless its digest is the look's ($9). The error aborts the transaction,
 * so the write pipelined behind it and the COMMIT do nothing. A function of our own raising a
 * named error would need a schema change; this needs none, and no statement of the store divides.
 */
export const GUARD_STATEMENT = `SELECT 1 / (md5(l::text) = $9::text)::int AS unchanged FROM (${LOAD_STATEMENT}) AS l`;

/** The SQLSTATE of GUARD_STATEMENT's failure: what the look read has changed. */
export const GUARD_FAILED = '22012';

/**
 * The parts of the statement that writes a KeyWork's final state, each a data-modifying CTE of
 * its own, in this order; `$` numbers the part's own parameters (1, 2, ...) in the statement.
 * A part with nothing to write is left out: the server would still plan and start it.
 */
const WRITE_PARTS = {
  upserted: ($: (n: number) => string) => `
  INSERT INTO key_records (account_group, account_key, instrument_key, account, instrument, owner_user, owner_id, direction, quantity,
                           opened_at, claimed_at, hold_until, doubt, doubt_since, updated_at, version, closing_until, in_flight_instance)
  SELECT * FROM unnest(${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::text[], ${$(6)}::text[], ${$(7)}::text[],
                       ${$(8)}::text[], ${$(9)}::float8[], ${$(10)}::bigint[], ${$(11)}::bigint[], ${$(12)}::bigint[], ${$(13)}::text[],
                       ${$(14)}::bigint[], ${$(15)}::bigint[], ${$(16)}::bigint[], ${$(17)}::bigint[], ${$(18)}::bigint[])
  ON CONFLICT (account_group, account_key, instrument_key) DO UPDATE SET
    account = excluded.account, instrument = excluded.instrument, owner_user = excluded.owner_user, owner_id = excluded.owner_id,
    direction = excluded.direction, quantity = excluded.quantity, opened_at = excluded.opened_at, claimed_at = excluded.claimed_at,
    hold_until = excluded.hold_until, doubt = excluded.doubt, doubt_since = excluded.doubt_since, updated_at = excluded.updated_at,
    version = excluded.version, closing_until = excluded.closing_until, in_flight_instance = excluded.in_flight_instance`,
  deleted: ($: (n: number) => string) => `
  DELETE FROM key_records k USING unnest(${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[]) AS d(g, a, i)
  WHERE k.account_group = d.g AND k.account_key = d.a AND k.instrument_key = d.i`,
  // A mark that changes nothing writes nothing: every delivered forward marks its sender (issue 9).
  marked: ($: (n: number) => string) => `
  INSERT INTO strategy_keys (${STRATEGY_COLUMNS})
  SELECT g, a, i, u, r, h, NULL, ${$(7)}::bigint
  FROM unnest(${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::text[], ${$(6)}::boolean[]) AS m(g, a, i, u, r, h)
  ON CONFLICT (${STRATEGY_KEY}) DO UPDATE SET holds_nothing = excluded.holds_nothing, updated_at = excluded.updated_at
  WHERE strategy_keys.holds_nothing <> excluded.holds_nothing`,
  lasts: ($: (n: number) => string) => `
  INSERT INTO strategy_keys (${STRATEGY_COLUMNS})
  SELECT g, a, i, u, r, false, f, ${$(7)}::bigint
  FROM unnest(${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::text[], ${$(6)}::text[]) AS m(g, a, i, u, r, f)
  ON CONFLICT (${STRATEGY_KEY}) DO UPDATE SET last_fingerprint = excluded.last_fingerprint, updated_at = excluded.updated_at`,
  marked_and_last: ($: (n: number) => string) => `
  INSERT INTO strategy_keys (${STRATEGY_COLUMNS})
  SELECT g, a, i, u, r, h, f, ${$(8)}::bigint
  FROM unnest(${$(1)}::text[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::text[], ${$(6)}::boolean[], ${$(7)}::text[]) AS m(g, a, i, u, r, h, f)
  ON CONFLICT (${STRATEGY_KEY}) DO UPDATE SET holds_nothing = excluded.holds_nothing, last_fingerprint = excluded.last_fingerprint, updated_at = excluded.updated_at`,
  decided: ($: (n: number) => string) => `
  INSERT INTO alert_fingerprints (fingerprint, time, refused) SELECT f, t, false FROM unnest(${$(1)}::text[], ${$(2)}::bigint[]) AS x(f, t)
  ON CONFLICT (fingerprint) DO UPDATE SET time = excluded.time, refused = false`,
  // A refused copy never hides a decided one: TradingView's resend of it must stay a duplicate.
  refused: ($: (n: number) => string) => `
  INSERT INTO alert_fingerprints (fingerprint, time, refused) SELECT f, t, true FROM unnest(${$(1)}::text[], ${$(2)}::bigint[]) AS x(f, t)
  ON CONFLICT (fingerprint) DO UPDATE SET time = excluded.time WHERE alert_fingerprints.refused`,
  // Only a sighting still as the unseen decision wrote it: a later decided copy stays decided.
  unseen: ($: (n: number) => string) => `
  UPDATE alert_fingerprints f SET refused = true FROM unnest(${$(1)}::text[], ${$(2)}::bigint[]) AS x(fp, t)
  WHERE f.fingerprint = x.fp AND f.time = x.t AND NOT f.refused`,
  completed: ($: (n: number) => string) => `
  UPDATE signal_log l SET decision = c.decision, reason = c.reason, upstream_status = c.status, latency_ms = c.latency
  FROM unnest(${$(1)}::bigint[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::integer[], ${$(5)}::float8[]) AS c(id, decision, reason, status, latency)
  WHERE l.id = c.id`,
  // Rows are found by what was logged: a decision committed unseen never learnt its row's id.
  voided: ($: (n: number) => string) => `
  UPDATE signal_log l SET decision = 'blocked', reason = v.reason
  FROM unnest(${$(1)}::bigint[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::text[]) AS v(t, u, r, al, reason)
  WHERE l.decision = 'pending' AND l.instance_id = ${$(6)}::bigint AND l.time = v.t AND l.relay_user IS NOT DISTINCT FROM v.u
    AND l.relay_id IS NOT DISTINCT FROM v.r AND l.alert = v.al`,
  logged: ($: (n: number) => string) => `
  INSERT INTO signal_log (time, relay_user, relay_id, account, instrument, signal_type, decision, reason, api_check, upstream_status, latency_ms, alert,
                          instance_id)
  SELECT t, u, r, a, i, s, d, re, c, st, l, al, ${$(13)}::bigint
  FROM unnest(${$(1)}::bigint[], ${$(2)}::text[], ${$(3)}::text[], ${$(4)}::text[], ${$(5)}::text[], ${$(6)}::text[], ${$(7)}::text[], ${$(8)}::text[],
              ${$(9)}::text[], ${$(10)}::integer[], ${$(11)}::float8[], ${$(12)}::text[]) WITH ORDINALITY AS x(t, u, r, a, i, s, d, re, c, st, l, al, n)
  ORDER BY n
  RETURNING id`,
};

type WritePart = keyof typeof WRITE_PARTS;
const PART_NAMES = Object.keys(WRITE_PARTS) as WritePart[];

/** The statement of the given parts (in WRITE_PARTS order), named by which they are; answers the ids of the log rows inserted. */
function writeStatement(parts: readonly { part: WritePart; values: unknown[] }[]): { name: string; text: string; values: unknown[] } {
  const values: unknown[] = [];
  const ctes: string[] = [];
  for (const { part, values: own } of parts) {
    const offset = values.length;
    ctes.push(`${part} AS (${WRITE_PARTS[part]((n) => `$${offset + n}`)}\n)`);
    values.push(...own);
  }
  const present = new Set(parts.map((p) => p.part));
  const ids = present.has('logged') ? "SELECT coalesce(json_agg(id ORDER BY id), '[]'::json) AS ids FROM logged" : "SELECT '[]'::json AS ids";
  return {
    name: `relay-write-${PART_NAMES.map((name) => (present.has(name) ? '1' : '0')).join('')}`,
    text: `WITH ${ctes.join(', ')}\n${ids}`,
    values,
  };
}

// A version only has to differ from every other write of the same key, also one made by another
// instance: a random 48-bit number does that without coordination (as in the SQLite store).
function nextVersion(): number {
  return randomInt(2 ** 48 - 1);
}

/** A time in ms for a BIGINT column: a clock that answers fractions of a ms is rounded, as PostgreSQL would refuse it. */
export function ms(time: number | null): number | null {
  return time === null || !Number.isFinite(time) ? time : Math.round(time);
}

function strategyId(key: PositionKey, strategy: Strategy): string {
  return JSON.stringify([keyId(key), strategy.relayUser, strategy.relayId]);
}
