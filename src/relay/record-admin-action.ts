import type { Store } from '../store/store.js';

/** A change made by hand: in the console, through the management API or on the command line. */
export interface AdminAction {
  /** What was done, in a few words: `position cleared`, `user added`, ... */
  action: string;
  relayUser: string | null;
  account?: string | null;
  instrument?: string | null;
  /** Where it was made. */
  via: 'in the console' | 'through the management API' | 'on the command line';
  /** The address the change came from (the proxy's client address when it is trusted); null on the command line. */
  source: string | null;
  time: number;
}

/**
 * Writes a change made by hand to the signal log as an `admin` row, with where it came from
 * (issue 11: every change made in the console is logged with its source address; the management
 * API and the command line are logged alike, so the log is the whole audit trail). Answers the row's id.
 */
export function recordAdminAction(store: Pick<Store, 'appendLog'>, action: AdminAction): Promise<number> {
  return store.appendLog({
    time: action.time,
    relayUser: action.relayUser,
    relayId: null,
    account: action.account ?? null,
    instrument: action.instrument ?? null,
    signalType: null,
    decision: 'admin',
    reason: `${action.action} ${action.via}${action.source === null ? '' : ` from ${action.source}`}`,
    apiCheck: null,
    upstreamStatus: null,
    latencyMs: null,
    alert: '[admin action: no alert]',
  });
}
