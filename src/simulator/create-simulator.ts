// A CrossTrade stand-in over real HTTP: the webhook (`POST /v1/send/:a/:b`) and the positions API
// (`GET /v1/api/...`), with faults to inject per surface. Used by tests, the bench and
// `trade-relay crosstrade-sim`. Shapes follow docs/external-systems.md §2 and §3.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBook, type SimMarketPosition, type SimPosition, type SimWorkingOrder } from './create-book.js';
import { parseFields } from './parse-fields.js';

export interface SimulatorUser {
  key: string;
}

export interface ReceivedAlert {
  body: string;
  contentType: string | undefined;
  /** The status answered; 0 when no answer was sent (hang, drop). */
  status: number;
  at: number;
}

export type ApiFault = null | { kind: 'status'; status: number; body?: string } | { kind: 'hang' } | { kind: 'garbage' };

/**
 * `apply: true` applies the order to the book before failing (the order went through, the answer did not).
 * `delayMs`: the answer (or the drop) comes this long after the request; `times`: the fault hits this many
 * requests, then the webhook works again.
 */
export type WebhookFault =
  | null
  | { kind: 'status'; status: number; apply?: boolean; delayMs?: number; times?: number }
  | { kind: 'hang'; apply?: boolean; times?: number }
  | { kind: 'drop'; apply?: boolean; delayMs?: number; times?: number };

/** One webhook message as the simulator took it, for a person watching (`crosstrade-sim`). */
export interface WebhookEvent {
  at: number;
  /** The message's fields, names lower case, without `key`. */
  fields: ReadonlyMap<string, string>;
  /** The status answered; 0 when no answer was sent (hang, drop). */
  status: number;
  /** Why it was refused (the answer's `error`), or null. */
  error: string | null;
  /** The book after it: every account's open positions and working orders. */
  positions: SimPosition[];
  workingOrders: SimWorkingOrder[];
}

export interface SimulatorOptions {
  host?: string;
  port?: number;
  /** Valid CrossTrade keys (webhook `key=` and API bearer token). Default `['sim-key']`. */
  keys?: string[];
  /** Clock for received times and the front month. Default Date.now. */
  now?: () => number;
  /** Told about every webhook message once it is answered (or its fault applied). */
  onWebhook?: (event: WebhookEvent) => void;
}

export interface Simulator {
  /** `http://127.0.0.1:PORT`, the API base URL (CROSSTRADE_API_URL). */
  url: string;
  /** `${url}/v1/send/<opaque id>/<opaque token>` for the key (default: the first key); the same for a key at every start. */
  webhookUrl(key?: string): string;
  /** Every webhook POST, accepted or not. */
  received: ReceivedAlert[];
  /** Positions API requests seen (answered or failed). */
  readonly apiCalls: number;
  positions(account?: string): SimPosition[];
  /** A stop, a manual close or a manual entry: sets the net position outright. */
  setPosition(account: string, instrument: string, marketPosition: SimMarketPosition, quantity: number): void;
  workingOrders(account?: string): SimWorkingOrder[];
  fillWorkingOrders(account?: string): void;
  failApi(mode: ApiFault): void;
  failWebhook(mode: WebhookFault): void;
  /** Empties the book, the received list and the call count, and clears faults. */
  reset(): void;
  /** Stops listening and ends every open connection, hanging requests included. */
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const SEND_PATH = /^\/v1\/send\/([^/]+)\/([^/]+)\/?$/;
const ACCOUNT_POSITIONS_PATH = /^\/v1\/api\/accounts\/([^/]+)\/positions\/?$/;
const ALL_POSITIONS_PATH = /^\/v1\/api\/positions\/?$/;
const BOOK_PATH = /^\/book\/?$/;

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const { host = '127.0.0.1', port = 0, keys = ['sim-key'], now = Date.now, onWebhook: watcher } = options;
  if (keys.length === 0) throw new Error('simulator: at least one key is needed');
  const book = createBook(now);
  const received: ReceivedAlert[] = [];
  const paths = new Map<string, string>(); // key → `${id}/${token}`
  const keyByPath = new Map<string, string>();
  for (const key of keys) {
    // Derived from the key, so a restarted simulator keeps the webhook URL a user was saved with.
    const digest = createHash('sha256').update(`crosstrade-sim\u0000${key}`).digest('hex');
    const path = `${digest.slice(0, 12)}/${digest.slice(12, 44)}`;
    paths.set(key, path);
    keyByPath.set(path, key);
  }
  let apiCalls = 0;
  let apiFault: ApiFault = null;
  let webhookFault: WebhookFault = null;

  function accept(body: string, pathKey: string | undefined): { status: number; body: { success: boolean; error?: string; detail?: string } } {
    const fields = parseFields(body);
    if (pathKey === undefined || fields.get('key') !== pathKey) {
      return { status: 401, body: { success: false, error: 'invalid_key' } };
    }
    const result = book.apply(fields);
    if (!result.ok) return { status: 400, body: { success: false, error: result.error, detail: result.detail } };
    return { status: 200, body: { success: true } };
  }

  function tell(body: string, status: number, error: string | null): void {
    if (watcher === undefined) return;
    const fields = parseFields(body);
    fields.delete('key');
    watcher({ at: now(), fields, status, error, positions: book.positions(), workingOrders: book.workingOrders() });
  }

  function onWebhook(req: http.IncomingMessage, res: http.ServerResponse, body: string, pathKey: string | undefined): void {
    const record: ReceivedAlert = { body, contentType: req.headers['content-type'], status: 0, at: now() };
    received.push(record);
    const fault = webhookFault;
    if (fault === null) {
      const answer = accept(body, pathKey);
      record.status = answer.status;
      tell(body, answer.status, answer.body.detail ?? answer.body.error ?? null);
      return sendJson(res, answer.status, answer.body);
    }
    if (fault.times !== undefined && --fault.times <= 0) webhookFault = null;
    const applied = fault.apply === true ? accept(body, pathKey) : null;
    const what = fault.kind === 'status' && fault.status === 408 ? 'NinjaTrader not connected' : `simulated ${fault.kind}`;
    tell(body, fault.kind === 'status' ? fault.status : 0, `${what}${applied?.status === 200 ? ' (the order was applied)' : ''}`);
    const later = (fn: () => void) => (fault.kind !== 'hang' && fault.delayMs ? void setTimeout(fn, fault.delayMs) : fn());
    if (fault.kind === 'status') {
      record.status = fault.status;
      return later(() => sendJson(res, fault.status, faultBody(fault.status)));
    }
    if (fault.kind === 'drop') later(() => req.socket.destroy());
    // hang: never answer; close() ends the connection
  }

  function onPositions(req: http.IncomingMessage, res: http.ServerResponse, url: URL, account: string | null): void {
    apiCalls += 1;
    const fault = apiFault;
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end('<html><body>502 Bad Gateway</body></html>');
    }
    if (fault?.kind === 'status') {
      if (fault.body === undefined) return sendJson(res, fault.status, faultBody(fault.status));
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      return void res.end(fault.body);
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined || !paths.has(token)) return sendJson(res, 401, { success: false, error: 'unauthorized' });
    const positions = book.positions(account ?? undefined, url.searchParams.get('includeFlat') === 'true');
    sendJson(res, 200, { positions, count: positions.length, success: true });
  }

  /** The whole book for a person (`curl 127.0.0.1:8090/book`): from this machine only, no key needed. */
  function onBook(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!isLoopback(req.socket.remoteAddress)) return sendJson(res, 403, { success: false, error: 'the book is shown to this machine only' });
    sendJson(res, 200, { positions: book.positions(), working_orders: book.workingOrders() });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readRequest(req);
    if (body === null) return sendJson(res, 413, { success: false, error: 'payload_too_large' });
    const url = new URL(req.url ?? '/', 'http://simulator');
    const send = SEND_PATH.exec(url.pathname);
    if (send && req.method === 'POST') return onWebhook(req, res, body, keyByPath.get(`${send[1]}/${send[2]}`));

    if (req.method === 'GET' && BOOK_PATH.test(url.pathname)) return onBook(req, res);
    const byAccount = ACCOUNT_POSITIONS_PATH.exec(url.pathname);
    if (req.method === 'GET' && byAccount) return onPositions(req, res, url, safeDecode(byAccount[1]!));
    if (req.method === 'GET' && ALL_POSITIONS_PATH.test(url.pathname)) return onPositions(req, res, url, null);
    if (url.pathname.startsWith('/v1/api/')) {
      const hint = url.pathname.startsWith('/v1/api/accounts/') ? '/v1/api/accounts/{account}/positions' : '/v1/api/positions';
      return sendJson(res, 404, { success: false, error: 'not_found', detail: 'Unknown API route', did_you_mean: hint });
    }
    sendJson(res, 404, { success: false, error: 'not_found' });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url,
    webhookUrl(key = keys[0]!) {
      const path = paths.get(key);
      if (path === undefined) throw new Error('simulator: unknown key');
      return `${url}/v1/send/${path}`;
    },
    received,
    get apiCalls() {
      return apiCalls;
    },
    positions: (account) => book.positions(account),
    setPosition: (account, instrument, marketPosition, quantity) => book.setPosition(account, instrument, marketPosition, quantity),
    workingOrders: (account) => book.workingOrders(account),
    fillWorkingOrders: (account) => book.fillWorkingOrders(account),
    failApi(mode) {
      apiFault = mode;
    },
    failWebhook(mode) {
      webhookFault = mode === null ? null : { ...mode };
    },
    reset() {
      book.reset();
      received.length = 0;
      apiCalls = 0;
      apiFault = null;
      webhookFault = null;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** What CrossTrade answers for a failing status (docs/external-systems.md §3.2, §3.3). */
function faultBody(status: number): object {
  if (status === 408) return { success: false, error: 'not_connected' };
  if (status === 429) return { error: 'Rate limit exceeded' };
  return { success: false, error: 'simulated_failure' };
}

function sendJson(res: http.ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** The whole request body as text, or null when it is over the limit. */
async function readRequest(req: http.IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether a peer address is this machine (IPv4 127/8, IPv6 ::1, IPv4-mapped 127/8). */
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
