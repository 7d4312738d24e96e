// The PostgreSQL server the bench measures the relay on (issue 10): is it there, a database of the
// bench's own for each use (created, and dropped however the bench ends), and the CPU its processes
// spend. BENCH_POSTGRES_URL names the server and a database to connect to for that (default: the
// one these machines run, postgres://postgres@127.0.0.1:5432/postgres, trust authentication).
import crypto from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { readCpuMs } from './read-proc.js';

export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** What the bench's own connections call themselves, so their backends are never counted as the relay's. */
const BENCH_APPLICATION = 'trade-relay-bench';

/** A connection of the bench's own to `url` (never counted in the relay's CPU). */
export async function connectBench(url) {
  const client = new pg.Client({ connectionString: url, application_name: BENCH_APPLICATION, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined); // the next query reports it
  await client.connect();
  return client;
}

/**
 * Whether the server answers: `{ok: true, version, synchronousCommit, walSyncMethod}`, or
 * `{ok: false, reason}` when it does not (the PostgreSQL part of the bench is then left out).
 */
export async function probePostgres(url = POSTGRES_ADMIN_URL) {
  let client;
  try {
    client = await connectBench(url);
    const { rows } = await client.query(
      "SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sc, current_setting('wal_sync_method') AS sync, current_setting('max_connections')::int AS max",
    );
    return { ok: true, version: rows[0].version, synchronousCommit: rows[0].sc, walSyncMethod: rows[0].sync, maxConnections: rows[0].max };
  } catch (error) {
    return { ok: false, reason: `${masked(url)}: ${error.message || error.code || 'no answer'}` };
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/**
 * Creates an empty database `trade_relay_bench_<random>_<use>` and answers `{name, url, drop}`.
 * `drop()` ends every connection still open to it (WITH (FORCE)) and removes it; push it onto the
 * bench's stoppers at once, so a failure half-way still removes the database.
 */
export async function createBenchDatabase(use, adminUrl = POSTGRES_ADMIN_URL) {
  const name = `trade_relay_bench_${crypto.randomBytes(4).toString('hex')}_${use}`;
  const admin = await connectBench(adminUrl);
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = await connectBench(adminUrl);
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/**
 * CPU of the PostgreSQL server's work for the relay, from /proc (the bench runs on the server's
 * machine): the backends the relay instances opened to `databases` (application_name trade-relay),
 * and the server's shared processes (postmaster, WAL writer, checkpointer, background writer,
 * autovacuum), which also serve anything else using the server while a run goes on.
 * `snapshot()` answers per-pid CPU ms; `since(before)` the ms spent from that snapshot to now:
 * a backend opened meanwhile counts whole, one that ended meanwhile is missed (a pool closes a
 * connection only after 10 s idle, so it spent nothing in the run).
 */
export async function createPostgresCpuReader(databases, adminUrl = POSTGRES_ADMIN_URL) {
  const client = await connectBench(adminUrl);
  const postmaster = await findPostmaster(client);
  const read = async () => {
    const { rows } = await client.query(
      `SELECT pid, backend_type = 'client backend' AS backend FROM pg_stat_activity
        WHERE (backend_type = 'client backend' AND datname = ANY($1::text[]) AND application_name = 'trade-relay')
           OR (backend_type <> 'client backend' AND backend_type NOT LIKE '%walsender%')`,
      [databases],
    );
    const cpu = { backends: new Map(), shared: new Map() };
    for (const row of rows) (row.backend ? cpu.backends : cpu.shared).set(row.pid, readCpuMs(row.pid));
    if (postmaster !== null) cpu.shared.set(postmaster, readCpuMs(postmaster));
    return cpu;
  };
  const spent = (before, after) => {
    let ms = 0;
    for (const [pid, now] of after) {
      const then = before.get(pid) ?? 0;
      if (Number.isFinite(now) && Number.isFinite(then)) ms += now - then;
    }
    return ms;
  };
  return {
    snapshot: read,
    /** `{backends, shared}` ms since `before`. */
    async since(before) {
      const after = await read();
      return { backends: spent(before.backends, after.backends), shared: spent(before.shared, after.shared) };
    },
    /** Whether /proc shows the server's processes (false when PostgreSQL runs elsewhere or in a container). */
    visible: postmaster !== null && Number.isFinite(readCpuMs(postmaster)),
    close: () => client.end().catch(() => undefined),
  };
}

/** The postmaster's pid: the parent of this connection's backend, as /proc tells (null: not on this machine). */
async function findPostmaster(client) {
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  try {
    // A server elsewhere (another host, a container) has pids this machine's /proc does not know.
    if (!fs.readFileSync(`/proc/${rows[0].pid}/comm`, 'utf8').startsWith('postgres')) return null;
    const stat = fs.readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
    // The fields after the command (which may hold spaces) start after its closing parenthesis.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function masked(url) {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'BENCH_POSTGRES_URL';
  }
}
