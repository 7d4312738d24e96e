/**
 * A channel could not deliver a message. The message is built from safe parts only (the channel's
 * name, an HTTP status, an error code, the service's own description), never a URL or a token.
 */
export class ChannelError extends Error {
  override name = 'ChannelError';
  /** Worth another try: a network failure, a timeout, 408, 429 or 5xx. A refused token or chat is not. */
  readonly retryable: boolean;
  /** How long the service asked to wait (429 Retry-After, Telegram's retry_after), in ms. */
  readonly retryAfterMs: number | null;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number | null }) {
    super(message);
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}
