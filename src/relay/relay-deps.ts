import type { Decision, EngineSettings, PositionReading, SignalType } from '../engine/types.js';
import type { Logger } from '../log/logger.js';
import type { Store } from '../store/store.js';

/** What the relay needs from CrossTrade (crosstrade/client.ts provides it). */
export interface CrossTradePort {
  /** Never throws: a failed check is a reading of kind 'unknown'. */
  readPosition(account: string, instrument: string, apiKey: string): Promise<PositionReading>;
  forward(webhookUrl: string, body: string): Promise<ForwardOutcome>;
}

export type ForwardOutcome = { ok: true; status: number } | { ok: false; ambiguous: boolean; reason: string; status: number | null };

export interface RelayDeps {
  store: Store;
  crosstrade: CrossTradePort;
  settings: EngineSettings;
  /** The same alert from the same relay_user and relay_id inside this window is dropped (0 = off). */
  dedupWindowMs: number;
  logger: Logger;
  /** For the one line per decision (flat, known fields): see log/logger.ts flatLineLogger. */
  decisionLogger: Logger;
  now: () => number;
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
