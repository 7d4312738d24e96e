import type { FastifyInstance } from 'fastify';
import { logView } from '../http/views.js';
import type { SignalLogRecord } from '../store/store.js';
import type { ConsoleContext } from './console-context.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { SESSION_COOKIE } from './session-cookie.js';

/** Rows sent to a (re)connecting browser that it has not seen yet; older ones it reloads the page for. */
const CATCH_UP_ROWS = 200;
/** A comment this often keeps proxies from closing an idle stream (ms); the session is checked as often. */
const KEEP_ALIVE_MS = 15_000;
/**
 * Bytes a stream may hold unsent for a browser that does not read (a full catch-up is 200 rows of
 * at most ~16 KiB each, well below): past it the stream is dropped; the browser reconnects and catches up.
 */
const MAX_UNSENT_BYTES = 8 * 1024 * 1024;

/**
 * GET /console/events: Server-Sent Events, one `row` event per new or completed signal-log row
 * (data: the row as the management API shows it). Rows after `?after=` (or the browser's
 * Last-Event-ID when it reconnects) are sent first, read once; then the shared feed's rows.
 */
export function registerEventsRoute(app: FastifyInstance, context: ConsoleContext): void {
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of [...streams]) end();
  });

  app.get<{ Querystring: { after?: string } }>('/console/events', async (request, reply) => {
    const afterText = (request.headers['last-event-id'] as string | undefined) ?? request.query.after ?? '';
    const after = /^\d{1,15}$/.test(afterText) ? Number(afterText) : null;
    reply.hijack();
    const response = reply.raw;
    // Hijacked: the scope's onSend hook does not run, so the headers are written here.
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    const send = (row: SignalLogRecord) => {
      if (response.destroyed) return;
      response.write(`id: ${row.id}\nevent: row\ndata: ${JSON.stringify(logView(row))}\n\n`);
      // Otherwise every row would wait in memory for a client that never reads (or never will).
      if (response.writableLength > MAX_UNSENT_BYTES) {
        context.logger.warn(
          { source: context.sourceOf(request), unsent_bytes: response.writableLength },
          'console live feed: a browser stopped reading; its stream is dropped',
        );
        response.destroy();
      }
    };
    let unsubscribe: (() => void) | null = null;
    let keepAlive: NodeJS.Timeout | undefined;
    let gone = false;
    const end = () => {
      gone = true;
      unsubscribe?.();
      unsubscribe = null;
      clearInterval(keepAlive);
      streams.delete(end);
      if (!response.writableEnded) response.end();
    };
    streams.add(end);
    // The response's close, not the request's: a GET's request closes as soon as it has been read.
    response.on('close', end);
    // Subscribed before the catch-up read, so no row falls between them (a row sent twice is replaced by its id).
    try {
      const stop = await context.feed.subscribe(send);
      if (gone) return stop();
      unsubscribe = stop;
    } catch (error) {
      context.logger.warn({ err: error }, 'console live feed: could not start a stream');
      return end();
    }
    // The session is checked again at each keep-alive: an expired or logged-out session, or a rotated token, ends the stream.
    const cookie = request.cookies[SESSION_COOKIE.name];
    keepAlive = setInterval(async () => {
      const signer = await context.signer().catch(() => null);
      const session = signer?.read(cookie, context.now()) ?? null;
      if (session === null || (await context.loggedOut.has(session).catch(() => false))) return end();
      response.write(': keep-alive\n\n');
    }, KEEP_ALIVE_MS);
    if (after !== null) {
      try {
        for (const row of (await context.store.listLogs({ afterId: after, limit: CATCH_UP_ROWS })).reverse()) send(row);
      } catch (error) {
        context.logger.warn({ err: error }, 'console live feed: could not read the rows a browser missed');
      }
    }
  });
}
