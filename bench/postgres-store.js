// Where the time goes on the PostgreSQL path (issue 10): the relay's PostgreSQL store alone, in
// this process, on a database of the bench's own, deciding forwarded entries as durability.js does
// for SQLite (decision, sync, a 1 ms forward, the settlement). Every query the store sends is
// counted and timed (pg's Client#query, wrapped), so the figures say how many round trips and
// commits an alert costs, how long each kind of statement waits for the server, and what the
// server's processes spend (from /proc). The WAL flush a COMMIT waits for is measured apart: the
// same one-row transaction with synchronous_commit on (the server's setting, kept) and, for this
// bench session's own transactions only (SET LOCAL), off.
//
//   npm run build && node bench/postgres-store.js
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { runForwardedAlerts } from './durability.js';
import { markdownTable } from './markdown-table.js';
import { connectBench, createBenchDatabase, createPostgresCpuReader, probePostgres } from './postgres-server.js';
import { RELAY_CLI } from './start-relay-process.js';
import { summarizeLatencies } from './summarize-latencies.js';

const KEY = 'bench-durability-key-0123456789';
const COMMITS = 300;

/** What each statement of the store is, by its prepared name or its first word. */
const KINDS = [
  ['user', 'read the user (own statement)'],
  ['begin', 'BEGIN + advisory locks (pipelined with the read)'],
  ['load', 'read the keys, marks, fingerprint'],
  ['look', 'read the keys, marks, fingerprint, without locks, with a digest (a look)'],
  ['guard', 'the look’s read again under the locks, checked unchanged (pipelined)'],
  ['write', 'write records, marks, fingerprint, log row'],
  ['commit', 'COMMIT (pipelined behind the write; a decision’s waits for the WAL flush, a settlement’s does not)'],
  ['other', 'other (connection settings, rollback)'],
];

function kindOf(query) {
  const name = typeof query === 'object' && query !== null ? query.name : undefined;
  const text = typeof query === 'string' ? query : (query?.text ?? '');
  if (name === 'relay-user') return 'user';
  if (name === 'relay-load') return 'load';
  if (name === 'relay-look') return 'look';
  if (name === 'relay-guard') return 'guard';
  if (name?.startsWith('relay-write')) return 'write';
  if (text.startsWith('BEGIN')) return 'begin';
  if (text === 'COMMIT') return 'commit';
  return 'other';
}

/**
 * Runs the measurements; answers `{rows, phases, commit, server}` or null when PostgreSQL does not
 * answer. Every database it makes is dropped before it returns; with `stoppers`, the drop is also
 * pushed there at once, so an interrupted bench still drops it.
 */
export async function measurePostgresStore({ cli = RELAY_CLI, alerts = 600, inFlight = 50, phaseAlerts = 300, stoppers = null } = {}) {
  const server = await probePostgres();
  if (!server.ok) return null;
  const dist = path.resolve(path.dirname(cli), '..');
  const storeFile = path.join(dist, 'store/postgres/create-postgres-store.js');
  const { createPostgresStore } = await import(pathToFileURL(storeFile).href);
  const { accountGroupOf } = await import(pathToFileURL(path.join(dist, 'store/account-group.js')).href);
  const pg = createRequire(storeFile)('pg');
  const db = await createBenchDatabase('store');
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await db.drop();
  };
  stoppers?.push(drop);
  const queries = instrument(pg.Client);
  try {
    const seed = await createPostgresStore(db.url);
    await seed.saveUser({ relayUser: 'bench', crosstradeKey: KEY, webhookUrl: 'https://app.crosstrade.io/v1/send/a/b' });
    await seed.close();
    const group = accountGroupOf(KEY);
    const rows = [];
    for (const [load, concurrency] of [
      ['one at a time', 1],
      [`${inFlight} in flight`, inFlight],
    ]) {
      rows.push({ load, ...(await measureLoad({ createPostgresStore, db, group, queries, alerts, concurrency })) });
    }
    const phases = await measurePhases({ createPostgresStore, db, group, queries, alerts: phaseAlerts });
    const commit = await measureCommit(db.url);
    return { server, rows, phases, commit };
  } finally {
    queries.restore();
    await drop();
  }
}

/** Alerts/s, p50, CPU (this process, the server) and the round trips, commits and WAL flushes per alert, on a fresh store. */
async function measureLoad({ createPostgresStore, db, group, queries, alerts, concurrency }) {
  const serverCpu = await createPostgresCpuReader([db.name]);
  const store = await createPostgresStore(db.url);
  try {
    const walBefore = await readWalSyncs(db.url);
    const cpuBefore = await serverCpu.snapshot();
    const cpu = process.cpuUsage();
    queries.start(() => 'all');
    const { wallMs, latencies } = await runForwardedAlerts(store, group, { alerts, concurrency });
    await store.flush();
    const counted = queries.stop();
    const used = process.cpuUsage(cpu);
    const server = await serverCpu.since(cpuBefore);
    await store.close();
    // A backend reports its WAL statistics when it ends (and at most once a second before): the store is closed first.
    await sleep(600);
    const walSyncs = (await readWalSyncs(db.url)) - walBefore;
    const all = counted.get('all');
    return {
      alertsPerS: (alerts / wallMs) * 1000,
      p50Ms: summarizeLatencies(latencies).p50,
      cpuUsPerAlert: (used.user + used.system) / alerts,
      serverCpuUsPerAlert: serverCpu.visible ? (1000 * (server.backends + server.shared)) / alerts : null,
      roundTripsPerAlert: all.total.n / alerts,
      commitsPerAlert: (all.kinds.get('commit')?.n ?? 0) / alerts,
      walSyncsPerAlert: walSyncs / alerts,
    };
  } finally {
    await store.close();
    await serverCpu.close();
  }
}

/**
 * One alert at a time, its settlement written before the next alert starts, so each statement
 * belongs to one phase of one alert: for an owner's entry the decision (up to the answer) and the
 * settlement (after the forward); for an owner's exit decided on a reading also the first look
 * (which asks for the reading and writes nothing; the decision after the reading is taken on
 * what it read, checked under the locks). Per phase and kind of statement: statements
 * per alert, their wait for the server and the serving backend's CPU.
 */
async function measurePhases({ createPostgresStore, db, group, queries, alerts }) {
  // Settlements are written as the relay writes them, in the background and without waiting for
  // the WAL flush, here 1 ms after the answer instead of 20 so that one alert's is written before
  // the next alert starts.
  const store = await createPostgresStore(db.url, { outcomeGroupMs: 1 });
  try {
    const shapes = [];
    for (const [shape, exits, names] of [
      ['entry', false, ['decision', 'settlement']],
      ['exit on a reading', true, ['look', 'decision', 'settlement']],
    ]) {
      let phase = names[0];
      const run = (count, prefix) =>
        runForwardedAlerts(store, group, {
          alerts: count,
          concurrency: 1,
          exits,
          prefix,
          phase: (name) => {
            phase = name;
          },
          settled: () => queries.nextCommit(),
        });
      // Warm: connections open and statements prepared, as in a relay that has run a while.
      await run(20, `warm-${shape}`);
      const started = performance.now();
      queries.start(() => phase, { backendCpu: true });
      const { latencies } = await run(alerts, shape);
      const counted = queries.stop();
      shapes.push({
        shape,
        msPerAlert: (performance.now() - started) / alerts,
        answerP50Ms: summarizeLatencies(latencies).p50,
        phases: names.map((name) => phaseFigures(name, counted.get(name), alerts)),
      });
    }
    return { alerts, shapes };
  } finally {
    await store.close();
  }
}

function phaseFigures(name, counted = { total: { n: 0, ms: 0 }, kinds: new Map() }, alerts) {
  return {
    name,
    roundTrips: counted.total.n / alerts,
    serverMsPerAlert: counted.total.ms / alerts,
    kinds: KINDS.filter(([kind]) => counted.kinds.has(kind)).map(([kind, describe]) => {
      const k = counted.kinds.get(kind);
      return {
        kind,
        describe,
        perAlert: k.n / alerts,
        meanMs: k.ms / k.n,
        ...summarizeLatencies(k.samples),
        backendCpuUs: k.cpuN === 0 ? null : k.cpuUs / k.cpuN,
      };
    }),
  };
}

/**
 * The WAL flush a COMMIT waits for: `COMMITS` one-row transactions in a session of the bench's
 * own, timed at the COMMIT, with the server's synchronous_commit (on) and with it off for those
 * transactions alone (SET LOCAL: nothing changes for any other session or the server).
 */
async function measureCommit(url) {
  const client = await connectBench(url);
  try {
    await client.query('CREATE TABLE bench_commit (id BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL)');
    const time = async (flush) => {
      const samples = [];
      for (let i = 0; i < COMMITS; i++) {
        await client.query(flush ? 'BEGIN' : 'BEGIN; SET LOCAL synchronous_commit = off');
        await client.query('INSERT INTO bench_commit (time) VALUES ($1)', [Date.now()]);
        const at = performance.now();
        await client.query('COMMIT');
        samples.push(performance.now() - at);
      }
      return summarizeLatencies(samples);
    };
    await time(true); // warm
    const on = await time(true);
    const off = await time(false);
    return { on, off, flushMs: on.p50 - off.p50 };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** WAL flushes (fsync/fdatasync) the server did so far, for all of its databases. */
async function readWalSyncs(url) {
  const client = await connectBench(url);
  try {
    return Number((await client.query('SELECT wal_sync FROM pg_stat_wal')).rows[0].wal_sync);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Wraps `Client#query` to count and time every query sent while recording, by the label
 * `labelOf()` answers when it is sent and by kind (KINDS). The bench's own connections
 * (application_name trade-relay-bench) are not counted.
 */
function instrument(Client) {
  const original = Client.prototype.query;
  let label = null;
  let withBackendCpu = false;
  let counted = new Map();
  // Per connection, the statement whose backend CPU is still being counted: a backend may still be
  // running the tail of a statement (its clean-up after the answer) when the answer is read, so a
  // statement's CPU is read up to the connection's next query, when the backend waits idle.
  const open = new Map();
  const trips = new Map();
  let commits = 0;
  const commitWaiters = new Set();
  const entry = (bucket, kind) => {
    if (!counted.has(bucket)) counted.set(bucket, { total: { n: 0, ms: 0 }, kinds: new Map() });
    const c = counted.get(bucket);
    if (!c.kinds.has(kind)) c.kinds.set(kind, { n: 0, ms: 0, samples: [], cpuUs: 0, cpuN: 0 });
    return { c, k: c.kinds.get(kind) };
  };
  const closeCpu = (client, nowNs) => {
    const last = open.get(client);
    open.delete(client);
    if (last === undefined || !Number.isFinite(nowNs - last.ns)) return;
    const { k } = entry(last.bucket, last.kind);
    k.cpuUs += (nowNs - last.ns) / 1000;
    k.cpuN += 1;
  };
  Client.prototype.query = function countedQuery(query, values, callback) {
    const counting = label !== null && this.connectionParameters?.application_name !== 'trade-relay-bench';
    const backendNs = counting && withBackendCpu ? readBackendNs(this.processID) : NaN;
    if (counting && withBackendCpu) closeCpu(this, backendNs);
    const result = original.call(this, query, values, callback);
    if (this.connectionParameters?.application_name !== 'trade-relay-bench' && kindOf(query) === 'commit' && typeof result?.then === 'function') {
      const answered = () => {
        commits += 1;
        for (const waiter of commitWaiters) waiter();
      };
      result.then(answered, answered);
    }
    if (!counting || typeof result?.then !== 'function') return result;
    const at = performance.now();
    const bucket = label();
    const kind = kindOf(query);
    if (withBackendCpu) open.set(this, { bucket, kind, ns: backendNs });
    // A query sent while others of the same connection are still unanswered (pg's pipeline mode)
    // rides their round trip: a round trip lasts from its first query sent to its last answer.
    let trip = trips.get(this);
    if (trip === undefined || trip.outstanding === 0) {
      trip = { outstanding: 0, at, bucket };
      trips.set(this, trip);
      const { c } = entry(bucket, kind);
      c.total.n += 1;
    }
    trip.outstanding += 1;
    const ownTrip = trip;
    const add = () => {
      const ms = performance.now() - at;
      const { k } = entry(bucket, kind);
      k.n += 1;
      k.ms += ms;
      k.samples.push(ms);
      ownTrip.outstanding -= 1;
      if (ownTrip.outstanding === 0) entry(ownTrip.bucket, kind).c.total.ms += performance.now() - ownTrip.at;
    };
    result.then(add, add);
    return result;
  };
  return {
    /** Counts from now on, under `labelOf()`; `backendCpu` also reads each statement's backend CPU (a /proc read a query). */
    start(labelOf, { backendCpu = false } = {}) {
      counted = new Map();
      open.clear();
      trips.clear();
      label = labelOf;
      withBackendCpu = backendCpu;
    },
    /** Resolves when a COMMIT sent by the store is next answered; rejects after 5 s. */
    nextCommit() {
      const seen = commits;
      return new Promise((resolve, reject) => {
        const done = () => {
          if (commits === seen) return;
          commitWaiters.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          commitWaiters.delete(done);
          reject(new Error('no COMMIT answered within 5 s'));
        }, 5000);
        commitWaiters.add(done);
      });
    },
    stop() {
      for (const client of [...open.keys()]) closeCpu(client, readBackendNs(client.processID));
      label = null;
      return counted;
    },
    restore() {
      Client.prototype.query = original;
    },
  };
}

/** A backend's CPU so far in ns (the first field of /proc/PID/schedstat), NaN when not visible from here. */
function readBackendNs(pid) {
  if (pid === undefined || pid === null) return NaN;
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** The figures as text lines, or markdown. */
export function formatPostgresStore(result, markdown = false) {
  if (result === null) return [];
  const table = (columns, cells, right) => {
    if (markdown) return markdownTable(columns, cells, right);
    const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
    const line = (r) => r.map((cell, i) => (right(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
    return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  };
  const { rows, phases, commit, server } = result;
  const load = table(
    [
      'load',
      'alerts/s',
      'p50 ms (decision to settled)',
      'CPU µs/alert (this process)',
      'PostgreSQL CPU µs/alert',
      'round trips/alert',
      'COMMITs/alert',
      'WAL flushes/alert',
    ],
    rows.map((r) => [
      r.load,
      r.alertsPerS.toFixed(0),
      r.p50Ms.toFixed(2),
      r.cpuUsPerAlert.toFixed(0),
      r.serverCpuUsPerAlert === null ? 'not visible' : r.serverCpuUsPerAlert.toFixed(0),
      r.roundTripsPerAlert.toFixed(2),
      r.commitsPerAlert.toFixed(2),
      r.walSyncsPerAlert.toFixed(2),
    ]),
    (i) => i >= 1,
  );
  const split = table(
    ['alert', 'phase', 'statement', 'per alert', 'mean ms', 'p50 ms', 'p90 ms', 'p99 ms', 'backend CPU µs'],
    phases.shapes.flatMap((shape) =>
      shape.phases.flatMap((p) =>
        p.kinds.map((k) => [
          shape.shape,
          p.name,
          k.describe,
          k.perAlert.toFixed(2),
          k.meanMs.toFixed(3),
          k.p50.toFixed(3),
          k.p90.toFixed(3),
          k.p99.toFixed(2),
          k.backendCpuUs === null ? 'not visible' : k.backendCpuUs.toFixed(0),
        ]),
      ),
    ),
    (i) => i >= 3,
  );
  const shapeLines = phases.shapes.map(
    (shape) =>
      `${shape.shape}: ${shape.msPerAlert.toFixed(2)} ms an alert (p50 ${shape.answerP50Ms.toFixed(2)} ms to the answer, with a 1 ms forward${shape.shape.startsWith('exit') ? ' and a 1 ms reading' : ''}); ` +
      shape.phases.map((p) => `${p.name} ${p.roundTrips.toFixed(1)} round trips, ${p.serverMsPerAlert.toFixed(2)} ms waiting for the server`).join('; '),
  );
  return [
    `The decision transaction on PostgreSQL ${server.version} (synchronous_commit ${server.synchronousCommit}, wal_sync_method ${server.walSyncMethod}), the store alone in this process, ` +
      'as above for SQLite: arbitrate, sync, a 1 ms forward, the settlement (written after the answer, grouped). ' +
      "Round trips and COMMITs are counted in the driver; WAL flushes are the server's own count (pg_stat_wal, the whole server); PostgreSQL CPU is its backends for this database and its shared processes, from /proc.",
    '',
    ...load,
    '',
    `Split, one alert at a time with its settlement written before the next (${phases.alerts} of each). Times are from the query sent to its answer read (a pipelined statement's include its wait behind the one before it); ` +
      "backend CPU is the serving backend's own, from /proc, per statement (read when the connection's next statement is sent: of two pipelined statements, the second carries both).",
    ...(markdown ? ['', ...shapeLines.map((line) => `- ${line}`)] : shapeLines.map((line) => `  ${line}`)),
    '',
    ...split,
    '',
    `COMMIT of a one-row transaction (${COMMITS} each, a session of the bench's own): p50 ${commit.on.p50.toFixed(3)} ms with synchronous_commit on (waits for the WAL flush), ` +
      `${commit.off.p50.toFixed(3)} ms with it off for those transactions (SET LOCAL): the flush costs ${commit.flushMs.toFixed(3)} ms a commit (p99 ${commit.on.p99.toFixed(2)} vs ${commit.off.p99.toFixed(2)} ms).`,
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await measurePostgresStore();
  console.log(result === null ? 'PostgreSQL did not answer: nothing measured.' : formatPostgresStore(result).join('\n'));
}
