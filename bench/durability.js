// What each RELAY_DURABILITY costs the decision (issue 9): the relay's own store (dist/), on a
// temp file, deciding forwarded alerts the way handle-alert does: one arbitrateAs transaction
// (user, key record, fingerprint, last-alert mark, pending log row), then `sync()` (the fsync
// before the order leaves), then, once the "forward" is answered, the settlement (written after
// the answer, grouped). One at a time, and 50 alerts in flight (each waits 1 ms for its forward).
// Wall time and this process's CPU per alert; the fsyncs the kernel did are the process's.
//
//   npm run build && node bench/durability.js
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { markdownTable } from './markdown-table.js';
import { RELAY_CLI } from './start-relay-process.js';

const MODES = [
  { durability: 'crash', describe: 'crash (synchronous=NORMAL, no fsync)' },
  { durability: 'full', describe: 'full (synchronous=FULL, fsync in every commit)' },
  { durability: 'power-cut', describe: 'power-cut, the default (NORMAL + a shared fsync before the forward)' },
];
const KEY = 'bench-durability-key-0123456789';

/** Runs every mode, one at a time and in flight; answers one row per (mode, load). */
export async function measureDurability({ cli = RELAY_CLI, alerts = 600, inFlight = 50 } = {}) {
  const dist = path.resolve(path.dirname(cli), '..');
  const { createSqliteStore } = await import(pathToFileURL(path.join(dist, 'store/sqlite/create-sqlite-store.js')).href);
  const { accountGroupOf } = await import(pathToFileURL(path.join(dist, 'store/account-group.js')).href);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-durability-'));
  const rows = [];
  try {
    for (const mode of MODES) {
      for (const [load, concurrency] of [
        ['one at a time', 1],
        [`${inFlight} in flight`, inFlight],
      ]) {
        const file = path.join(dir, `${mode.durability}-${concurrency}.db`);
        const store = createSqliteStore(file, { durability: mode.durability });
        await store.saveUser({ relayUser: 'bench', crosstradeKey: KEY, webhookUrl: 'https://app.crosstrade.io/v1/send/a/b' });
        const cpu = process.cpuUsage();
        const { wallMs, latencies } = await runForwardedAlerts(store, accountGroupOf(KEY), { alerts, concurrency });
        const used = process.cpuUsage(cpu);
        await store.close();
        latencies.sort((a, b) => a - b);
        rows.push({
          mode: mode.describe,
          load,
          alertsPerS: (alerts / wallMs) * 1000,
          p50Ms: latencies[Math.floor(latencies.length / 2)],
          cpuUsPerAlert: (used.user + used.system) / alerts,
        });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

/**
 * Decides `alerts` forwarded entries on `store` as handle-alert does, `concurrency` at a time:
 * the decision (arbitrateAs: user, key record, fingerprint, last-alert mark, pending log row),
 * `sync()`, a 1 ms "forward", then the settlement (queued, written after the answer). Answers the
 * wall time (ms) and each alert's latency from the decision to the settlement handed over (ms).
 * `settled(n)`, when given, is awaited after each settlement (by default nothing waits for it, as
 * in the relay). `exits`: each alert is an owner's exit decided on a reading instead, as the relay
 * decides one: a first look that writes nothing (arbitrateAs: the engine asks for a reading), a
 * 1 ms "positions read", then the decision (arbitrateAs, on the look's read when the store kept it). `phase(name)` is told where each alert
 * is: 'look', 'decision', 'settlement'. `prefix` keeps the fingerprints of separate runs apart.
 */
export async function runForwardedAlerts(store, group, { alerts, concurrency, settled = null, exits = false, phase = () => undefined, prefix = 'fp' }) {
  let next = 0;
  const started = performance.now();
  const latencies = [];
  const worker = async () => {
    while (next < alerts) {
      const n = next++;
      const at = performance.now();
      const key = { accountGroup: group, account: `Sim${n % 100}`, instrumentKey: 'ES' };
      const strategy = { relayUser: 'bench', relayId: `S${n % 7}` };
      const identity = { fingerprint: `${prefix}-${n}`, ...strategy, windowMs: 30_000 };
      const decide = () => ({
        value: null,
        writes: [{ record: record(strategy, 'in-flight'), marks: [], instrument: 'ES 03-26' }],
        seen: true,
        log: logRow(n, 'pending'),
      });
      let result;
      if (exits) {
        phase('look');
        // `look`: as handle-alert marks an owner's exit (readsFirst), one statement without locks on
        // PostgreSQL; the round after the reading is decided on that read (`after`), as handle-alert's.
        const looked = await store.arbitrateAs('bench', () => ({
          keys: [key],
          sender: strategy,
          identity,
          look: true,
          decide: () => ({ value: null, writes: [null], seen: false, log: null }),
        }));
        await new Promise((resolve) => setTimeout(resolve, 1));
        phase('decision');
        const after = looked?.look === undefined ? {} : { after: looked.look };
        result = await store.arbitrateAs('bench', () => ({ keys: [key], sender: strategy, identity, decide, ...after }));
      } else {
        phase('decision');
        result = await store.arbitrateAs('bench', () => ({ keys: [key], sender: strategy, identity, decide }));
      }
      await store.sync();
      await new Promise((resolve) => setTimeout(resolve, 1));
      store.settle({
        keys: [
          {
            key,
            version: result.versions[0],
            write: { record: record(strategy, null), marks: [{ ...strategy, holdsNothing: false }], instrument: 'ES 03-26' },
          },
        ],
        log: { id: result.logId, outcome: { decision: 'forwarded', reason: 'entry', upstreamStatus: 200, latencyMs: 1 } },
      });
      latencies.push(performance.now() - at);
      if (settled !== null) {
        phase('settlement');
        await settled(n);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { wallMs: performance.now() - started, latencies };
}

function record(strategy, doubt) {
  const owner = { ...strategy, direction: 'long', quantity: 1, openedAt: 1, claimedAt: 1, holdUntil: 10_000 };
  return { owner, doubt: doubt === null ? null : { kind: doubt, since: 1 } };
}

function logRow(n, decision) {
  return {
    time: Date.now(),
    relayUser: 'bench',
    relayId: `S${n % 7}`,
    account: `Sim${n % 100}`,
    instrument: 'ES 03-26',
    signalType: 'entry',
    decision,
    reason: 'entry: nobody owns the position',
    apiCheck: null,
    upstreamStatus: null,
    latencyMs: null,
    alert: `relay_user=bench; relay_id=S${n % 7}; command=PLACE; account=Sim${n % 100}; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY;`,
  };
}

const COLUMNS = ['RELAY_DURABILITY', 'load', 'alerts/s', 'p50 ms (decision to settled)', 'CPU µs/alert'];

/** The rows as text lines, or as a markdown table. */
export function formatDurability(rows, markdown = false) {
  const cells = rows.map((r) => [r.mode, r.load, r.alertsPerS.toFixed(0), r.p50Ms.toFixed(2), r.cpuUsPerAlert.toFixed(0)]);
  const title =
    'The decision transaction by RELAY_DURABILITY (the store alone, issue 9): arbitrate, sync, a 1 ms forward, the settlement; ' +
    'wall time and CPU of the process per alert.';
  if (markdown) return [title, '', ...markdownTable(COLUMNS, cells, (i) => i >= 2)];
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [title, '', line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(formatDurability(await measureDurability()).join('\n'));
}
