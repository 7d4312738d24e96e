import type { Logger } from '../log/logger.js';
import type { SignalLogRecord, Store } from '../store/store.js';

export interface LogFeed {
  /**
   * Calls `listener` with each new or changed signal-log row (oldest first) written after the
   * subscription; resolves, once the feed knows where "after" starts, to the unsubscribe function.
   * Rows up to that point a caller reads from the store itself (a reconnecting browser's catch-up).
   * @throws what the store throws when the feed cannot read where to start (the listener is not added).
   */
  subscribe(listener: (row: SignalLogRecord) => void): Promise<() => void>;
  /** How many listeners are subscribed. */
  size(): number;
  /** Stops polling; listeners are dropped. */
  close(): void;
}

export interface LogFeedOptions {
  store: Pick<Store, 'listLogs'>;
  logger: Logger;
  /** Between two looks at the store (ms). */
  intervalMs?: number;
  now?: () => number;
}

/** The most rows one look reads: a burst larger than this is shown over the next looks. */
const BATCH = 200;
/** A row still pending after this long (an instance that stopped mid-forward) is no longer watched. */
const PENDING_WATCH_MS = 60_000;

/**
 * The console's live feed (issue 11): one poller shared by every connected browser. With several
 * instances on one database an alert may be decided by another instance, so the feed reads the
 * store (rows with an id above the last seen) instead of listening to this process. It polls only
 * while someone listens. A forwarded alert's row is written `pending` and completed when
 * CrossTrade answers: rows seen pending are read again until they change, and sent again then.
 */
export function createLogFeed(options: LogFeedOptions): LogFeed {
  const intervalMs = options.intervalMs ?? 400;
  const now = options.now ?? Date.now;
  const listeners = new Set<(row: SignalLogRecord) => void>();
  /** id → when it was first seen pending. */
  const pending = new Map<number, number>();
  let lastId: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let priming: Promise<void> | null = null;
  let failing = false;

  /** Starts from the newest row: what came before, a subscriber reads itself. */
  const prime = () => {
    priming ??= (async () => {
      const newest = (await options.store.listLogs({ limit: 1 }))[0]?.id ?? 0;
      lastId ??= newest;
    })().finally(() => {
      priming = null;
    });
    return priming;
  };

  const look = async () => {
    if (lastId === null) return prime();
    for (const [id, since] of pending) if (now() - since > PENDING_WATCH_MS) pending.delete(id);
    // Oldest first: the rows of a burst past BATCH come at the next looks, none skipped. Pending rows
    // are read apart, so that rows seen already between them and the newest never fill a look.
    const seen = lastId;
    const oldestPending = Math.min(...pending.keys());
    const watched = pending.size === 0 ? [] : await options.store.listLogs({ afterId: oldestPending - 1, limit: BATCH, oldestFirst: true });
    const fresh = await options.store.listLogs({ afterId: seen, limit: BATCH, oldestFirst: true });
    const rows = [...watched.filter((row) => row.id <= seen), ...fresh];
    for (const row of rows) {
      const isNew = row.id > lastId;
      const settled = pending.has(row.id) && row.decision !== 'pending';
      if (!isNew && !settled) continue;
      if (row.decision === 'pending') pending.set(row.id, pending.get(row.id) ?? now());
      else pending.delete(row.id);
      if (isNew) lastId = row.id;
      for (const listener of listeners) listener(row);
    }
  };

  const schedule = () => {
    if (closed || listeners.size === 0 || timer !== null) return;
    timer = setTimeout(async () => {
      try {
        await look();
        if (failing) options.logger.info('console live feed: reading the signal log again');
        failing = false;
      } catch (error) {
        // The database may be away for a moment: the next look tries again. Said once, not every look.
        if (!failing) options.logger.warn({ err: error }, 'console live feed: could not read the signal log');
        failing = true;
      }
      timer = null;
      schedule();
    }, intervalMs);
  };

  return {
    async subscribe(listener) {
      if (lastId === null) await prime();
      listeners.add(listener);
      schedule();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          // Nobody watches: stop, and start from the newest row when someone comes back.
          if (timer !== null) clearTimeout(timer);
          timer = null;
          lastId = null;
          pending.clear();
        }
      };
    },
    size: () => listeners.size,
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      listeners.clear();
    },
  };
}
