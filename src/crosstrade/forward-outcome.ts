// Pure classification of a webhook forward (docs/external-systems.md §2.8: HTTP 200 is "accepted", not "filled").
// An order is not idempotent, so a forward is never retried, and the relay must know whether a
// failure is definite (the order cannot have gone through) or ambiguous (it may have).
// When in doubt the answer is ambiguous: a wrongly kept ownership heals on the next flat reading,
// a wrongly dropped one lets a second strategy in on top of an open position.

export type ForwardOutcome =
  | { ok: true; status: number; body: string }
  | { ok: false; ambiguous: boolean; reason: string; status: number | null; body?: string };

/** Errors raised before any byte of the request can have reached the server. */
const NOT_SENT_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_INVALID_ARG',
  'ERR_INVALID_URL',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** 2xx → ok; 4xx → definite; anything else (3xx, 5xx) → ambiguous. */
export function outcomeForStatus(status: number, body: string): ForwardOutcome {
  if (status >= 200 && status < 300) return { ok: true, status, body };
  const ambiguous = !(status >= 400 && status < 500);
  return { ok: false, ambiguous, reason: `upstream-http-${status}`, status, body };
}

/**
 * A forward that got no status. `timedOut` is whether our own deadline fired.
 * Refused / DNS / bad URL / TLS → definite; timeout, reset, closed socket and the unknown → ambiguous.
 */
export function outcomeForError(error: unknown, timedOut: boolean): ForwardOutcome {
  const code = errorCode(error);
  if (timedOut || (code !== null && TIMEOUT_CODES.has(code))) return ambiguous('upstream-timeout');
  if (code === 'ECONNREFUSED') return definite('upstream-connection-refused');
  if (code !== null && NOT_SENT_CODES.has(code)) return definite('upstream-network-error');
  return ambiguous('upstream-connection-lost');
}

/** The system or undici error code of an error, its cause, or the first of an AggregateError. */
export function errorCode(error: unknown): string | null {
  if (typeof error !== 'object' || error === null) return null;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0]);
  return cause === undefined || cause === error ? null : errorCode(cause);
}

function definite(reason: string): ForwardOutcome {
  return { ok: false, ambiguous: false, reason, status: null };
}

function ambiguous(reason: string): ForwardOutcome {
  return { ok: false, ambiguous: true, reason, status: null };
}
