import type { Decision, Ownership, SignalType } from '../engine/types.js';

export interface UserRecord {
  relayUser: string;
  crosstradeKey: string;
  webhookUrl: string;
  /** Optional passphrase alerts for this user must carry as relay_secret (issue 3). */
  relaySecret: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One arbitrated key: (relay_user, account, instrument product root). */
export interface PositionKey {
  relayUser: string;
  account: string; // as the alert wrote it; compared case-insensitively
  instrumentKey: string; // product root, e.g. RTY (see signal/instrument.ts)
}

export interface PositionRecord extends PositionKey, Ownership {
  instrument: string; // the instrument as the owner's alert wrote it
  updatedAt: number;
  version: number;
}

export type LogDecision = Decision | 'pending';

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

export interface LogOutcome {
  decision: Decision;
  reason: string;
  upstreamStatus: number | null;
  latencyMs: number;
}

/** What one key should become, decided inside the store's transaction. */
export type KeyChange =
  | { kind: 'keep' }
  | { kind: 'clear' }
  /** `displaced`: the stale owner this claim replaces, remembered as holding no position. */
  | { kind: 'set'; ownership: Ownership; instrument: string; displaced?: string };

/** What `decide` sees of one key. */
export interface KeyState {
  owner: PositionRecord | null;
  /** relay_ids whose last entry on this key was blocked: they hold no position here. */
  blocked: ReadonlySet<string>;
}

/** Marks (or unmarks) the alert's sender as blocked on every key of the alert. */
export interface SenderMark {
  relayId: string;
  blocked: boolean;
}

export interface ArbitrationResult<T> {
  value: T;
  /** id of the signal-log row written in the transaction; null when `decide` wrote none */
  logId: number | null;
  /** Claims written, so a definitely failed forward can be undone (see `undo`). */
  written: WrittenChange[];
  /** Ownerships an exit ends: released only once the exit is delivered (see `finishClears`). */
  pendingClears: PendingClear[];
}

export interface WrittenChange {
  key: PositionKey;
  before: PositionRecord | null;
  /** version of the row written */
  afterVersion: number;
}

export interface PendingClear {
  key: PositionKey;
  version: number;
}

/** Drops a repeat of the same alert body from the same relay_user and relay_id inside a window. */
export interface DedupCheck {
  fingerprint: string;
  windowMs: number;
}

/** Chooses, inside the transaction, what the keys become; pure (no I/O). */
export type ArbitrationDecision<T> = (
  current: KeyState[],
  context: { duplicate: boolean },
) => { value: T; changes: KeyChange[]; mark?: SenderMark | null; log: SignalLogInput | null };

export interface Store {
  getUser(relayUser: string): UserRecord | null;
  listUsers(): UserRecord[];
  /** Creates or replaces a user; answers which it did. */
  saveUser(user: { relayUser: string; crosstradeKey: string; webhookUrl: string; relaySecret?: string | null }): 'created' | 'updated';
  /** Removes a user and its positions (its signal log stays); false when unknown. */
  removeUser(relayUser: string): boolean;

  listPositions(relayUser?: string): PositionRecord[];
  clearPosition(key: PositionKey): boolean;

  /**
   * The atomic step: in one write transaction (BEGIN IMMEDIATE, so it also holds against a
   * second relay process on the same file) reads the keys' ownerships, lets `decide` choose
   * the changes, writes them and the signal-log row. `decide` must be pure: no I/O inside.
   */
  arbitrate<T>(keys: PositionKey[], decide: ArbitrationDecision<T>, dedup?: DedupCheck): ArbitrationResult<T>;
  /**
   * Restores what `arbitrate` wrote, key by key, unless somebody wrote the key since; in the same
   * transaction marks `markBlocked` (the sender whose order definitely failed) on `keys`.
   */
  undo(written: WrittenChange[], markBlocked?: { keys: PositionKey[]; relayId: string }): void;
  /** Ends the ownerships an exit released, each only if nobody wrote its key since. */
  finishClears(clears: PendingClear[]): void;

  appendLog(entry: SignalLogInput): number;
  completeLog(id: number, outcome: LogOutcome): void;
  listLogs(options: { relayUser?: string; limit: number }): SignalLogRecord[];
  /** Marks forwards left `pending` by a crash as failed (their outcome is unknown); answers how many. */
  closeInterruptedForwards(reason: string): number;
  /** Deletes signal-log rows and duplicate-check fingerprints older than the given times; answers how many of each. */
  prune(options: { logsBefore: number; fingerprintsBefore: number }): { logs: number; fingerprints: number };

  getSetting(name: string): string | null;
  setSetting(name: string, value: string): void;

  close(): void;
}
