import type { NotifyEvent } from './notify-events.js';

// CrossTrade could not be reached or answered with an error (README, "When CrossTrade cannot be
// read"): every API failure code, and the forward's network failures, 5xx, 408 (NinjaTrader not
// connected) and 429. A refused key on the forward (upstream-http-401) is the trader's to fix: `failed`.
const UNREACHABLE =
  /\b(?:api-(?:http-\d{3}|not-connected-408|rate-limited-429|timeout|network-error|bad-response)|upstream-(?:timeout|connection-lost|connection-refused|network-error|http-(?:5\d\d|408|429)))\b/;
// The record and CrossTrade disagree, or an order may have been placed unseen: a person should look.
const RECONCILE = /\bposition-mismatch:|\boutcome-unknown:|check the position in NinjaTrader/;
const STALE_OWNER = /\bstale-owner-cleared:/;

/**
 * The one event an alert's outcome is notified under: the most specific one that is enabled
 * (crosstrade_unreachable, then reconcile_needed, then stale_owner_cleared, then the decision's own),
 * or null when none is. An alert raises at most one message. The decision `unknown` (the order may
 * have been placed) counts as `failed`.
 */
export function eventOfDecision(decision: string, reason: string, enabled: ReadonlySet<NotifyEvent>): NotifyEvent | null {
  const candidates: NotifyEvent[] = [];
  if (UNREACHABLE.test(reason)) candidates.push('crosstrade_unreachable');
  if (RECONCILE.test(reason)) candidates.push('reconcile_needed');
  if (decision === 'forwarded' && STALE_OWNER.test(reason)) candidates.push('stale_owner_cleared');
  const own = decision === 'unknown' ? 'failed' : decision;
  if (own === 'forwarded' || own === 'blocked' || own === 'dropped' || own === 'failed' || own === 'rejected') candidates.push(own);
  return candidates.find((event) => enabled.has(event)) ?? null;
}
