/**
 * Turns per key inside one process. Alerts of one instance on the same key wait here, in line,
 * rather than each on a pooled connection blocked in the database: a hot key then holds one
 * connection, not the whole pool, and alerts on other keys keep theirs. Across instances the
 * database's advisory locks still decide; this only shortens the line there to one per instance.
 */
export function createKeyGates() {
  const tails = new Map<string, Promise<void>>();
  return {
    /**
     * Waits for the turn of every key (in sorted order, so two callers never wait on each other
     * crosswise), at most `waitMs`. Answers the function that gives the turns to the next in line.
     * @throws the error `onTimeout` makes when the turn did not come in time (its place in line is given up).
     */
    async enter(ids: readonly string[], waitMs: number, onTimeout: () => Error): Promise<() => void> {
      const releases: (() => void)[] = [];
      const leave = () => {
        for (const release of releases.splice(0)) release();
      };
      const deadline = Date.now() + waitMs;
      try {
        for (const id of [...new Set(ids)].sort()) {
          const previous = tails.get(id) ?? Promise.resolve();
          let open: () => void = () => undefined;
          const mine = new Promise<void>((resolve) => {
            open = resolve;
          });
          const tail = previous.then(() => mine);
          tails.set(id, tail);
          releases.push(() => {
            open();
            if (tails.get(id) === tail) tails.delete(id);
          });
          if (!(await within(previous, deadline - Date.now()))) throw onTimeout();
        }
        return leave;
      } catch (error) {
        leave();
        throw error;
      }
    },
  };
}

/** Whether `promise` settles within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([promise.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
