import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseAddressList, unmapIPv4 } from '../config/address-list.js';
import type { Logger } from '../log/logger.js';
import type { RelayDeps } from '../relay/relay-deps.js';
import { rejectedRecord } from '../relay/rejected-record.js';
import { limitWithin } from '../store/limit-within.js';
import { isStoreBusyError, isStoreUnavailableError, type LimitRule } from '../store/store.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerConsole } from '../console/register-console.js';
import { createAdminLockout } from './admin-lockout.js';
import { registerHealthRoute } from './routes/health.js';
import { registerWebhookRoute } from './routes/webhook.js';
import { SECURITY_HEADERS } from '../console/security-headers.js';

/** A TradingView alert is a few hundred bytes; anything near this is not an alert. */
export const BODY_LIMIT_BYTES = 16 * 1024;
/** TradingView's webhook client certificate subject (docs/external-systems.md §1.2). */
export const TRADINGVIEW_CLIENT_CN = 'TradingView Webhooks';

export interface TlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA certificates a client certificate must chain to; default: Node's public root CAs. */
  clientCa?: string | Buffer;
  /** Require TradingView's client certificate on /webhook. */
  verifyTradingView: boolean;
}

export interface ServerOptions {
  relay: RelayDeps;
  /** The token in effect, read at each request (a rotated one works at once). */
  adminToken: () => string | null | undefined | Promise<string | null | undefined>;
  logger: Logger;
  now?: () => number;
  /** `*` or addresses / CIDR ranges allowed to post to /webhook. */
  webhookAllow: string;
  /** Proxy addresses whose X-Forwarded-For is believed ('' = none). */
  trustProxy: string;
  /** Alerts per minute per source address on /webhook (0 = no limit); counted by every instance on one PostgreSQL database together. */
  rateLimitPerMin: number;
  tls?: TlsOptions;
}

/** Builds the relay's HTTP(S) app (no listen): tests and `startRelay` share it. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const now = options.now ?? Date.now;
  const trusted = options.trustProxy === '' ? null : parseAddressList(options.trustProxy);
  const app = Fastify({
    // Fastify's per-request lines stay off: every alert gets its own decision line instead.
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // A hung client must not pin a socket; TradingView gives up after 3 s anyway.
    requestTimeout: 10_000,
    return503OnClosing: true,
    // X-Forwarded-For is believed only from the configured proxies: otherwise any sender could
    // name an allowed address in the header and walk around the allow-list.
    trustProxy: trusted === null ? false : (address: string) => trusted.has(address),
    ...(options.tls
      ? {
          https: {
            cert: options.tls.cert,
            key: options.tls.key,
            ...(options.tls.clientCa ? { ca: options.tls.clientCa } : {}),
            // Asked for, never required at the TLS layer: admin clients have none; /webhook checks it below.
            requestCert: options.tls.verifyTradingView,
            rejectUnauthorized: false,
          },
        }
      : {}),
  }) as unknown as FastifyInstance;

  // TradingView posts text/plain for key=value; alerts and application/json when the message
  // is valid JSON (docs/external-systems.md §1.1). Anything else is read as text and judged by the parser.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  // JSON bodies are parsed by the alert parser (repeated keys, `__proto__`, non-objects are its
  // business), so the route sees the text and knows it was JSON.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
    done(null, isWebhook(request) ? { text: body, json: true } : parseAdminJson(body as string)),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const storeFailure = isStoreBusyError(error) ? 'database busy' : isStoreUnavailableError(error) ? 'database unavailable' : null;
    if (storeFailure !== null && isWebhook(request)) {
      // Another writer held the database past the busy timeout, or it could not be reached: the
      // transaction rolled back, nothing was decided or forwarded (an error after the forward never reaches here).
      options.logger.error({ err: error }, `${storeFailure}: alert not processed`);
      return reply.code(503).send({ decision: 'blocked', signal_type: null, reason: `${storeFailure}: nothing was forwarded, send again` });
    }
    if (storeFailure !== null) {
      // The store's message is its own words (no path, no connection string); the stack stays in the log.
      options.logger.error({ err: error, method: request.method, url: request.url }, `${storeFailure}: request failed`);
      return reply.code(503).send({ error: `${oneLine(error.message)}: try again shortly` });
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const message = status < 500 ? oneLine(error.message) : 'internal error';
    if (status >= 500) options.logger.error({ err: error, method: request.method, url: request.url }, 'request failed');
    if (isWebhook(request)) return refuseWebhook(options.relay, request, reply, status, message);
    return reply.code(status).send({ error: message });
  });
  // The path is not echoed: a pasted CrossTrade webhook URL would carry its secret in it.
  // With the console's headers: a mistyped console path is answered like its pages (issue 11).
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .headers(SECURITY_HEADERS)
      .send({ error: `no such route (${request.method})` }),
  );

  app.addHook('onRequest', webhookGate(options, now));

  // On shutdown, alerts in flight still get their answer, then their keep-alive connection is
  // closed, so close() need not wait for idle sockets to time out.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  // Several instances share a PostgreSQL database: one that cannot reach it must leave the balancer.
  registerHealthRoute(app, now(), now, options.relay.store.kind === 'postgres' ? options.relay.store : null);
  registerWebhookRoute(app, options.relay);
  // One count for the API and the console's login: guessing through either halts both.
  registerAdminRoutes(app, { store: options.relay.store, logger: options.logger, adminToken: options.adminToken, now });
  const failures = createAdminLockout(options.relay.store, now);
  registerConsole(app, { store: options.relay.store, logger: options.logger, adminToken: options.adminToken, now, failures });
  return app;
}

/** The store's name of the per-source webhook limit (RELAY_RATE_LIMIT_PER_MIN). */
export const WEBHOOK_LIMIT = 'webhook';
/** How far ahead an instance on PostgreSQL takes from the shared webhook limit (ms; see LimitRule.aheadMs). */
const TAKE_AHEAD_MS = 250;

/** Who may post alerts, checked before the body is read: allow-list, rate limit, TradingView's certificate. */
function webhookGate(options: ServerOptions, now: () => number) {
  const allow = parseAddressList(options.webhookAllow);
  // Taken ahead on PostgreSQL (LimitRule.aheadMs): a steady stream from one source (TradingView
  // sends from four addresses) costs a statement per batch, not one per alert.
  const rule: LimitRule = { kind: 'window', limit: options.rateLimitPerMin, windowMs: 60_000, aheadMs: TAKE_AHEAD_MS };
  const { store, logger } = options.relay;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isWebhook(request)) return;
    const source = unmapIPv4(request.ip);
    if (!allow.has(source))
      return refuseWebhook(options.relay, request, reply, 403, `source address ${source} is not allowed to send alerts (RELAY_WEBHOOK_ALLOW)`);
    if (options.rateLimitPerMin > 0) {
      const taken = await limitWithin(store.takeLimit(WEBHOOK_LIMIT, source, rule, now()));
      // A limit the database cannot answer in time lets the alert through: the rate limit is
      // throttling, the arbitration (which refuses what it cannot decide) is the trading safety.
      if ('error' in taken) logger.warn({ err: taken.error, source }, 'the webhook rate limit could not be checked in time: alert let through');
      else if (!taken.value.allowed) {
        return refuseWebhook(options.relay, request, reply, 429, `rate limit: more than ${options.rateLimitPerMin} alerts a minute from ${source}`);
      }
    }
    if (options.tls?.verifyTradingView && !hasTradingViewCertificate(request)) {
      return refuseWebhook(options.relay, request, reply, 403, `no valid TradingView client certificate (CN "${TRADINGVIEW_CLIENT_CN}") from ${source}`);
    }
  };
}

function hasTradingViewCertificate(request: FastifyRequest): boolean {
  const socket = request.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return false;
  const subject = socket.getPeerCertificate().subject as Record<string, string | string[]> | undefined;
  return subject?.CN === TRADINGVIEW_CLIENT_CN;
}

/** By the route Fastify matched, never by the raw URL: `/%77ebhook` routes to /webhook too. */
function isWebhook(request: FastifyRequest): boolean {
  return request.routeOptions.url === '/webhook' && request.method === 'POST';
}

/** Answers a refused alert the way the webhook answers every alert, and writes its signal-log row. */
async function refuseWebhook(relay: RelayDeps, request: FastifyRequest, reply: FastifyReply, status: number, reason: string) {
  try {
    await recordRefusal(relay, request, status, reason);
  } catch (error) {
    relay.logger.error({ err: error }, 'could not write the signal-log row of a refused alert');
  }
  relay.logger.warn({ decision: 'rejected', status, reason, source: unmapIPv4(request.ip) }, 'alert refused');
  relay.notifier?.alertDecided({
    time: relay.now(),
    relayUser: null,
    relayId: null,
    account: null,
    instrument: null,
    signalType: null,
    decision: 'rejected',
    reason,
  });
  return reply.code(status).send({ decision: status >= 500 ? 'failed' : 'rejected', signal_type: null, reason });
}

async function recordRefusal(relay: RelayDeps, request: FastifyRequest, status: number, reason: string): Promise<void> {
  await relay.store.appendLog({
    time: relay.now(),
    relayUser: null,
    relayId: null,
    account: null,
    instrument: null,
    signalType: null,
    decision: status >= 500 ? 'failed' : 'rejected',
    reason,
    apiCheck: null,
    upstreamStatus: null,
    latencyMs: 0,
    alert: rejectedRecord('refused before reading', Number(request.headers['content-length'] ?? 0) || 0),
  });
}

function parseAdminJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw Object.assign(new Error('request body is not valid JSON'), { statusCode: 400 });
  }
}

function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim().slice(0, 300);
}
