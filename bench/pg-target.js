// npm run build && node bench/pg-target.js [rounds] [seconds] [steady|single]   (BENCH_PROFILE_DIR=dir: CPU profiles there)
// Only the issue-10 target: relay A (SQLite) against one instance on PostgreSQL (direct), the
// forwarded path at 200/s paced, alternated round by round. Prints p50/p99 of each and the
// difference, and the CPU per alert. A few minutes instead of the full bench's seven.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureRun, primeAndWarm } from './measure.js';
import { connectBench, POSTGRES_ADMIN_URL } from './postgres-server.js';
import { startRig } from './start-rig.js';
import { summarizeLatencies } from './summarize-latencies.js';

const rounds = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 4);
const mode = process.argv[4] ?? 'steady';
const plan = { pgInstances: [1], pgAccounts: 25, pgWarmupS: 3, blockedAccounts: 1, warmupS: 1 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-pg-target-'));
const stoppers = [];
const progress = (text) => process.stderr.write(`  ${text}\n`);
try {
  const cpuProfileDir = process.env.BENCH_PROFILE_DIR ?? null;
  const rig = await startRig({ dir, withUncached: false, blockedAccounts: 1, cpuProfileDir, stoppers, plan, progress });
  if (!rig.postgres.ran) throw new Error(`PostgreSQL did not run: ${rig.postgres.reason}`);
  const targets = ['forwarded', 'pg-direct'].map((id) => rig.targets.find((t) => t.id === id));
  await primeAndWarm(rig, plan, targets, progress);
  const latencies = { forwarded: [], 'pg-direct': [] };
  const cpu = { forwarded: [], 'pg-direct': [] };
  for (let round = 0; round < rounds; round++) {
    for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
      const admin = await connectBench(POSTGRES_ADMIN_URL);
      const stats = async () =>
        (
          await admin.query(
            'SELECT (SELECT wal_sync FROM pg_stat_wal)::int AS syncs, (SELECT sum(xact_commit) FROM pg_stat_database)::int AS commits, (SELECT sum(calls) FROM pg_stat_user_functions)::int AS f',
          )
        ).rows[0];
      const before = await stats();
      const run = await measureRun(rig, target, mode, seconds, `${round}`);
      const after = await stats();
      await admin.end();
      const per = (k) => ((after[k] - before[k]) / run.load.answered).toFixed(2);
      progress(`  WAL syncs/alert ${per('syncs')}, commits/alert ${per('commits')} (server-wide)`);
      latencies[target.id].push(...run.load.latencies);
      cpu[target.id].push(run.cpuMs / run.load.answered);
      const s = summarizeLatencies(run.load.latencies);
      progress(
        `round ${round + 1} ${target.label}: p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, ${(1000 * (run.cpuMs / run.load.answered)).toFixed(0)} µs CPU/alert, non-2xx ${run.load.non2xx}, answered ${run.load.answered}, ${JSON.stringify(run.cpuParts)} ${JSON.stringify(run.decisions)} ${JSON.stringify(run.reasons)}`,
      );
    }
  }
  const db = await connectBench(rig.postgres.clusters[0].db.url);
  const tables = await db.query('SELECT relname, seq_scan, seq_tup_read, idx_scan, n_live_tup FROM pg_stat_user_tables ORDER BY seq_tup_read DESC');
  console.table(tables.rows);
  await db.end();
  const a = summarizeLatencies(latencies.forwarded);
  const b = summarizeLatencies(latencies['pg-direct']);
  const mean = (xs) => (1000 * xs.reduce((s, x) => s + x, 0)) / xs.length;
  console.log(`SQLite (relay A): p50 ${a.p50.toFixed(2)} ms, p99 ${a.p99.toFixed(2)} ms, CPU ${mean(cpu.forwarded).toFixed(0)} µs/alert`);
  console.log(`PostgreSQL ×1 direct: p50 ${b.p50.toFixed(2)} ms, p99 ${b.p99.toFixed(2)} ms, CPU ${mean(cpu['pg-direct']).toFixed(0)} µs/alert`);
  console.log(`PostgreSQL adds ${(b.p50 - a.p50).toFixed(2)} ms at p50 (target ≤ +2 ms)`);
} finally {
  while (stoppers.length > 0)
    await stoppers
      .pop()()
      .catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
}
