/** One pending run of a store's outcome-queue flush: at most one is scheduled at a time. */
export interface FlushTimer {
  /** Schedules `run` after `delayMs` (0: on the next turn of the event loop) unless one is already scheduled or `blocked()` says not to. */
  schedule(delayMs: number): void;
  /** Drops the scheduled run, if any. */
  cancel(): void;
}

/**
 * The flush scheduler both stores share. The run is marked done before `run` starts, so it may
 * schedule the next one itself (a retry after a busy database). A delayed timer does not keep the
 * process alive: the stores' close() writes what is queued.
 */
export function createFlushTimer(run: () => void, blocked: () => boolean = () => false): FlushTimer {
  let scheduled: { cancel: () => void } | null = null;
  const fire = () => {
    scheduled = null;
    run();
  };
  return {
    schedule(delayMs) {
      if (scheduled !== null || blocked()) return;
      if (delayMs === 0) {
        const immediate = setImmediate(fire);
        scheduled = { cancel: () => clearImmediate(immediate) };
      } else {
        const timer = setTimeout(fire, delayMs);
        timer.unref();
        scheduled = { cancel: () => clearTimeout(timer) };
      }
    },
    cancel() {
      scheduled?.cancel();
      scheduled = null;
    },
  };
}
