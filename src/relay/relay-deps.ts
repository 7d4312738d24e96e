import type { Decision, EngineSettings, PositionReading, SignalType } from '../engine/types.js';
import type { Logger } from '../log/logger.js';
import type { Notifier } from '../notify/create-notifier.js';
import type { Store } from '../store/store.js';

/** What the relay needs from CrossTrade (crosstrade/client.ts provides it). */
export interface CrossTradePort {
  /** Never throws: a failed check is a reading of kind 'unknown'. `timeoutMs` bounds this call when less time is left. */
  readPosition(account: string, instrument: string, apiKey: string, timeoutMs?: number, notBefore?: number): Promise<PositionReading>;
  forward(webhookUrl: string, body: string): Promise<ForwardOutcome>;
  /** Drops a cached reading of the account: an order was just sent there. */
  forget(account: string, apiKey: string): void;
}

export type ForwardOutcome = { ok: true; status: number } | { ok: false; ambiguous: boolean; reason: string; status: number | null };

/** The time an alert may spend on CrossTrade calls and waits (ms), inside TradingView's 3 s (docs/external-systems.md §1.1). */
export interface TimeBudget {
  /** From the alert's arrival to the end of its forward. */
  outboundMs: number;
  apiTimeoutMs: number;
  forwardTimeoutMs: number;
}

export interface RelayDeps {
  store: Store;
  crosstrade: CrossTradePort;
  /** Paper users' stand-in for CrossTrade: the relay's paper book (paper/create-paper-crosstrade.ts). */
  paper: CrossTradePort;
  settings: EngineSettings;
  budget: TimeBudget;
  /** The same alert from the same relay_user and relay_id inside this window is a repeat (0 = off). */
  dedupWindowMs: number;
  logger: Logger;
  /** For the one line per decision (flat, known fields): see log/logger.ts flatLineLogger. */
  decisionLogger: Logger;
  now: () => number;
  /** Orders of this process in flight, per key: alerts that depend on their outcome wait on them. */
  inFlight: Map<string, Promise<void>>;
  /** Alerts being handled (handleAlert adds and removes them): a relay stopping waits for them, within a bound. */
  handling?: Set<Promise<unknown>>;
  /** Told every answer (README, "Notifications"); queues and returns at once. Absent: no notifications. */
  notifier?: Pick<Notifier, 'alertDecided'>;
}

/** The request body as text; `json` when it came as application/json. */
export interface AlertBody {
  text: string;
  json: boolean;
}

export interface AlertReply {
  status: number;
  body: { decision: Decision; signal_type: SignalType | null; reason: string };
}
