/**
 * Every event a notification can be about (README, "Notifications"). An alert raises one of the
 * decision events, or a more specific one when its reason says more (see eventOfDecision).
 */
export const NOTIFY_EVENTS = [
  'forwarded',
  'blocked',
  'dropped',
  'failed',
  'rejected',
  'stale_owner_cleared',
  'reconcile_needed',
  'crosstrade_unreachable',
  'relay_started',
  'relay_stopped',
] as const;

export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
