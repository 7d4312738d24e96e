import type { Logger } from '../log/logger.js';
import { accountGroupOf } from '../store/account-group.js';
import { limitWithin } from '../store/limit-within.js';
import type { LimitRule, Store } from '../store/store.js';

/** The store's name of CrossTrade's API budget. */
export const API_BUDGET_LIMIT = 'crosstrade-api';
/** Calls CrossTrade's API takes at once from a rested budget (docs/external-systems.md §3.2). */
export const API_BURST = 20;

/**
 * CrossTrade's API budget: 180 calls a minute per CrossTrade user, bursts of 20, HTTP 429 beyond
 * (docs/external-systems.md §3.2): a bucket of 20 tokens refilled at 3 a second
 * (`callsPerMin` / 60: RELAY_API_CALLS_PER_MIN, default 180).
 */
export function apiBudgetRule(callsPerMin: number): LimitRule {
  // Not taken ahead (LimitRule.aheadMs): tokens one instance holds unspent refuse another
  // instance's reads the budget allows, and an unread account blocks entries and drops exits
  // (test/relay/postgres/shared-limits.test.ts read 18 or 19 of the burst of 20 with it).
  return { kind: 'bucket', capacity: API_BURST, refillPerSecond: callsPerMin / 60 };
}

/**
 * Takes one call from a CrossTrade user's API budget before the relay calls the API on its behalf
 * (a position read; crosstrade/client.ts `spendApiCall`); answers false when it is spent.
 * - Per CrossTrade user: the subject is the account group, a one-way hash of the key, so users
 *   sharing a key share one budget (as CrossTrade counts them) and the key is never stored.
 * - In the store: on PostgreSQL every instance spends from the same bucket.
 * - Forwards take nothing: they go to CrossTrade's webhook, which is not the API and has no
 *   documented rate limit (docs/external-systems.md §2.8); the budget is the API's.
 * - A store that does not answer within LIMIT_ANSWER_MS lets the read be made: CrossTrade's own 429
 *   is then the backstop, and a failed read is a failed check to the engine.
 */
export function createApiBudget(deps: { store: Store; logger: Logger; now: () => number; callsPerMin: number }): (apiKey: string) => Promise<boolean> {
  const rule = apiBudgetRule(deps.callsPerMin);
  return async (apiKey) => {
    const taken = await limitWithin(deps.store.takeLimit(API_BUDGET_LIMIT, accountGroupOf(apiKey), rule, deps.now()));
    if ('error' in taken) {
      deps.logger.warn({ err: taken.error }, "CrossTrade's API budget could not be checked in time: the position read is made");
      return true;
    }
    return taken.value.allowed;
  };
}
