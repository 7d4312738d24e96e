import type { Logger } from '../log/logger.js';
import type { Channel } from './channel.js';
import { createDeliveryQueue, type RetryPolicy } from './delivery-queue.js';
import { eventOfDecision } from './event-of-decision.js';
import { createRepeatGrouper } from './group-repeats.js';
import { maskSecrets } from './mask-secrets.js';
import type { AlertNotice, Notification } from './notification.js';
import type { NotifyEvent } from './notify-events.js';

export interface NotifierOptions {
  channels: readonly Channel[];
  /** The events to tell (RELAY_NOTIFY_EVENTS). */
  events: readonly NotifyEvent[];
  logger: Logger;
  now?: () => number;
  /** The channels' URLs and tokens: masked out of every message and log line, whatever carried them there. */
  secrets?: readonly string[];
  /** Repeats of one event on one key within this window are one message (ms, default 60 s; 0: none grouped). */
  groupWindowMs?: number;
  /** Messages waiting per channel (default 100); past it the oldest is dropped and counted. */
  queueCapacity?: number;
  /** Default: 5 tries, 1 s doubling to 30 s. */
  retry?: RetryPolicy;
  /** How long close() lets the queues drain (ms, default 2,000). */
  closeTimeoutMs?: number;
}

export interface Notifier {
  /** An alert's answer: told under its event when that is enabled. Never throws, never waits: the alert's path. */
  alertDecided(notice: AlertNotice): void;
  /** An event of the relay itself (relay_started, relay_stopped, reconcile_needed at start), when enabled. */
  relayEvent(event: NotifyEvent, reason: string): void;
  /** Tells the repeats still grouped, lets the queues drain for at most closeTimeoutMs, then stops. */
  close(): Promise<void>;
}

/**
 * The notifications of one relay: event filter → grouping of repeats → one bounded queue per
 * channel with retries (README, "Notifications"). Without channels every call is a no-op.
 */
export function createNotifier(options: NotifierOptions): Notifier {
  const { channels, logger } = options;
  const now = options.now ?? Date.now;
  const enabled = new Set(options.events);
  const secrets = options.secrets ?? [];
  const queues = channels.map((channel) =>
    createDeliveryQueue({
      channel,
      capacity: options.queueCapacity ?? 100,
      retry: options.retry ?? { attempts: 5, baseMs: 1000, maxMs: 30_000 },
      logger,
      secrets,
    }),
  );
  const grouper = createRepeatGrouper(options.groupWindowMs ?? 60_000, (notification, count) => {
    for (const queue of queues) queue.push(notification, count);
  });
  let closed = false;
  const offer = (notification: Notification): void => {
    if (closed) return;
    const masked = (text: string | null) => (text === null ? null : maskSecrets(text, secrets));
    grouper.offer({
      ...notification,
      relayUser: masked(notification.relayUser),
      relayId: masked(notification.relayId),
      account: masked(notification.account),
      instrument: masked(notification.instrument),
      reason: maskSecrets(notification.reason, secrets),
    });
  };

  return {
    alertDecided(notice) {
      if (queues.length === 0 || closed) return;
      try {
        const event = eventOfDecision(notice.decision, notice.reason, enabled);
        if (event !== null) offer({ ...notice, event });
      } catch (error) {
        logger.error({ err: error }, 'a notification could not be queued');
      }
    },
    relayEvent(event, reason) {
      if (queues.length === 0 || !enabled.has(event)) return;
      offer({ event, time: now(), relayUser: null, relayId: null, account: null, instrument: null, signalType: null, decision: null, reason });
    },
    async close() {
      if (closed) return;
      grouper.flush();
      closed = true;
      // The queues drain side by side: the whole shutdown waits closeTimeoutMs at most.
      await Promise.all(queues.map((queue) => queue.close(options.closeTimeoutMs ?? 2000)));
    },
  };
}
