import type { Store } from '../store/store.js';

/** A change made by hand in the console. */
export interface AdminAction {
  /** What was done, in a few words: `position cleared`, `user added`, ... */
  action: string;
  relayUser: string | null;
  account?: string | null;
  instrument?: string | null;
  /** The address the change came from (the proxy's client address when it is trusted). */
  source: string;
  time: number;
}

/**
 * Writes a console change to the signal log as an `admin` row (issue 11: every change made in
 * the console is logged with its source address). Answers the row's id.
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
    reason: `${action.action} in the console from ${action.source}`,
    apiCheck: null,
    upstreamStatus: null,
    latencyMs: null,
    alert: '[admin action: no alert]',
  });
}
