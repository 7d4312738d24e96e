import { ChannelError } from './channel-error.js';

export interface PostJsonOptions {
  /** Names the channel in error messages. */
  channel: string;
  timeoutMs: number;
  signal: AbortSignal;
  /** The service's own words for a refusal, from its JSON answer (Discord's `message`, Telegram's `description`). */
  describe?: (body: unknown) => string | null;
  /** The service's own wait on 429, in ms, from its JSON answer. */
  retryAfter?: (body: unknown) => number | null;
}

/**
 * POSTs `body` as JSON and resolves on a 2xx. Throws ChannelError otherwise: retryable for a network
 * failure, a timeout, 408, 429 and 5xx. No message names the URL: Discord's and Telegram's hold the token.
 */
export async function postJson(url: string, body: unknown, options: PostJsonOptions): Promise<void> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.any([options.signal, timeout]),
      redirect: 'error',
    });
  } catch (error) {
    if (options.signal.aborted) throw new ChannelError(`${options.channel}: stopped (the relay is shutting down)`, { retryable: false });
    if (timeout.aborted) throw new ChannelError(`${options.channel}: no answer within ${options.timeoutMs} ms`, { retryable: true });
    throw new ChannelError(`${options.channel}: could not connect (${errorCode(error) ?? 'network error'})`, { retryable: true });
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return;
  const parsed = parseJson(text);
  const words = parsed === undefined ? null : (options.describe?.(parsed) ?? null);
  const status = response.status;
  const retryable = status === 408 || status === 429 || status >= 500;
  const retryAfterMs = status === 429 ? ((parsed === undefined ? null : (options.retryAfter?.(parsed) ?? null)) ?? retryAfterHeader(response)) : null;
  throw new ChannelError(`${options.channel}: HTTP ${status}${words === null ? '' : ` (${words.slice(0, 200)})`}`, { retryable, retryAfterMs });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function retryAfterHeader(response: Response): number | null {
  const seconds = Number(response.headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
}

/** The system or undici code of a fetch failure (fetch wraps it in `cause`). */
function errorCode(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth += 1) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string') return code;
    e = cause;
  }
  return null;
}
