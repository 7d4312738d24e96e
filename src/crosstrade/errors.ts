// The CrossTrade error family (pattern: ky source/errors/). Each error carries `reason`, the word the
// relay records as its decision reason when a position read fails.
// Messages are built from safe fields only: the API origin (scheme://host:port) and the account name.
// Never the bearer key, a request path or a body (style guide section 4, "Secrets never appear").

/** Where a failing call went: enough to find it in a log, nothing secret. */
export interface CrossTradeCallContext {
  /** scheme://host:port of the API, no path, no credentials. */
  origin: string;
  account: string;
}

export class CrossTradeError extends Error {
  override name = 'CrossTradeError';
  readonly reason: string;
  readonly origin: string | null;
  readonly account: string | null;

  constructor(message: string, reason: string, context: CrossTradeCallContext | undefined, options?: ErrorOptions) {
    super(context ? `${message} for account ${context.account} at ${context.origin}` : message, options);
    this.reason = reason;
    this.origin = context?.origin ?? null;
    this.account = context?.account ?? null;
  }
}

/** The API answered with a non-2xx status, or with `success:false` and an `error` code. */
export class CrossTradeHttpError extends CrossTradeError {
  override name = 'CrossTradeHttpError';
  readonly status: number;
  /** The body's `error` field (`not_connected`, `Rate limit exceeded`), or null. */
  readonly code: string | null;

  constructor(status: number, code: string | null, context?: CrossTradeCallContext) {
    const shown = code === null ? '' : ` (${code})`;
    super(`CrossTrade API answered HTTP ${status}${shown}`, httpReason(status), context);
    this.status = status;
    this.code = code;
  }
}

/** No complete answer within the timeout. */
export class CrossTradeTimeoutError extends CrossTradeError {
  override name = 'CrossTradeTimeoutError';
  readonly timeoutMs: number;

  constructor(timeoutMs: number, context?: CrossTradeCallContext) {
    super(`CrossTrade API did not answer within ${timeoutMs} ms`, 'api-timeout', context);
    this.timeoutMs = timeoutMs;
  }
}

/** The request failed below HTTP (refused, DNS, reset). The underlying error is in `cause`. */
export class CrossTradeNetworkError extends CrossTradeError {
  override name = 'CrossTradeNetworkError';
  /** The system error code when there is one (`ECONNREFUSED`, `UND_ERR_SOCKET`), else null. */
  readonly code: string | null;

  constructor(cause: unknown, code: string | null, context?: CrossTradeCallContext) {
    const shown = code === null ? '' : ` (${code})`;
    super(`CrossTrade API request failed${shown}`, 'api-network-error', context, { cause });
    this.code = code;
  }
}

/** A 2xx answer whose body is not the documented shape. `detail` says what was wrong, never the body. */
export class CrossTradeBadResponseError extends CrossTradeError {
  override name = 'CrossTradeBadResponseError';
  readonly detail: string;

  constructor(detail: string, context?: CrossTradeCallContext) {
    super(`CrossTrade API answered with an unreadable body (${detail})`, 'api-bad-response', context);
    this.detail = detail;
  }
}

/**
 * Not sent: the relay's share of CrossTrade's API budget for this CrossTrade user is spent
 * (docs/external-systems.md §3.2). The reading counts as a failed check, as CrossTrade's own 429 would.
 */
export class CrossTradeBudgetSpentError extends CrossTradeError {
  override name = 'CrossTradeBudgetSpentError';

  constructor(context?: CrossTradeCallContext) {
    super("CrossTrade API not called: this CrossTrade user's API budget is spent", API_BUDGET_SPENT, context);
  }
}

/** The reason of a reading not taken because the API budget was spent. */
export const API_BUDGET_SPENT = 'api-budget-spent';

/** `api-not-connected-408` (NT8 / add-on not connected), `api-rate-limited-429`, else `api-http-<status>`. */
export function httpReason(status: number): string {
  if (status === 408) return 'api-not-connected-408';
  if (status === 429) return 'api-rate-limited-429';
  return `api-http-${status}`;
}
