/**
 * Counts events per source address in fixed windows. In memory: a relay restart resets it,
 * which is acceptable for throttling (the allow-list and tokens are the real gates).
 */
export interface RateLimiter {
  /** Counts one event for `source`; false when it is over the limit in the current window. */
  take(source: string): boolean;
  /** True when `source` is already over the limit (without counting). */
  isBlocked(source: string): boolean;
  reset(source: string): void;
}

export function createRateLimiter(options: { limit: number; windowMs: number; now: () => number; maxSources?: number }): RateLimiter {
  const counts = new Map<string, { windowStart: number; count: number }>();
  const maxSources = options.maxSources ?? 100_000;
  const current = (source: string) => {
    const now = options.now();
    let entry = counts.get(source);
    if (entry === undefined || now - entry.windowStart >= options.windowMs) {
      // A flood of distinct sources must not grow memory without bound: start over.
      if (entry === undefined && counts.size >= maxSources) counts.clear();
      entry = { windowStart: now, count: 0 };
      counts.set(source, entry);
    }
    return entry;
  };
  return {
    take(source) {
      const entry = current(source);
      entry.count++;
      return entry.count <= options.limit;
    },
    isBlocked: (source) => current(source).count >= options.limit,
    reset: (source) => {
      counts.delete(source);
    },
  };
}
