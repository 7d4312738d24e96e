import { StoreUnavailableError } from './store.js';

/**
 * How long (ms) a rate-limit check may take before its caller decides without it. A take is one
 * short statement, well under a millisecond on a healthy database; the rest of the 3 s TradingView
 * gives an alert (docs/external-systems.md §1.1) belongs to the arbitration and the forward.
 */
export const LIMIT_ANSWER_MS = 200;

/**
 * The store's answer to a rate-limit call, or `{ error }` when it failed or did not answer within
 * `ms` (a StoreUnavailableError then). Never throws; the call itself is not cancelled (the store
 * bounds it with its own timeouts). Each caller decides what an unanswered limit means (README,
 * "Rate limits"): the webhook lets the alert through, the admin lockout refuses with 503, the API
 * budget lets the read be made.
 */
export async function limitWithin<T>(call: Promise<T>, ms = LIMIT_ANSWER_MS): Promise<{ value: T } | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<{ error: unknown }>((resolve) => {
    timer = setTimeout(() => resolve({ error: new StoreUnavailableError(`no rate-limit answer within ${ms} ms`) }), ms);
  });
  try {
    return await Promise.race([
      call.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
