import type { Notification } from './notification.js';

export interface RepeatGrouper {
  offer(notification: Notification): void;
  /** Emits every repeat not yet told, and stops the timers (shutdown). */
  flush(): void;
}

/**
 * Groups repeats of one event on one key (event, decision, relay_user, account, instrument; `rejected`
 * alone): the first is emitted at once; the repeats within `windowMs` of it become one message with
 * their count and the last one's facts, emitted when the window ends, and a new window opens while
 * they keep coming. A burst of 50 blocked alerts is two messages, not 50. The decision is in the key
 * because one event spans several (crosstrade_unreachable): the owner's failed exit must not wait a
 * minute behind another strategy's blocked entry. `windowMs` 0: nothing is grouped.
 * At most `maxOpen` keys are open at once: past it a new key is told at once and not grouped, so
 * that refused alerts naming a new account each time (anyone may send them) cannot fill memory.
 */
export function createRepeatGrouper(windowMs: number, emit: (notification: Notification, count: number) => void, maxOpen = 1000): RepeatGrouper {
  const open = new Map<string, { repeats: number; last: Notification | null; timer: NodeJS.Timeout }>();

  const endWindow = (key: string): void => {
    const group = open.get(key);
    if (group === undefined) return;
    if (group.repeats === 0 || group.last === null) {
      open.delete(key);
      return;
    }
    emit(group.last, group.repeats);
    group.repeats = 0;
    group.last = null;
    group.timer = startTimer(key);
  };
  const startTimer = (key: string): NodeJS.Timeout => {
    const timer = setTimeout(() => endWindow(key), windowMs);
    timer.unref();
    return timer;
  };

  return {
    offer(notification) {
      if (windowMs <= 0) return emit(notification, 1);
      // Refused alerts are one key: anyone may send them, naming a new user or account each time, and
      // one message per name would push the queue's other messages (a position to check) out.
      const key =
        notification.event === 'rejected'
          ? '"rejected"'
          : JSON.stringify([notification.event, notification.decision, notification.relayUser, notification.account, notification.instrument]);
      const group = open.get(key);
      if (group === undefined) {
        if (open.size >= maxOpen) return emit(notification, 1);
        open.set(key, { repeats: 0, last: null, timer: startTimer(key) });
        return emit(notification, 1);
      }
      group.repeats += 1;
      group.last = notification;
    },
    flush() {
      for (const [key, group] of open) {
        clearTimeout(group.timer);
        if (group.repeats > 0 && group.last !== null) emit(group.last, group.repeats);
        open.delete(key);
      }
    },
  };
}
