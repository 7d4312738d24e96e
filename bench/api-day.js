// How many CrossTrade API calls a normal trading day spends (issue 7; CrossTrade's budget is 180
// requests a minute per user, bursts of 20). Measured, not modelled: the relay runs in this process
// (the build's own startRelay, production settings) in front of the CrossTrade simulator, and the
// day of normal-day.js is replayed over HTTP on a compressed clock: the relay and the simulator
// share a clock that jumps from one event to the next, so 6.5 hours pass in a few seconds while
// every hold, cache and duplicate window sees the day's real spacing. The calls are the simulator's
// own count of positions requests.
//
//   npm run build && node bench/api-day.js [--baseline=/path/to/dist/cli/main.js]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { markdownTable } from './markdown-table.js';
import { DAY, normalDay } from './normal-day.js';
import { RELAY_CLI } from './start-relay-process.js';

export const CROSSTRADE_BUDGET = { perMinute: 180, burst: 20 };
const KEY = 'bench-day-key-0123456789abcdef';
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
/** The day starts at the next 14:30 UTC (09:30 New York) after today's date: a plain weekday session. */
const OPEN_AT = (() => {
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), DAY.open.hour, DAY.open.minute);
})();

/**
 * Replays the normal day against a relay of the build whose CLI is `cli`, with `settings` as
 * RELAY_* variables over the defaults. Returns the calls, their peaks and what each kind of alert got.
 */
export async function measureApiDay({ cli = RELAY_CLI, settings = {}, label, short = label }) {
  const dist = path.resolve(path.dirname(cli), '..');
  const load = (file) => import(pathToFileURL(path.join(dist, file)).href);
  const [{ startRelay }, { loadConfig }, { startSimulator }] = await Promise.all([
    load('start-relay.js'),
    load('config/config.js'),
    load('simulator/create-simulator.js'),
  ]);
  const { events } = normalDay(OPEN_AT);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-day-'));
  // The shared clock: real time plus a jump to each event's time of day (never backwards).
  let offset = OPEN_AT - Date.now();
  const now = () => Date.now() + offset;
  const sim = await startSimulator({ keys: [KEY], now });
  const config = loadConfig({
    RELAY_PORT: '0',
    RELAY_HOST: '127.0.0.1',
    RELAY_DB: path.join(dir, 'relay.db'),
    RELAY_LOG_FILE: path.join(dir, 'relay.log'),
    CROSSTRADE_API_URL: sim.url,
    RELAY_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'warn',
    ...settings,
  });
  const relay = await startRelay(config, { now });
  await relay.store.saveUser({ relayUser: DAY.user, crosstradeKey: KEY, webhookUrl: sim.webhookUrl(KEY) });
  // The signal log says which decisions used CrossTrade's reading (its api_check), fresh or cached.
  const log = new Database(config.dbPath, { readonly: true, fileMustExist: true });
  const lastId = log.prepare('SELECT COALESCE(MAX(id), 0) FROM signal_log').pluck();
  const checkedSince = log.prepare('SELECT COUNT(*) FROM signal_log WHERE id > ? AND api_check IS NOT NULL').pluck();
  const startedAt = performance.now();
  const calls = []; // { at (ms after the open), n }
  const byTag = new Map();
  let faulted = false;
  try {
    for (const event of events) {
      offset = Math.max(offset, OPEN_AT + event.at - Date.now());
      if (event.kind === 'fill') sim.fillWorkingOrders(DAY.account);
      else if (event.kind === 'lose-answer') {
        sim.failWebhook({ kind: 'status', status: 500, apply: true, times: 1 });
        faulted = true;
      } else {
        const before = sim.apiCalls;
        const mark = lastId.get();
        const response = await fetch(`${relay.url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: event.body });
        const answer = await response.json();
        // The fault hits one forward; a simulator before issue 7 ignores `times`, so it is cleared here.
        if (faulted) sim.failWebhook(null);
        faulted = false;
        const n = sim.apiCalls - before;
        if (n > 0) calls.push({ at: event.at, n });
        const tally = byTag.get(event.tag) ?? { alerts: 0, calls: 0, checked: 0, decisions: {} };
        tally.alerts += 1;
        tally.calls += n;
        const checked = checkedSince.get(mark);
        tally.checked += checked;
        const decision = `${answer.decision} (${answer.reason.split(':')[0]}${checked > 0 ? ', on a reading' : ''})`;
        tally.decisions[decision] = (tally.decisions[decision] ?? 0) + 1;
        byTag.set(event.tag, tally);
      }
    }
  } finally {
    log.close();
    await relay.close();
    await sim.close().catch(() => undefined);
  }
  const book = sim.positions(DAY.account).map((p) => `${p.instrument} ${p.marketPosition} ${p.quantity}`);
  fs.rmSync(dir, { recursive: true, force: true });
  const total = calls.reduce((sum, c) => sum + c.n, 0);
  return {
    label,
    short,
    settings,
    alerts: events.filter((e) => e.kind === 'alert').length,
    total,
    peakMinute: peakWithin(calls, 60_000),
    peakSecond: peakWithin(calls, 1_000),
    byTag: [...byTag.entries()].map(([tag, tally]) => ({ tag, ...tally })),
    book,
    replayMs: performance.now() - startedAt,
  };
}

/** The most calls inside any window of `ms` (sliding), and when that window starts. */
function peakWithin(calls, ms) {
  let best = { n: 0, at: null };
  for (let i = 0; i < calls.length; i++) {
    let n = 0;
    for (let j = i; j < calls.length && calls[j].at - calls[i].at < ms; j++) n += calls[j].n;
    if (n > best.n) best = { n, at: calls[i].at };
  }
  return best;
}

/** The day in words, for the report. */
export function describeDay() {
  const { events, trips } = normalDay(OPEN_AT);
  const alerts = events.filter((e) => e.kind === 'alert');
  const limits = trips.filter((t) => t.limit).length;
  return (
    `${DAY.minutes / 60} h session (09:30-16:00 New York), 1 user, 1 account, 3 strategies (${DAY.strategies.map((s) => `${s.id} on ${s.instrument.split(' ')[0]}`).join(', ')}), ` +
    `${trips.length} MARKET round trips (${limits} closed by a LIMIT exit that rests 1-3 min), ${DAY.contestedLate + DAY.contestedSameBar} contested entries ` +
    `(${DAY.contestedLate} after the owner's hold, ${DAY.contestedSameBar} on its bar) and their strategies' exits, ${DAY.repeats + DAY.repeatTwice} repeated deliveries, ` +
    `${DAY.unknownOutcomes} forwards whose answer is lost (webhook 500 after taking the order), a FLATTEN per instrument at the close: ${alerts.length} alerts`
  );
}

/** Time of day of `ms` after the open, New York. */
export function clockTime(ms) {
  const minutes = 9 * 60 + 30 + Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:${String(seconds).padStart(2, '0')}`;
}

/** The variants a bench run measures: the relay with its position cache and without, and a baseline build if given. */
export async function measureApiDays({ baselineCli = null } = {}) {
  const days = [
    await measureApiDay({ label: 'relay, production defaults (position cache 1000 ms)', short: 'relay' }),
    await measureApiDay({ label: 'relay, position cache off', short: 'cache off', settings: { RELAY_POSITION_CACHE_MS: '0' } }),
  ];
  if (baselineCli !== null) days.push(await measureApiDay({ cli: baselineCli, label: 'baseline build, its defaults', short: 'baseline' }));
  return days;
}

/** The figures as lines (text and markdown share them). */
export function formatApiDays(days, markdown = false) {
  const first = days[0];
  const table = [
    ['relay', 'API calls/day', 'peak in 1 min', 'peak in 1 s', 'book at the close'],
    ...days.map((d) => [
      d.label,
      String(d.total),
      `${d.peakMinute.n}${d.peakMinute.at === null ? '' : ` (${clockTime(d.peakMinute.at)})`}`,
      String(d.peakSecond.n),
      d.book.length === 0 ? 'flat' : d.book.join(', '),
    ]),
  ];
  // Per kind of alert: the first variant's decisions and readings, every variant's API calls.
  const callsOf = (day, tag) => String(day.byTag.find((t) => t.tag === tag)?.calls ?? 0);
  const kinds = [
    ['kind of alert', 'alerts', 'decided on a reading', ...days.map((d) => `API calls (${d.short})`), `decisions (${first.short})`],
    ...first.byTag.map((t) => [
      t.tag,
      String(t.alerts),
      String(t.checked),
      ...days.map((d) => callsOf(d, t.tag)),
      Object.entries(t.decisions)
        .map(([d, n]) => `${d} ${n}`)
        .join(', '),
    ]),
  ];
  const render = markdown ? markdownRows : textRows;
  return [
    `API calls on a normal day, measured (relay in-process, simulator, the day replayed on a compressed clock): ${describeDay()}.`,
    '',
    ...render(table),
    '',
    ...render(kinds),
    '',
    `Budget: ${CROSSTRADE_BUDGET.perMinute} calls a minute per user, bursts of ${CROSSTRADE_BUDGET.burst}. Peak minute: ${first.peakMinute.n} (${((100 * first.peakMinute.n) / CROSSTRADE_BUDGET.perMinute).toFixed(1)} % of the budget); the day: ${first.total} calls over ${first.alerts} alerts.`,
  ];
}

function textRows(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)];
}

function markdownRows(rows) {
  return markdownTable(rows[0], rows.slice(1));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const baseline = process.argv.slice(2).find((a) => a.startsWith('--baseline='));
  const days = await measureApiDays({ baselineCli: baseline ? path.resolve(baseline.slice('--baseline='.length)) : null });
  console.log(formatApiDays(days).join('\n'));
  console.log(`\nReplayed in ${days.map((d) => `${(d.replayMs / 1000).toFixed(1)} s`).join(', ')}.`);
}
