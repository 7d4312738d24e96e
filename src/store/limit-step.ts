import type { LimitAnswer, LimitRule } from './store.js';

/**
 * A limit's state for one subject. Window: `since` is the window's start, `amount` the events
 * counted in it. Bucket: `since` is when the tokens were last counted, `amount` the tokens then.
 */
export interface LimitState {
  since: number;
  amount: number;
}

export interface LimitStep {
  /** The state after the step (unchanged by a read). */
  state: LimitState;
  answer: LimitAnswer;
  /** From this time (ms) the state says no more than no state at all: it may be forgotten. */
  expiresAt: number;
}

/**
 * One take (`count`: spends `cost`) or one read (what a take of 1 would answer) of a limit, pure:
 * the in-memory limits run it, and the PostgreSQL statement does the same arithmetic in SQL
 * (src/store/postgres/shared-limits.ts; the contract suite holds both to the same answers).
 * A clock that went back (another instance's) neither opens a new window nor refills a bucket.
 */
export function stepLimit(state: LimitState | null, rule: LimitRule, now: number, cost: number, count: boolean): LimitStep {
  if (rule.kind === 'window') {
    const fresh = state === null || now - state.since >= rule.windowMs;
    const since = fresh ? now : state.since;
    const amount = (fresh ? 0 : state.amount) + (count ? cost : 0);
    const allowed = count ? amount <= rule.limit : amount < rule.limit;
    return { state: { since, amount }, answer: limitAnswer({ since, amount }, rule, now, allowed, cost), expiresAt: since + rule.windowMs };
  }
  const since = state === null ? now : Math.max(state.since, now);
  const tokens = state === null ? rule.capacity : Math.min(rule.capacity, state.amount + (Math.max(0, now - state.since) * rule.refillPerSecond) / 1000);
  const allowed = tokens >= (count ? cost : 1);
  const after = { since, amount: count && allowed ? tokens - cost : tokens };
  return { state: after, answer: limitAnswer(after, rule, now, allowed, count ? cost : 1), expiresAt: since + bucketRefillMs(rule) };
}

/** The answer for a state just stepped to (`allowed`: whether the step was within the rule). */
export function limitAnswer(state: LimitState, rule: LimitRule, now: number, allowed: boolean, cost: number): LimitAnswer {
  if (rule.kind === 'window') {
    return {
      allowed,
      remaining: Math.max(0, rule.limit - state.amount),
      retryAfterMs: allowed ? 0 : Math.max(0, state.since + rule.windowMs - now),
      used: state.amount,
    };
  }
  return {
    allowed,
    remaining: Math.floor(state.amount),
    retryAfterMs: allowed ? 0 : Math.ceil(((cost - state.amount) * 1000) / rule.refillPerSecond),
    used: Math.ceil(rule.capacity - state.amount),
  };
}

/** How long (ms) an empty bucket takes to fill: a state older than that is a full bucket. */
export function bucketRefillMs(rule: { capacity: number; refillPerSecond: number }): number {
  return Math.ceil((rule.capacity * 1000) / rule.refillPerSecond);
}
