import type { FastifyInstance } from 'fastify';
import { logView } from '../http/views.js';
import type { SignalLogRecord } from '../store/store.js';
import type { ConsoleContext } from './console-context.js';

/** Rows sent to a (re)connecting browser that it has not seen yet; older ones it reloads the page for. */
const CATCH_UP_ROWS = 200;
/** A comment this often keeps proxies from closing an idle stream (ms). */
const KEEP_ALIVE_MS = 15_000;

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
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    const send = (row: SignalLogRecord) => {
      response.write(`id: ${row.id}\nevent: row\ndata: ${JSON.stringify(logView(row))}\n\n`);
    };
    // Subscribed before the catch-up read, so no row falls between them (a row sent twice is replaced by its id).
    const unsubscribe = context.feed.subscribe(send);
    const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    const end = () => {
      unsubscribe();
      clearInterval(keepAlive);
      streams.delete(end);
      if (!response.writableEnded) response.end();
    };
    streams.add(end);
    request.raw.on('close', end);
    if (after !== null) {
      try {
        for (const row of (await context.store.listLogs({ afterId: after, limit: CATCH_UP_ROWS })).reverse()) send(row);
      } catch (error) {
        context.logger.warn({ err: error }, 'console live feed: could not read the rows a browser missed');
      }
    }
  });
}
