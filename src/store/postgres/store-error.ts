import { StoreBusyError, StoreUnavailableError } from '../store.js';

/**
 * PostgreSQL's and the network's failures as the store's own errors (issue 10: nothing above the
 * store reads a vendor code):
 * - another writer holds the keys (lock_timeout 55P03, a deadlock 40P01, a serialization failure
 *   40001) → StoreBusyError: worth a retry;
 * - the server cannot be reached, refuses or drops the connection, is starting up or shutting down,
 *   is a read-only standby, is out of disk or connections, or a statement ran past its timeout
 *   (57014) → StoreUnavailableError;
 * - anything else (a bug, a throwing `decide`) as it was.
 * The cause is kept, but only when it holds none of `secrets` (the URL, the password).
 */
export function toStoreError(error: unknown, secrets: readonly string[] = []): unknown {
  if (error instanceof StoreBusyError || error instanceof StoreUnavailableError) return error;
  if (isBusyFailure(error)) return new StoreBusyError({ cause: scrubbed(error, secrets) });
  const what = unavailableReason(error);
  return what === null ? error : new StoreUnavailableError(what, { cause: scrubbed(error, secrets) });
}

/** Another writer held what this transaction needed: the transaction was rolled back and may be tried again. */
export function isBusyFailure(error: unknown): boolean {
  if (error instanceof StoreBusyError) return true;
  const code = codeOf(error);
  return code === '55P03' || code === '40P01' || code === '40001';
}

/** A fault that may pass (busy, a database away for a moment): queued writes are kept and retried. */
export function isPassingFailure(error: unknown): boolean {
  return error instanceof StoreUnavailableError || isBusyFailure(error) || unavailableReason(error) !== null;
}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection broken',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host down',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
};

// pg's own words for a connection that failed or was given up (it sets no code on them).
const DRIVER: [RegExp, string][] = [
  [/timeout expired|connection timeout/i, 'no answer to the connection in time'],
  [/timeout exceeded when trying to connect/i, 'no free connection in time'],
  [/Query read timeout/i, 'no answer to a query in time'],
  [/Connection terminated|not queryable|Client was closed|Connection ended/i, 'the connection was lost'],
];

function unavailableReason(error: unknown): string | null {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : '';
  const network = NETWORK[code];
  if (network !== undefined) return network;
  if (code === '57014') return 'a statement ran past its timeout';
  if (code === '25P03') return 'the server ended a transaction left idle past its timeout';
  if (code === '25006') return 'the server is read-only (a standby?)';
  if (code.startsWith('28')) return 'the server refused the credentials';
  if (code === '3D000') return 'the database does not exist';
  // 57P01-03: shutting down, crashed, starting up; 08: connection exceptions; 53: disk full, out of
  // memory, too many connections; 58: I/O errors. The server's own sentence says which.
  if (/^(57P0[1-3]|08|53|58)/.test(code)) return `${message} (${code})`;
  for (const [pattern, words] of DRIVER) if (pattern.test(message)) return words;
  return null;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  // Node reports a refused connection to a host with several addresses as an AggregateError.
  const errors = (error as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) && errors.length > 0 ? codeOf(errors[0]) : '';
}

/** The error itself, or one in its words with every secret masked when its text holds one. */
function scrubbed(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof Error)) return error;
  const present = secrets.filter((s) => s !== '' && (error.message.includes(s) || (error.stack ?? '').includes(s)));
  if (present.length === 0) return error;
  let message = error.message;
  for (const secret of present) message = message.split(secret).join('***');
  return Object.assign(new Error(message), { code: codeOf(error) });
}
