// Reads a response body under a size limit, so a socket can go back to the keep-alive pool
// without trusting the peer to send a sane amount.
import type { Dispatcher } from 'undici';

export type ResponseBody = Dispatcher.ResponseData['body'];

export interface LimitedBody {
  /** The first `keepBytes` bytes, decoded as UTF-8. */
  text: string;
  /** True when more than `keepBytes` arrived. */
  truncated: boolean;
  /** True when more than `drainBytes` arrived and the rest was dropped (the socket is not reused). */
  abandoned: boolean;
}

/**
 * Keeps the first `keepBytes` bytes, reads and discards up to `drainBytes` in all, then destroys the
 * stream. Rejects when the stream fails (abort, timeout, reset).
 */
export async function readBody(body: ResponseBody, keepBytes: number, drainBytes: number): Promise<LimitedBody> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (keptBytes < keepBytes) {
      const part = chunk.subarray(0, keepBytes - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    if (total > drainBytes) {
      body.destroy();
      return { text: Buffer.concat(kept).toString('utf8'), truncated: true, abandoned: true };
    }
  }
  return { text: Buffer.concat(kept).toString('utf8'), truncated: total > keepBytes, abandoned: false };
}
