import type { FastifyInstance } from 'fastify';
import { logView, userView } from '../http/views.js';
import type { LogDecision, LogQuery } from '../store/store.js';
import type { ConsoleContext } from './console-context.js';
import { nowRows } from './now-rows.js';
import { strategyReport } from './strategy-report.js';

const DAY_MS = 24 * 60 * 60_000;
/** Rows the signal log page shows at once. */
const LOG_PAGE_ROWS = 200;
/** Rows the Strategies page counts at most (the last 7 days, newest first). */
const STRATEGY_SCAN_ROWS = 10_000;
/** Rows the Now page reads to find each key's last decision. */
const NOW_RECENT_ROWS = 500;
const DECISIONS: readonly LogDecision[] = ['forwarded', 'blocked', 'dropped', 'rejected', 'failed', 'unknown', 'pending', 'admin'];
const NOTICES: Readonly<Record<string, string>> = {
  cleared: 'Position cleared: the relay no longer holds it for anyone (CrossTrade was not touched).',
  'not-cleared': 'Nobody held that position any more: nothing was cleared.',
  created: 'User added.',
  updated: 'User updated.',
  'now-live': 'User updated, and now live: its orders go to CrossTrade with its key (what it held in the paper book was released).',
  'now-paper': "User updated, and now in paper mode: its orders go to the relay's paper book, not to CrossTrade (what it held live was released).",
  'other-host':
    "Saved. The webhook URL's host is not CrossTrade's (app.crosstrade.io): orders will go there; check that you copied the CrossTrade webhook URL.",
  removed: 'User removed, with the positions it owned.',
  'not-removed': 'No such user: nothing was removed.',
};

// A field given twice arrives as an array: `one` reads it as not given.
interface LogFilterQuery {
  user?: string | string[];
  strategy?: string | string[];
  decision?: string | string[];
  since?: string | string[];
  until?: string | string[];
  notice?: string | string[];
}

/** The pages: Now (`/`), the signal log, Strategies, Users; and the Now page's rows as JSON for its live refresh. */
export function registerPageRoutes(app: FastifyInstance, context: ConsoleContext): void {
  const { store } = context;
  const noticeOf = (query: unknown) => NOTICES[(query as { notice?: string }).notice ?? ''] ?? null;

  const readNow = async () => {
    const now = context.now();
    const [positions, users, logs] = await Promise.all([store.listPositions(), store.listUsers(), store.listLogs({ limit: NOW_RECENT_ROWS })]);
    return { rows: nowRows(positions, users, logs, now), lastId: logs[0]?.id ?? 0, now };
  };

  app.get('/', async (request, reply) => {
    const { rows, lastId, now } = await readNow();
    const shown = rows.map((r) => ({ ...r, hold_left: holdLeft(r.hold_until_ms, now) }));
    return context.page(request, reply, 'now', { title: 'Now', rows: shown, lastId, notice: noticeOf(request.query) });
  });

  app.get('/console/now.json', async (_request, reply) => {
    const { rows } = await readNow();
    return reply.header('cache-control', 'no-store').send({ rows });
  });

  app.get<{ Querystring: LogFilterQuery }>('/console/log', async (request, reply) => {
    const q = request.query;
    const filter = {
      user: one(q.user).trim().slice(0, 64),
      strategy: one(q.strategy).trim().slice(0, 64),
      decision: (DECISIONS.includes(one(q.decision) as LogDecision) ? one(q.decision) : '') as LogDecision | '',
      since: one(q.since),
      until: one(q.until),
    };
    const since = readUtcTime(filter.since);
    const until = readUtcTime(filter.until);
    const query: LogQuery = {
      ...(filter.user === '' ? {} : { relayUser: filter.user }),
      ...(filter.strategy === '' ? {} : { relayId: filter.strategy }),
      ...(filter.decision === '' ? {} : { decisions: [filter.decision] }),
      ...(since === null ? {} : { since }),
      ...(until === null ? {} : { until }),
    };
    const badTime = (filter.since !== '' && since === null) || (filter.until !== '' && until === null);
    const [rows, newest, users] = await Promise.all([store.listLogs({ ...query, limit: LOG_PAGE_ROWS }), store.listLogs({ limit: 1 }), store.listUsers()]);
    return context.page(request, reply, 'log', {
      title: 'Signal log',
      rows: rows.map(logView),
      filter,
      decisions: DECISIONS,
      users: users.map((u) => u.relayUser),
      lastId: newest[0]?.id ?? 0,
      // An end time shows a fixed window: new rows would not belong in it.
      live: until === null,
      error: badTime ? 'A time could not be read: use the date picker (YYYY-MM-DDTHH:MM, UTC).' : null,
    });
  });

  app.get('/console/strategies', async (request, reply) => {
    const now = context.now();
    const todayStart = Math.floor(now / DAY_MS) * DAY_MS;
    const rows = await store.listLogs({ since: now - 7 * DAY_MS, limit: STRATEGY_SCAN_ROWS });
    const report = strategyReport(rows, todayStart);
    return context.page(request, reply, 'strategies', {
      title: 'Strategies',
      ...report,
      cost: report.cost.slice(0, 200),
      todayStart: new Date(todayStart).toISOString().slice(0, 16).replace('T', ' '),
      truncated: rows.length === STRATEGY_SCAN_ROWS,
      scanned: STRATEGY_SCAN_ROWS,
    });
  });

  app.get<{ Querystring: { edit?: string; notice?: string } }>('/console/users', async (request, reply) => {
    const users = (await store.listUsers()).map(userView);
    // Edit: the form is filled with the user's name and paper mode; its key, URL and passphrase are never shown.
    const editing = users.find((u) => u.relay_user === request.query.edit);
    const form = editing === undefined ? {} : { relay_user: editing.relay_user, paper: editing.paper };
    return context.page(request, reply, 'users', { title: 'Users', users, form, notice: noticeOf(request.query) });
  });
}

/** A query field given once; '' when missing or given more than once. */
function one(value: string | string[] | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** A `datetime-local` value read as UTC (ms), or null when empty or unreadable. */
function readUtcTime(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(text)) return null;
  const ms = Date.parse(`${text}Z`);
  return Number.isFinite(ms) ? ms : null;
}

/** The hold left, as the page's script counts it down: `4 s`, `1 m 5 s`, or `–` when over. */
function holdLeft(until: number, now: number): string {
  const seconds = Math.ceil((until - now) / 1000);
  if (seconds <= 0) return '–';
  return seconds >= 60 ? `${Math.floor(seconds / 60)} m ${seconds % 60} s` : `${seconds} s`;
}
