// Types of the pure decision engine. Words used here are the words the API,
// the signal log and the README show, so they must read well there.

export type Direction = 'long' | 'short';
export type MarketPosition = Direction | 'flat';

/** What an alert means for the position of its key. */
export type SignalType =
  | 'entry' // flat → long/short
  | 'exit' // long/short → flat (also flat → flat: the strategy says it is flat)
  | 'reversal' // long ↔ short
  | 'add' // long → long / short → short adding exposure (or undecidable)
  | 'partial_exit' // long → long / short → short reducing exposure
  | 'flatten' // FLATTEN / CLOSEPOSITION (any quantity): can only take the account toward flat
  | 'order' // a PLACE, FLATPLACE, REVERSEPOSITION or REVERSE without position fields: read from the account
  | 'passthrough'; // no effect on a position (CANCEL, kill_switch, ...): forwarded as is

/** Final decisions, as the answer and the signal log show them. `unknown`: forwarded, outcome not known. */
export type Decision = 'forwarded' | 'blocked' | 'dropped' | 'rejected' | 'failed' | 'unknown';

/** A strategy: relay_id within a relay_user (two users sharing one CrossTrade account are told apart). */
export interface Strategy {
  relayUser: string;
  relayId: string;
}

/** The classified alert for one (account, instrument) key. */
export interface Signal extends Strategy {
  type: SignalType;
  /** Direction after the signal (entry, reversal, add, partial_exit); null otherwise. */
  direction: Direction | null;
  /** The position the strategy says it had before the signal (prev_market_position); null when absent. */
  from: MarketPosition | null;
  /** Contracts the order moves (qty), when the alert says. */
  quantity: number | null;
  /** Contracts the strategy says it held before (prev_market_position_size), when the alert says. */
  fromSize?: number | null;
  /** CrossTrade's `delay` (docs/external-systems.md §2.5): the order executes this long (ms) after it is taken. */
  delayMs?: number;
  /** A LIMIT/STOP order may rest unfilled: the API reads the position unchanged until it fills. */
  resting: boolean;
  /** For a resting entry: how long (ms) the order may rest; null = the configured default. */
  restingForMs: number | null;
  /** Read from the account (an 'order' without position fields): its sizes are the account's, not a strategy's belief. */
  fromAccount?: boolean;
  /** For 'order': what it is, so the account reading can tell what it does (see classify.impliedSignal). */
  order?: ImpliedOrder;
  /** For 'flatten': a CLOSEPOSITION with a quantity, or a CLOSESTRATEGY (may leave part of the position), rather than a full close. */
  partial?: boolean;
  /** For 'flatten': it closes the position but leaves working orders working (CLOSEPOSITION; only FLATTEN cancels them). */
  keepsWorkingOrders?: boolean;
  /** False when the instrument name cannot be read: no CrossTrade check could ever tell its position. */
  instrumentReadable: boolean;
}

/** An order alert without position fields: its effect depends on the account's position. */
export interface ImpliedOrder {
  command: 'PLACE' | 'FLATPLACE' | 'REVERSEPOSITION' | 'REVERSE';
  action: 'buy' | 'sell' | null;
  quantity: number | null;
}

/** Who owns a key: the strategy whose entry the relay forwarded. */
export interface Ownership extends Strategy {
  direction: Direction;
  /** Contracts the relay's forwarded orders add up to (entry + adds − partial exits); undefined/null when an order did not say. */
  quantity?: number | null;
  openedAt: number; // ms epoch
  /** Last time this owner's entry-like order (entry, reversal, add) was forwarded. */
  claimedAt: number;
  /** A flat reading cannot clear this ownership before this time (fill grace or resting grace). */
  holdUntil: number;
}

/**
 * Why the record of a key cannot be taken at its word (issue 7, "the record is uncertain"):
 * - `in-flight`: an order of this key has left and CrossTrade has not answered yet;
 * - `unknown-outcome`: a forward failed ambiguously (timeout, 5xx, lost connection, a crash);
 * - `working-order`: a LIMIT/STOP order was accepted and may rest unfilled (`working-exit`: an exit);
 * - `changed`: the position was changed in a way the record cannot follow (a partial close, REVERSE, ...);
 * - `closing`: an exit was just taken; until its fill grace ends the account may still show the position.
 */
export type DoubtKind = 'in-flight' | 'unknown-outcome' | 'working-order' | 'working-exit' | 'changed' | 'closing';

export interface Doubt {
  kind: DoubtKind;
  since: number; // ms epoch
}

/** The relay's record of one key: its owner (if any) and whether it can be trusted. */
export interface KeyRecord {
  owner: Ownership | null;
  doubt: Doubt | null;
  /**
   * Until then (ms epoch) CrossTrade's reading may still show contracts an order sent on this key
   * closed (an exit, partial exit, reversal or flatten not filled or not shown yet): an open reading
   * taken before proves nothing about them. Absent: no such order was sent recently.
   */
  closingUntil?: number;
}

/** What CrossTrade's API says about the key's product on one account. */
export type PositionReading =
  | { kind: 'flat'; takenAt: number }
  | { kind: 'open'; takenAt: number; direction: Direction; quantity: number; detail: string }
  | { kind: 'unknown'; takenAt: number; reason: string };

export interface EngineSettings {
  fillGraceMs: number;
  restingGraceMs: number;
}

/** What a strategy holds on a key in the relay's memory beside the owner record. */
export interface SenderState {
  /** Its last entry-like order here was blocked or failed, or its position was closed or found gone: it holds nothing. */
  holdsNothing: boolean;
}

/** A change of "holds nothing" for a strategy on the key. */
export interface StrategyMark extends Strategy {
  holdsNothing: boolean;
}

/** The state a key and its strategies take after one outcome of a forward. */
export interface Outcome {
  record: KeyRecord;
  marks: StrategyMark[];
}

/**
 * The engine's verdict for one key.
 * - `forward`: send it; `send` is written before the order leaves, then one of `delivered`,
 *   `unknown` (ambiguous failure) or `refused` (definite failure) once CrossTrade answers.
 * - `block` / `drop`: do not send; `send` (when present) is a reconciliation written anyway.
 * - `needs-reading`: ask CrossTrade for the account's position, then decide again with it.
 * - `wait`: an order of this key is in flight; its outcome decides this alert: wait, then decide again.
 */
export type Verdict =
  | { action: 'forward'; reason: string; send: Outcome; delivered: Outcome; unknown: Outcome; refused: Outcome }
  | { action: 'block' | 'drop'; reason: string; send: Outcome | null }
  | { action: 'needs-reading'; reason: string }
  | { action: 'wait'; reason: string };

/** What the relay tells the engine beyond the record and the reading. */
export interface DecideContext {
  now: number;
  settings: EngineSettings;
  sender: SenderState;
  /** The wait for an in-flight order of this key ran out: decide without its outcome. */
  waitExpired: boolean;
}
