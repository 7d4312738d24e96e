import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInRequest {
  path: string;
  body: string;
  /** The body as JSON (undefined when it is not JSON). */
  json: unknown;
}

export interface NotifyStandIn {
  /** `http://127.0.0.1:PORT`: the API base (Discord, Telegram) or the webhook's origin. */
  url: string;
  /** Every request, in the order it arrived, answered or not. */
  received: StandInRequest[];
  /** Requests held open (hang, hold) and not answered yet. */
  readonly pending: number;
  /** Answers the next `times` requests with this status (and the service's error body). */
  failNext(status: number, times: number): void;
  /** Holds every request from now on until release() (or close): a channel that hangs. */
  hold(): void;
  /** Answers the held requests normally and stops holding. */
  release(): void;
  /** Resolves once `count` requests have arrived; rejects after `ms`. */
  waitFor(count: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for one notification service, answering as it does:
 * - `discord`: POST /api/webhooks/<id>/<token> → 204; a wrong path 404 {"message":"Unknown Webhook"}.
 * - `telegram`: POST /bot<token>/sendMessage → 200 {"ok":true}; a wrong token 401 {"description":"Unauthorized"},
 *   a chat other than `chat` 400 {"description":"Bad Request: chat not found"}.
 * - `webhook`: any POST → 200.
 */
export async function startNotifyStandIn(
  kind: 'discord' | 'telegram' | 'webhook',
  expected: { path?: string; token?: string; chat?: string } = {},
): Promise<NotifyStandIn> {
  const received: StandInRequest[] = [];
  const held: (() => void)[] = [];
  let holding = false;
  let failures: { status: number; times: number } | null = null;

  const answer = (response: http.ServerResponse, request: StandInRequest): void => {
    const send = (status: number, body?: unknown) => {
      response.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (failures !== null && failures.times > 0) {
      failures.times -= 1;
      return send(
        failures.status,
        kind === 'telegram' ? { ok: false, error_code: failures.status, description: 'Internal Server Error' } : { message: 'server error' },
      );
    }
    if (kind === 'discord') {
      if (expected.path !== undefined && request.path !== expected.path) return send(404, { message: 'Unknown Webhook', code: 10015 });
      return send(204);
    }
    if (kind === 'telegram') {
      if (expected.token !== undefined && request.path !== `/bot${expected.token}/sendMessage`)
        return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
      const chat = (request.json as { chat_id?: unknown } | undefined)?.chat_id;
      if (expected.chat !== undefined && String(chat) !== expected.chat)
        return send(400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' });
      return send(200, { ok: true, result: { message_id: received.length } });
    }
    return send(200, { ok: true });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const request = { path: req.url ?? '', body, json };
      received.push(request);
      if (holding) held.push(() => answer(res, request));
      else answer(res, request);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get pending() {
      return held.length;
    },
    failNext(status, times) {
      failures = { status, times };
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const respond of held.splice(0)) respond();
    },
    async waitFor(count, ms = 5000) {
      const deadline = Date.now() + ms;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`${kind} stand-in: expected ${count} requests, got ${received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      held.length = 0;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
