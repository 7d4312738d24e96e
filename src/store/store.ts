import type { Decision, DoubtKind, KeyRecord, Ownership, SignalType, Strategy, StrategyMark } from '../engine/types.js';

export interface UserRecord {
  relayUser: string;
  crosstradeKey: string;
  webhookUrl: string;
  /** Optional passphrase alerts for this user must carry as relay_secret (issue 3). */
  relaySecret: string | null;
  /** Users with the same CrossTrade key trade the same CrossTrade accounts: they are arbitrated as one (see account-group.ts). */
  accountGroup: string;
  /** Paper mode (issue 8): orders go to the relay's paper book, not to CrossTrade. */
  paper: boolean;
  createdAt: string;
  updatedAt: string;
}

/** One arbitrated key: (CrossTrade account group, account, instrument product root). */
export interface PositionKey {
  accountGroup: string;
  account: string; // as the alert wrote it; compared case-insensitively
  instrumentKey: string; // product root, e.g. RTY (see signal/instrument.ts)
}

/** A key named the way a person names it: through one relay user's CrossTrade account. */
export interface UserPositionKey {
  relayUser: string;
  account: string;
  instrumentKey: string;
}

/** An owned key, as listings show it. */
export interface PositionRecord extends Ownership {
  account: string;
  instrumentKey: string;
  instrument: string; // the instrument as the owner's alert wrote it
  doubt: DoubtKind | null;
  updatedAt: number;
}

/** `pending`: decided and about to be sent; `unknown`: sent, outcome unknown; `admin`: a change made by hand in the console (issue 11). */
export type LogDecision = Decision | 'pending' | 'admin';

export interface SignalLogInput {
  time: number;
  relayUser: string | null;
  relayId: string | null;
  account: string | null;
  instrument: string | null;
  signalType: SignalType | null;
  decision: LogDecision;
  reason: string;
  apiCheck: string | null;
  upstreamStatus: number | null;
  latencyMs: number | null;
  alert: string; // the alert with its key and secrets removed
}

export interface SignalLogRecord extends SignalLogInput {
  id: number;
}

/** Which signal-log rows to list or count; every given condition must hold. */
export interface LogQuery {
  relayUser?: string;
  relayId?: string;
  /** Any of these decisions. */
  decisions?: readonly LogDecision[];
  /** At or after this time (ms since the epoch). */
  since?: number;
  /** Before this time (ms since the epoch). */
  until?: number;
  /** Rows with a greater id only (the console's live feed reads what is new since its last look). */
  afterId?: number;
  /** The oldest rows first (default: the newest): a live feed reading a burst larger than its limit loses none. */
  oldestFirst?: boolean;
}

export interface LogOutcome {
  decision: Decision;
  reason: string;
  upstreamStatus: number | null;
  latencyMs: number;
}

/** What one key holds, as `decide` sees it inside the transaction. */
export interface KeyView {
  record: KeyRecord;
  /** The row's version; null when the key has no row. */
  version: number | null;
  /** The alert's sender on this key: whether it holds nothing, and the fingerprint of its last decided alert. */
  sender: { holdsNothing: boolean; lastFingerprint: string | null };
}

/** What to write to one key: the record (null: leave it) and marks of strategies on it. */
export interface KeyWrite {
  record: KeyRecord | null;
  marks: StrategyMark[];
  /** The instrument as the alert wrote it (shown in listings). */
  instrument: string;
}

/** Recognising copies of an alert: the same body from the same strategy (issue 7, case 3). */
export interface AlertIdentity {
  fingerprint: string;
  relayUser: string;
  relayId: string;
  /** How far back (ms) an earlier copy counts. */
  windowMs: number;
}

/** Chooses, inside the transaction, what the keys become; pure (no I/O). */
export type ArbitrationDecision<T> = (
  views: KeyView[],
  earlier: { at: number; refused: boolean } | null,
) => {
  value: T;
  /** Per key (same order as the keys); null writes nothing. */
  writes: (KeyWrite | null)[];
  /** Record this alert as the sender's last on its keys, and its fingerprint as seen (a decided alert). */
  seen: boolean;
  log: SignalLogInput | null;
};

/** What `arbitrateAs` decides on, once the user is known. */
export interface ArbitrationPlan<T> {
  keys: PositionKey[];
  sender: Strategy;
  decide: ArbitrationDecision<T>;
  identity: AlertIdentity | null;
  /**
   * A hint: `decide` most likely writes nothing this time (it will ask for CrossTrade's reading
   * first). A store may then read without locks and answer what `decide` chose on that read when
   * it writes nothing (no write, not seen, no log row); anything else is decided again under the
   * locks. The PostgreSQL store saves a round trip and a transaction that way; SQLite ignores it.
   */
  look?: boolean;
  /**
   * The look this alert's previous round was answered from (ArbitrationResult.look), when this
   * round follows the CrossTrade reading it asked for. A store may decide this round on what that
   * look read, and write it in one round trip, when it finds under the locks that nothing it read
   * has changed since; otherwise (or when it cannot tell) it decides as usual. SQLite ignores it.
   */
  after?: LookToken;
}

/** What a look read, opaque: a result's `look`, handed back as the next round's `after`. */
export interface LookToken {
  /** When the look read (ms since the epoch). */
  readonly lookedAt: number;
}

export interface ArbitrationResult<T> {
  value: T;
  /** id of the signal-log row written in the transaction; null when `decide` wrote none */
  logId: number | null;
  /** The version each key's row has after the transaction (null: no row). */
  versions: (number | null)[];
  /** Set when a look without locks (ArbitrationPlan.look) answered, for the next round's `after`. */
  look?: LookToken;
}

/** The outcome of a forward, written once CrossTrade answered: each record only if its key was not written since. */
export interface Settlement {
  keys: { key: PositionKey; version: number | null; write: KeyWrite }[];
  log: { id: number; outcome: LogOutcome } | null;
}

/** An alert refused before anything was decided (database busy): recorded once the database frees. */
export interface Refusal {
  keys: PositionKey[];
  marks: StrategyMark[];
  /**
   * What each key's record becomes (engine: recordAfterRefusal), applied to the record as it is when
   * the refusal is written; null (or a null answer) leaves the record. Pure, like `decide`.
   */
  record: ((record: KeyRecord) => KeyRecord | null) | null;
  identity: AlertIdentity | null;
  log: SignalLogInput;
}

/** One relay process on the database: who it is (issue 10, several instances). */
export interface InstanceIdentity {
  /** Random, chosen at open; the rows the instance leaves unfinished carry it. */
  id: number;
  host: string;
  pid: number;
  /** When the store was opened (ms since the epoch). */
  startedAt: number;
}

/** An instance as the database knows it. */
export interface InstanceRecord extends InstanceIdentity {
  /** Its last heartbeat (ms since the epoch, the database's clock). */
  lastSeen: number;
}

/** What closing the forwards of stopped instances did. */
export interface StoppedInstances {
  /** The stopped instances found registered (no heartbeat within the timeout), now removed. */
  instances: InstanceRecord[];
  /** Signal-log rows closed (`pending` became `unknown`). */
  logs: number;
  /** Keys whose order in flight became of unknown outcome. */
  keys: number;
}

/**
 * A rate limit's rule. `window`: at most `limit` events per fixed window of `windowMs`, the window
 * starting at the first event after the last one ended (every event counts, refused ones too).
 * `bucket`: a token bucket of `capacity` tokens refilled at `refillPerSecond`; a take spends its
 * cost only when the bucket holds it.
 */
export type LimitRule = ({ kind: 'window'; limit: number; windowMs: number } | { kind: 'bucket'; capacity: number; refillPerSecond: number }) & {
  /**
   * Lets a store shared by several instances take events (window) or tokens (bucket) ahead, for
   * this instance's next takes: as many as it took in the last `aheadMs` ms, spent within
   * `aheadMs` without asking the database. Never more is granted in all than the rule allows, but
   * another instance may be refused while what was taken ahead waits unspent (given back after
   * `aheadMs`, unspent, so it does not stay counted to the window's end). Without it every take
   * is one statement. A store of one process (SQLite) counts every take exactly either way.
   */
  aheadMs?: number;
};

/** What a limit says about one subject at one moment. */
export interface LimitAnswer {
  /** The take was counted within the limit (`takeLimit`), or one more would be (`limitReached`). */
  allowed: boolean;
  /** Events (window) or whole tokens (bucket) left. */
  remaining: number;
  /** How long (ms) until the subject is allowed again; 0 when allowed. */
  retryAfterMs: number;
  /** Events counted in the current window, or tokens spent from a full bucket (rounded up): 0 when nothing counts against the subject. */
  used: number;
}

/**
 * The store contract (issue 10): one interface, two implementations (SQLite, the embedded default,
 * and PostgreSQL for several instances), both run through the same contract suite
 * (test/store/contract). Every method is asynchronous; failures are the store's own errors
 * (StoreBusyError, StoreUnavailableError below): nothing above the store knows an SQLite or
 * PostgreSQL error code.
 */
export interface Store {
  /** Which implementation this is (logs, /health, doctor). */
  readonly kind: 'sqlite' | 'postgres';

  getUser(relayUser: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** Creates or replaces a user; answers which it did. A changed CrossTrade key moves the user's positions to its new account group. */
  saveUser(user: {
    relayUser: string;
    crosstradeKey: string;
    webhookUrl: string;
    relaySecret?: string | null;
    paper?: boolean;
  }): Promise<'created' | 'updated'>;
  /** Removes a user and the positions it owns (its signal log stays); false when unknown. Its strategies hold nothing. */
  removeUser(relayUser: string): Promise<boolean>;

  /** Owned keys, all or those a relay_user's strategies own. */
  listPositions(relayUser?: string): Promise<PositionRecord[]>;
  /** Every key the account group has a record of (FLATTENEVERYTHING closes them all). */
  listKeys(accountGroup: string): Promise<PositionKey[]>;
  /** Releases a key by hand; its owner holds nothing there any more. False when nobody owned it. */
  clearPosition(key: UserPositionKey): Promise<boolean>;

  /**
   * The atomic step: in one write transaction that holds the alert's keys against every other
   * writer (SQLite: BEGIN IMMEDIATE; PostgreSQL: the keys locked in a fixed order, never across a
   * network call) applies refusals and settlements still queued, reads the keys, finds an earlier
   * copy of the alert, lets `decide` choose, writes the changes, the marks and the signal-log row.
   * `decide` must be pure (no I/O) and may be called more than once.
   * @throws StoreBusyError when another writer holds the keys past the busy timeout (nothing written).
   * @throws StoreUnavailableError when the database cannot be reached or does not answer in time.
   */
  arbitrate<T>(keys: PositionKey[], sender: Strategy, decide: ArbitrationDecision<T>, identity: AlertIdentity | null): Promise<ArbitrationResult<T>>;
  /**
   * `arbitrate` for an alert's first round: the user is read and `plan` chooses the keys inside the
   * same transaction, so the common path of an alert is one transaction (issue 9). `plan` answers
   * null to decide nothing (an unknown user, a refused relay_secret): then the answer is null.
   * `plan` must be pure and fast, like `decide`, and may be called more than once: an
   * implementation that cannot read synchronously calls it again once the keys an account group
   * asked for are loaded.
   * @throws StoreBusyError, StoreUnavailableError as `arbitrate`.
   */
  arbitrateAs<T>(
    relayUser: string,
    plan: (user: UserRecord | null, listKeys: (accountGroup: string) => PositionKey[]) => ArbitrationPlan<T> | null,
  ): Promise<ArbitrationResult<T> | null>;
  /** Writes a forward's outcome; when the database is busy or away it is queued and retried until written (never lost, never thrown). */
  settle(settlement: Settlement): void;
  /** Records an alert refused before any decision; queued and retried like `settle`. */
  recordRefusal(refusal: Refusal): void;
  /** Resolves once every queued outcome and refusal is written (tests, shutdown); rejects when they cannot be. */
  flush(): Promise<void>;

  /**
   * Resolves once every decision committed before the call would survive a power cut of the
   * machine (SQLite: an fsync shared by the alerts committed meanwhile; PostgreSQL: its commit
   * already waited for the WAL flush, so at once). The relay awaits it before an order leaves and
   * before it answers. Rejects when the disk fails.
   */
  sync(): Promise<void>;

  appendLog(entry: SignalLogInput): Promise<number>;
  /** Newest first. */
  listLogs(options: LogQuery & { limit: number }): Promise<SignalLogRecord[]>;
  /** How many rows of each decision match (decisions with none are absent). */
  countLogs(query: LogQuery): Promise<Partial<Record<LogDecision, number>>>;
  /**
   * At start, after a crash: forwards left `pending` become `unknown` (with `reason`), keys left in
   * flight become of unknown outcome (their version kept: an instance still running may yet settle
   * its own order); answers how many log rows. SQLite (one process): every such row and key.
   * PostgreSQL: only those no live instance owns (see closeStoppedInstances); another instance's
   * forwards in flight are left to it.
   */
  closeInterruptedForwards(reason: string): Promise<number>;

  /**
   * This store's instance. PostgreSQL: registered at open, its heartbeat kept by the store until
   * close(), which removes it; rows it writes `pending` and keys it leaves in flight carry its id.
   * SQLite: the one process, registered nowhere.
   */
  readonly instance: InstanceIdentity;
  /** The instances alive on the database (a heartbeat within the timeout), this one included, oldest first. SQLite: this one. */
  listInstances(): Promise<InstanceRecord[]>;
  /**
   * Closes what stopped instances left unfinished, in one transaction: their `pending` rows become
   * `unknown` with `reason(instance)` (null: rows of an instance no longer registered), their keys
   * in flight of unknown outcome, their registration is removed. An instance is stopped when its
   * heartbeat is older than the store's instance timeout. Safe when several instances do it at once.
   * SQLite (one process): nothing to close.
   * @throws StoreBusyError, StoreUnavailableError
   */
  closeStoppedInstances(reason: (instance: InstanceRecord | null) => string): Promise<StoppedInstances>;

  /** Deletes signal-log rows and alert fingerprints older than the given times; answers how many of each. */
  prune(options: { logsBefore: number; fingerprintsBefore: number }): Promise<{ logs: number; fingerprints: number }>;

  /** The paper book of a paper account group, as savePaperBook stored it; null when it has none. */
  getPaperBook(accountGroup: string): Promise<string | null>;
  savePaperBook(accountGroup: string, book: string): Promise<void>;

  getSetting(name: string): Promise<string | null>;
  setSetting(name: string, value: string): Promise<void>;

  /**
   * Rate limits (issue 10): counts one event (or spends `cost` tokens) of limit `name` for `subject`
   * at `now` (ms since the epoch, the caller's clock) and answers whether it was within the rule.
   * Limits are named by the caller, who passes the same rule for a name every time. PostgreSQL: one
   * atomic statement on a row shared by every instance on the database; SQLite (one process): in
   * memory, bounded, lost at a restart. A subject may be an address or a relay user, never a secret
   * (hash a CrossTrade key first).
   * @throws StoreBusyError, StoreUnavailableError (PostgreSQL)
   */
  takeLimit(name: string, subject: string, rule: LimitRule, now: number, cost?: number): Promise<LimitAnswer>;
  /** What `takeLimit` of one event would answer, without counting it. */
  limitReached(name: string, subject: string, rule: LimitRule, now: number): Promise<LimitAnswer>;
  /** Forgets what limit `name` counted for `subject` (an admin's success clears its address's failures). */
  resetLimit(name: string, subject: string): Promise<void>;

  /** Answers within `timeoutMs` whether the database takes a query (GET /health); never throws. */
  ping(timeoutMs: number): Promise<boolean>;

  /**
   * Writes what is queued (within a bounded time) and closes; a second call does nothing. With
   * `interrupted` (a relay stopping), what this store left unfinished once the queue is written is
   * closed first, with that reason: the `pending` rows it wrote become `unknown`, the keys it put
   * in flight (not written since) of unknown outcome. Without it they are left for the next start
   * (SQLite) or the other instances (PostgreSQL).
   */
  close(interrupted?: string): Promise<void>;
}

/** Another process holds the database's write lock past the busy timeout: nothing was written. */
export class StoreBusyError extends Error {
  override name = 'StoreBusyError';
  constructor(options?: ErrorOptions) {
    super('database busy: another process holds the write lock', options);
  }
}

export function isStoreBusyError(error: unknown): error is StoreBusyError {
  return error instanceof StoreBusyError;
}

/** The database cannot be reached, refused the connection, or did not answer within its timeout: nothing is known to be written. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(what: string, options?: ErrorOptions) {
    super(`database unavailable: ${what}`, options);
  }
}

export function isStoreUnavailableError(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError;
}
