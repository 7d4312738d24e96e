// npm run bench [-- --quick] [-- --profile] [-- --write | --no-write] [-- --baseline=/path/to/dist/cli/main.js]
// What the relay costs a trade: the CrossTrade simulator alone, a bare forwarder, and the relay's
// forwarded, blocked and contested paths, side by side under the same autocannon load, each
// in a process of its own on loopback. Prints a table; a full run also updates bench/RESULTS.md.
// Asserts nothing about speed: the targets are read off the output (see bench/README.md).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { measureApiDays } from './api-day.js';
import { describeBuild } from './describe-build.js';
import { describeMachine } from './describe-machine.js';
import { measureDurability } from './durability.js';
import { measurePostgresStore } from './postgres-store.js';
import { evaluateTargets } from './evaluate-targets.js';
import { formatMarkdown, formatText } from './format-report.js';
import { measure } from './measure.js';
import { measureStartups } from './measure-startups.js';
import { readRssMb } from './read-proc.js';
import { RELAY_CLI } from './start-relay-process.js';
import { startRig } from './start-rig.js';
import { summarizeRuns } from './summarize-runs.js';
import { writeResults } from './write-results.js';

/**
 * Seconds per run, and accounts per user on the blocked path (× 20 users × 10 instruments keys).
 * `pgInstances`: the relay on PostgreSQL with that many instances behind the balancer (when
 * PostgreSQL answers), `pgAccounts` accounts per user on their forwarded path (25 as relay A's:
 * fewer let the position cache answer more exits), `pgWarmupS` their warm-up at 200/s (a cold
 * instance on PostgreSQL is far slower than a warm one), `pgStoreAlerts` alerts per load of the
 * store measured alone (postgres-store.js).
 * Full: about 7 minutes. Quick: about a minute plus the build: every scenario but the uncached
 * one, and PostgreSQL with 2 instances only (and one alone).
 */
const PLANS = {
  full: {
    rounds: 3,
    steadyS: 4,
    maxRounds: 2,
    maxS: 3,
    singleRounds: 2,
    singleS: 2,
    burstRuns: 2,
    burstS: 3,
    warmupS: 1,
    settleMs: 1000,
    blockedAccounts: 5,
    extraStartups: 5,
    withUncached: true,
    pgInstances: [1, 2, 3],
    pgAccounts: 25,
    pgWarmupS: 3,
    pgStoreAlerts: 2000,
  },
  quick: {
    rounds: 1,
    steadyS: 1,
    maxRounds: 1,
    maxS: 0.8,
    singleRounds: 1,
    singleS: 0.8,
    burstRuns: 1,
    burstS: 0.8,
    warmupS: 0.3,
    settleMs: 300,
    blockedAccounts: 1,
    extraStartups: 0,
    withUncached: false,
    pgInstances: [2],
    pgAccounts: 2,
    pgWarmupS: 1,
    pgStoreAlerts: 200,
  },
};

const argv = process.argv.slice(2);
const args = new Set(argv);
const planName = args.has('--quick') ? 'quick' : 'full';
const plan = PLANS[planName];
const write = args.has('--write') || (planName === 'full' && !args.has('--no-write'));
const cpuProfileDir = args.has('--profile') ? import.meta.dirname : null;
const baselineCli = readBaselineCli(argv);

const startedAt = performance.now();
const machine = describeMachine();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-bench-'));
const stoppers = [];
const progress = (text) => process.stderr.write(`  ${((performance.now() - startedAt) / 1000).toFixed(1).padStart(5)} s  ${text}\n`);
// Stops every process and drops every database the bench made so far, latest first. Calls made
// while one runs wait for it, so the last one returns only when everything is stopped.
let stopping = Promise.resolve();
const stopAll = () =>
  (stopping = stopping.then(async () => {
    while (stoppers.length > 0)
      await stoppers
        .pop()()
        .catch(() => undefined);
  }));
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the bench's processes and dropping its databases\n`);
    void stopAll().finally(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

try {
  progress('starting the simulator, the bare forwarder and the relays');
  const rig = await startRig({
    dir,
    withUncached: plan.withUncached,
    blockedAccounts: plan.blockedAccounts,
    cpuProfileDir,
    stoppers,
    baselineCli,
    plan,
    progress,
  });
  if (!rig.postgres.ran) progress(`the PostgreSQL part does not run: ${rig.postgres.reason}`);
  if (plan.extraStartups > 0) progress(`${plan.extraStartups} more start-ups of a relay, one after another`);
  const extraStartups = await measureStartups({ dir, sim: rig.sim, count: plan.extraStartups });
  await sleep(plan.settleMs); // let start-up garbage settle before reading idle memory
  const pgProcesses = rig.postgres.ran
    ? [...rig.postgres.clusters.flatMap((c) => c.instances.map((r) => ({ name: r.name, pid: r.pid }))), { name: 'balancer', pid: rig.postgres.balancer.pid }]
    : [];
  const idle = [
    { name: 'simulator', pid: rig.sim.pid },
    { name: 'bare forwarder', pid: rig.bare.pid },
    { name: 'durable bare forwarder', pid: rig.durableBare.pid },
    ...Object.values(rig.relays).map((r) => ({ name: `relay ${r.name}`, pid: r.pid })),
    ...pgProcesses,
  ].map((p) => ({ name: p.name, mb: readRssMb(p.pid) }));

  const runs = await measure(rig, plan, progress);
  await sleep(plan.settleMs);
  const afterLoadMb = readRssMb(rig.relays.A.pid);

  const relays = Object.values(rig.relays);
  const totals = relays.map((r) => ({ name: r.name, rows: r.log.count(), logFiles: [r.logFile] }));
  const pgClusters = rig.postgres.ran ? rig.postgres.clusters : [];
  for (const c of pgClusters) {
    await Promise.all(c.instances.map((r) => r.stop()));
    // Counted once every instance stopped: refusals are written after the answer, the last ones as an instance closes.
    totals.push({
      name: `on PostgreSQL (${c.use}, ${c.instances.length} instances)`,
      rows: await c.log.count(),
      pending: await c.log.pending(),
      logFiles: c.instances.map((r) => r.logFile),
    });
  }
  // Relays flush their log files as they stop; the bench's databases are dropped after them.
  await stopAll();
  const logCheck = totals.map((t) => ({
    name: t.name,
    rows: t.rows,
    lines: t.logFiles.reduce((n, file) => n + countDecisionLines(file), 0),
    pending: t.pending ?? 0,
  }));
  progress('API calls on a normal day: the day replayed against a relay in this process');
  const apiDays = await measureApiDays({ baselineCli });
  progress('the decision transaction by RELAY_DURABILITY: the store alone, in this process');
  const durability = await measureDurability({ alerts: planName === 'full' ? 2000 : 400 });
  let postgresStore = null;
  if (rig.postgres.ran) {
    progress('the decision transaction on PostgreSQL: the store alone, in this process, its round trips and commits');
    postgresStore = await measurePostgresStore({ alerts: plan.pgStoreAlerts, phaseAlerts: Math.min(300, plan.pgStoreAlerts), stoppers });
  }

  const rows = summarizeRuns(runs, rig.targets);
  const startups = [
    ...relays.map((r) => ({ name: `relay ${r.name}`, describe: r.spec.describe, startupMs: r.startupMs, listeningMs: r.listeningMs })),
    ...extraStartups.map((s, i) => ({ name: `restart ${i + 1}`, describe: 'defaults, database with users', ...s })),
  ];
  const report = {
    machine,
    planName,
    plan,
    builds: { relay: describeBuild(RELAY_CLI), baseline: baselineCli === null ? null : describeBuild(baselineCli) },
    rows,
    startups,
    memory: { idle, afterLoadMb },
    logCheck,
    apiDays,
    durability,
    postgres: describePostgres(rig.postgres),
    postgresStore,
    targets: evaluateTargets({ rows, startups, idleRssMb: idle.find((p) => p.name === 'relay A').mb, postgres: rig.postgres }),
    totalS: (performance.now() - startedAt) / 1000,
  };
  console.log(formatText(report));
  if (write) {
    writeResults(path.join(import.meta.dirname, 'RESULTS.md'), formatMarkdown(report));
    console.log('Updated bench/RESULTS.md.');
  }
  if (cpuProfileDir !== null) console.log(`CPU profiles: bench/*.cpuprofile (read one with: node bench/profile-summary.js bench/relay-A.cpuprofile)`);
} catch (error) {
  // Interrupted: what failed was cut off by the clean-up, which ends the process when it is done.
  if (interrupted) await new Promise(() => undefined);
  throw error;
} finally {
  await stopAll();
  fs.rmSync(dir, { recursive: true, force: true });
}

/** What the report says about the PostgreSQL part: whether it ran, on what, and its instances' start-ups. */
function describePostgres(postgres) {
  if (!postgres.ran) return { ran: false, reason: postgres.reason };
  return {
    ran: true,
    server: postgres.server,
    cpuVisible: postgres.cpuVisible,
    primeShortfalls: postgres.targets.filter((t) => t.primeShortfall > 0).map((t) => ({ label: t.label, entries: t.primeShortfall })),
    clusters: postgres.clusters.map((c) => ({
      use: c.use,
      describe: c.describe,
      startups: c.instances.map((r) => ({ name: r.name, startupMs: r.startupMs, listeningMs: r.listeningMs })),
    })),
  };
}

/**
 * `--baseline=PATH` / `--baseline PATH` (or BENCH_BASELINE_CLI): another build's dist/cli/main.js,
 * run as relay P on the forwarded path beside relay A, in the same rounds (null: none).
 */
function readBaselineCli(list) {
  const i = list.findIndex((a) => a === '--baseline' || a.startsWith('--baseline='));
  const given = i === -1 ? process.env.BENCH_BASELINE_CLI : list[i].includes('=') ? list[i].slice('--baseline='.length) : list[i + 1];
  if (given === undefined || given === '') return null;
  const cli = path.resolve(given);
  if (!fs.existsSync(cli)) throw new Error(`--baseline: ${cli} does not exist (build that checkout first: npm ci && npm run build)`);
  return cli;
}

/** Lines of a relay's log file and its rotated files that record a decision (`alert forwarded`, …). */
function countDecisionLines(file) {
  const dir = path.dirname(file);
  return fs
    .readdirSync(dir)
    .filter((name) => name === path.basename(file) || name.startsWith(`${path.basename(file)}.`))
    .flatMap((name) => fs.readFileSync(path.join(dir, name), 'utf8').split('\n'))
    .filter((line) => line.includes('"msg":"alert ')).length;
}
