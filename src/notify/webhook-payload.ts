import type { OutgoingMessage } from './notification.js';

/** The generic webhook's JSON body (README, "Notifications"); `count` and `dropped` as in formatMessage. */
export interface WebhookPayload {
  event: string;
  /** ISO 8601, UTC. */
  time: string;
  relay_user: string | null;
  relay_id: string | null;
  account: string | null;
  instrument: string | null;
  signal_type: string | null;
  decision: string | null;
  reason: string;
  count: number;
  dropped: number;
}

export function webhookPayload(message: OutgoingMessage): WebhookPayload {
  const n = message.notification;
  return {
    event: n.event,
    time: new Date(n.time).toISOString(),
    relay_user: n.relayUser,
    relay_id: n.relayId,
    account: n.account,
    instrument: n.instrument,
    signal_type: n.signalType,
    decision: n.decision,
    reason: n.reason,
    count: message.count,
    dropped: message.dropped,
  };
}
