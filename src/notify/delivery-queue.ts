import type { Logger } from '../log/logger.js';
import type { Channel } from './channel.js';
import { ChannelError } from './channel-error.js';
import { maskSecrets } from './mask-secrets.js';
import type { Notification, OutgoingMessage } from './notification.js';

export interface RetryPolicy {
  /** Tries per message, the first included. */
  attempts: number;
  /** The wait after the first failure (ms); doubled after each next one. */
  baseMs: number;
  /** The longest wait (ms), also for a service's own Retry-After. */
  maxMs: number;
}

export interface DeliveryQueueOptions {
  channel: Channel;
  /** Messages waiting at most; a new one past it drops the oldest. */
  capacity: number;
  retry: RetryPolicy;
  logger: Logger;
  /** Masked out of every log line, whatever a channel's error says. */
  secrets: readonly string[];
}

export interface DeliveryQueue {
  push(notification: Notification, count: number): void;
  /**
   * Lets the queue drain for up to `ms`, then stops: the message being sent is aborted and the rest
   * are given up. Resolves with the number of messages not sent.
   */
  close(ms: number): Promise<number>;
}

/**
 * One channel's queue in memory: messages leave one at a time, in order, on a later turn of the event
 * loop than the push (so an alert's answer never waits for one). A message that fails with a
 * retryable error is tried again after a backoff (base, 2×base, ... up to max); one that fails for good
 * is logged and counted. When the queue is full the oldest message is dropped and counted; the next
 * message sent says how many were lost.
 */
export function createDeliveryQueue(options: DeliveryQueueOptions): DeliveryQueue {
  const { channel, capacity, retry, logger, secrets } = options;
  const items: { notification: Notification; count: number }[] = [];
  const stop = new AbortController();
  let dropped = 0;
  let sending = false;
  let running: Promise<void> | null = null;

  const kick = (): void => {
    if (running !== null || stop.signal.aborted || items.length === 0) return;
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(run).finally(() => {
      running = null;
      kick();
    });
  };

  const run = async (): Promise<void> => {
    for (let item = items.shift(); item !== undefined && !stop.signal.aborted; item = items.shift()) {
      const message: OutgoingMessage = { notification: item.notification, count: item.count, dropped };
      dropped = 0;
      sending = true;
      const sent = await deliver(message);
      sending = false;
      // A message given up takes its own count and the one it carried on to the next.
      if (!sent) dropped += message.dropped + 1;
    }
  };

  const deliver = async (message: OutgoingMessage): Promise<boolean> => {
    const about = { channel: channel.name, event: message.notification.event };
    for (let attempt = 1; ; attempt += 1) {
      try {
        await channel.send(message, stop.signal);
        logger.debug({ ...about, attempt }, 'notification sent');
        return true;
      } catch (error) {
        if (stop.signal.aborted) return false;
        const failure = error instanceof ChannelError ? error : new ChannelError(`${channel.name}: unexpected error`, { retryable: false });
        const words = maskSecrets(failure.message, secrets);
        if (!failure.retryable || attempt >= retry.attempts) {
          logger.error({ ...about, attempts: attempt }, `notification not sent: ${words}`);
          return false;
        }
        const waitMs = Math.min(retry.maxMs, Math.max(failure.retryAfterMs ?? 0, retry.baseMs * 2 ** (attempt - 1)));
        logger.warn({ ...about, attempt, retry_in_ms: waitMs }, `notification failed, retrying: ${words}`);
        await sleep(waitMs, stop.signal);
      }
    }
  };

  return {
    push(notification, count) {
      if (stop.signal.aborted) return;
      if (items.length >= capacity) {
        items.shift();
        dropped += 1;
      }
      items.push({ notification, count });
      kick();
    },
    async close(ms) {
      const drained = running;
      if (drained !== null) await Promise.race([drained, sleep(ms, null)]);
      const unsent = items.length + (sending ? 1 : 0) + dropped;
      stop.abort();
      // An aborted send ends at once (fetch aborts; the e-mail race rejects); bounded anyway.
      const stopping = running;
      if (stopping !== null) await Promise.race([stopping, sleep(100, null)]);
      items.length = 0;
      if (unsent > 0) logger.warn({ channel: channel.name, unsent }, 'notifications not sent: the relay stopped before the channel took them');
      await channel.close().catch(() => undefined);
      return unsent;
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. The timer never keeps the process alive. */
function sleep(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal?.addEventListener('abort', done, { once: true });
  });
}
