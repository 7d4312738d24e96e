// Type guards beside the errors (pattern: ky source/utils/type-guards.ts): branch on the kind, never on messages.
import { CrossTradeBadResponseError, CrossTradeError, CrossTradeHttpError, CrossTradeNetworkError, CrossTradeTimeoutError } from './errors.js';

export function isCrossTradeError(error: unknown): error is CrossTradeError {
  return error instanceof CrossTradeError;
}

export function isCrossTradeHttpError(error: unknown): error is CrossTradeHttpError {
  return error instanceof CrossTradeHttpError;
}

export function isCrossTradeTimeoutError(error: unknown): error is CrossTradeTimeoutError {
  return error instanceof CrossTradeTimeoutError;
}

export function isCrossTradeNetworkError(error: unknown): error is CrossTradeNetworkError {
  return error instanceof CrossTradeNetworkError;
}

export function isCrossTradeBadResponseError(error: unknown): error is CrossTradeBadResponseError {
  return error instanceof CrossTradeBadResponseError;
}
