import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.js';
import { rejectedRecord, type RelayDeps } from '../relay/handle-alert.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerHealthRoute } from './routes/health.js';
import { registerWebhookRoute } from './routes/webhook.js';

/** A TradingView alert is a few hundred bytes; anything near this is not an alert. */
export const BODY_LIMIT_BYTES = 16 * 1024;

export interface ServerOptions {
  relay: RelayDeps;
  adminToken: () => string | undefined;
  logger: Logger;
  now?: () => number;
}

/** Builds the relay's HTTP app (no listen): tests and `main` share it. */
export function buildServer(options: ServerOptions): FastifyInstance {
  const now = options.now ?? Date.now;
  const app = Fastify({
    // Fastify's per-request lines stay off: every alert gets its own decision line instead.
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    // A hung client must not pin a socket; TradingView gives up after 3 s anyway.
    requestTimeout: 10_000,
    return503OnClosing: true,
  });

  // TradingView posts text/plain for key=value; alerts and application/json when the message
  // is valid JSON (reference §1.1). Anything else is read as text and judged by the parser.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const message = status < 500 ? oneLine(error.message) : 'internal error';
    if (status >= 500) options.logger.error({ err: error, method: request.method, url: request.url }, 'request failed');
    if (request.routeOptions.url === '/webhook') {
      recordRejectedWebhook(options.relay, request.headers['content-length'], message, now());
      return reply.code(status).send({ decision: status < 500 ? 'rejected' : 'failed', signal_type: null, reason: message });
    }
    return reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));

  registerHealthRoute(app, now(), now);
  registerWebhookRoute(app, options.relay);
  registerAdminRoutes(app, { store: options.relay.store, logger: options.logger, adminToken: options.adminToken, now });
  return app;
}

function recordRejectedWebhook(relay: RelayDeps, contentLength: string | undefined, reason: string, time: number): void {
  relay.store.appendLog({
    time,
    relayUser: null,
    relayId: null,
    account: null,
    instrument: null,
    signalType: null,
    decision: 'rejected',
    reason,
    apiCheck: null,
    upstreamStatus: null,
    latencyMs: 0,
    alert: rejectedRecord('unreadable request', Number(contentLength ?? 0) || 0),
  });
  relay.logger.warn({ decision: 'rejected', reason }, 'alert rejected');
}

function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim().slice(0, 300);
}
