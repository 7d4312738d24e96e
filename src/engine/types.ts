// Types of the pure decision engine. Words used here are the words the API,
// the signal log and the README show, so they must read well there.

export type Direction = 'long' | 'short';
export type MarketPosition = Direction | 'flat';

/** What an alert means for the position, derived from prev_market_position → market_position. */
export type SignalType =
  | 'entry' // flat → long/short
  | 'exit' // long/short → flat (also flat → flat: the strategy says it is flat)
  | 'reversal' // long ↔ short
  | 'add' // long → long / short → short adding exposure (or undecidable)
  | 'partial_exit' // long → long / short → short reducing exposure
  | 'passthrough'; // no market position fields: forwarded as is

export type Decision = 'forwarded' | 'blocked' | 'dropped' | 'rejected' | 'failed';

/** The classified alert for one (account, instrument) key. */
export interface Signal {
  type: SignalType;
  relayId: string;
  /** Direction after the signal (entry, reversal, add, partial_exit); null for exit and passthrough. */
  direction: Direction | null;
  /** The position the strategy believes it had before the signal (prev_market_position); optional. */
  from?: MarketPosition | null;
  /** A LIMIT/STOP entry may rest unfilled: the API reads flat until it fills. */
  resting: boolean;
  /** For a resting entry: how long (ms) the order may rest; null = use the configured default. */
  restingForMs: number | null;
}

/** The relay's record of who owns a (relay_user, account, instrument) key. */
export interface Ownership {
  relayId: string;
  direction: Direction;
  openedAt: number; // ms epoch
  /** Last time this owner's entry-like order (entry, reversal, add) was forwarded. */
  claimedAt: number;
  /** A flat reading cannot clear this ownership before this time (fill grace or resting grace). */
  holdUntil: number;
}

/** What CrossTrade's API says about the key's instrument on one account. */
export type PositionReading =
  | { kind: 'flat'; takenAt: number }
  | { kind: 'open'; takenAt: number; detail: string }
  | { kind: 'unknown'; takenAt: number; reason: string };

export interface EngineSettings {
  fillGraceMs: number;
  restingGraceMs: number;
}

/** The state change a forwarded signal makes: set a new ownership, clear it, or leave it. */
export type OwnershipChange =
  /** `displaced`: a stale owner this claim replaced; it holds no position here any more. */
  { kind: 'set'; ownership: Ownership; displaced?: string } | { kind: 'clear' } | { kind: 'keep' };

/**
 * The engine's verdict for one key.
 * - `forward`: send it; apply `change` (recorded before the forward, see relay/handle-alert.ts).
 * - `block` / `drop`: do not send; nothing changes.
 * - `needs-reading`: an entry would be blocked, but a flat API reading could prove the owner stale.
 */
export type Verdict =
  | { action: 'forward'; reason: string; change: OwnershipChange; staleOwnerCleared: boolean }
  | { action: 'block'; reason: string }
  | { action: 'drop'; reason: string }
  | { action: 'needs-reading'; reason: string };
