import { formatApiDays } from './api-day.js';
import { formatDurability } from './durability.js';
import { markdownTable } from './markdown-table.js';
import { LOADS } from './measure.js';
import { formatPostgresStore } from './postgres-store.js';

const COLUMNS = ['scenario', 'load', 'alerts/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'CPU µs/alert', 'decisions logged', 'API calls/alert'];

/** The figures as plain text for the terminal. */
export function formatText(report) {
  return [
    `Trade Relay bench (${report.planName}), ${report.machine.date}`,
    `${report.machine.cpu}, ${report.machine.memoryGb} GB, ${report.machine.os}, Node ${report.machine.node}, load average before ${report.machine.loadBefore}`,
    ...buildLines(report),
    '',
    textTable(COLUMNS, report.rows.map(rowCells)),
    describePlan(report.plan),
    CPU_NOTE,
    ...(report.postgres.ran ? [POSTGRES_NOTE] : []),
    '',
    ...comparisonLines(report.rows),
    '',
    ...postgresLines(report),
    '',
    ...startupLines(report),
    ...memoryLines(report),
    ...checkLines(report),
    '',
    ...formatApiDays(report.apiDays),
    '',
    ...formatDurability(report.durability),
    '',
    ...formatPostgresStore(report.postgresStore),
    ...(report.postgresStore === null ? [] : ['']),
    'Targets:',
    ...report.targets.map((t) => `  ${t.met === null ? 'NOT RUN' : t.met ? 'MET    ' : 'MISSED '} ${t.name}: ${t.got} (target ${t.want})`),
    '',
    `Total ${report.totalS.toFixed(0)} s.`,
  ].join('\n');
}

/** The same figures as the generated block of bench/RESULTS.md. */
export function formatMarkdown(report) {
  const m = report.machine;
  return [
    `Run: \`npm run bench\` (${report.planName}), ${m.date}, ${report.totalS.toFixed(0)} s.`,
    `Machine: ${m.cpu}, ${m.memoryGb} GB RAM, ${m.os}; Node ${m.node}; load average before the run ${m.loadBefore} (a shared machine).`,
    ...buildLines(report),
    '',
    ...markdownTable(COLUMNS, report.rows.map(rowCells), (i) => i >= 2 && i < 9),
    '',
    `${describePlan(report.plan)} ${CPU_NOTE}${report.postgres.ran ? ` ${POSTGRES_NOTE}` : ''}`,
    '',
    ...comparisonLines(report.rows).map((l) => `- ${l}`),
    '',
    ...postgresLines(report).map((l) => `- ${l}`),
    '',
    ...markdownTable(
      ['target', 'wanted', 'measured', ''],
      report.targets.map((t) => [t.name, t.want, t.got, t.met === null ? 'not run' : t.met ? 'met' : '**missed**']),
    ),
    '',
    ...startupLines(report).map((l) => `- ${l}`),
    ...memoryLines(report).map((l) => `- ${l}`),
    ...checkLines(report).map((l) => `- ${l}`),
    '',
    ...formatApiDays(report.apiDays, true),
    '',
    ...formatDurability(report.durability, true),
    ...(report.postgresStore === null ? [] : ['', ...formatPostgresStore(report.postgresStore, true)]),
  ].join('\n');
}

/** Which builds ran: the relay's, and the baseline's when one runs beside it. */
function buildLines(report) {
  const { relay, baseline } = report.builds;
  return [`Relay build: ${relay}${baseline === null ? '' : `; baseline build (relay P, the "baseline build" rows): ${baseline}`}.`];
}

const CPU_NOTE =
  'CPU µs/alert: CPU time of the process under test only (the simulator for "upstream alone", the forwarder or relay process otherwise), ' +
  'from /proc; it is higher at 200/s than at full load because every alert then wakes an idle process. ' +
  "Decisions are counted in the relay's signal log (its SQLite file, or the PostgreSQL database its instances share); rows can exceed answers by the alerts still in flight when a run stops.";

const POSTGRES_NOTE =
  'PG rows: the relay on PostgreSQL, N instances (processes) sharing one database, "balanced" behind the bench\'s round-robin balancer ' +
  '(bench/round-robin.js, per request), "direct" one instance without it; their CPU µs/alert is every process of the path: ' +
  "the instances in use, the balancer, PostgreSQL's backends for them and its shared processes (WAL writer, checkpointer, …), split below.";

/**
 * What the PostgreSQL part ran on (or why it did not), each PG row's CPU split by process, and the
 * PG rows against SQLite's and against one another (instances 1 → N).
 */
function postgresLines(report) {
  const pg = report.postgres;
  if (!pg.ran) return [`PostgreSQL part: did not run (${pg.reason}).`];
  const row = (target, mode) => report.rows.find((r) => r.target === target && r.mode === mode);
  const lines = [
    `PostgreSQL ${pg.server.version} on this machine (synchronous_commit ${pg.server.synchronousCommit}, wal_sync_method ${pg.server.walSyncMethod}, ` +
      `settings untouched); two databases made for this run and dropped after it, ${pg.clusters[0].startups.length} relay instances on each: ` +
      pg.clusters.map((c) => `${c.use} (${c.describe})`).join(', ') +
      '.',
    `PostgreSQL instance start-up, from spawn to the first 200 from /health: ${pg.clusters
      .flatMap((c) => c.startups)
      .map((s) => `${s.name} ${s.startupMs.toFixed(0)} ms`)
      .join(', ')} (the first of each database migrated it).`,
  ];
  for (const s of pg.primeShortfalls)
    lines.push(`${s.label}: ${s.entries} owner entries were refused while priming (a phantom exit each on the first pass: dropped).`);
  if (!pg.cpuVisible) lines.push("PostgreSQL's processes are not visible in this machine's /proc: its CPU is not counted in the PG rows.");
  for (const r of report.rows.filter((x) => x.postgres !== null)) {
    if (r.answered === 0) {
      lines.push(`${r.label}, ${LOADS[r.mode].describe}: nothing answered within the run.`);
      continue;
    }
    const parts = Object.entries(r.cpuPartsUs)
      .map(([part, us]) => `${part} ${us.toFixed(0)}`)
      .join(', ');
    lines.push(`${r.label}, ${LOADS[r.mode].describe}: CPU ${r.cpuUsPerAlert.toFixed(0)} µs/alert = ${parts}.`);
  }
  for (const mode of ['steady', 'max', 'single']) {
    for (const [sqlite, pgTargets] of [
      ['forwarded', ['pg-direct', ...report.plan.pgInstances.map((n) => `pg-forwarded-${n}`)]],
      ['blocked', report.plan.pgInstances.map((n) => `pg-blocked-${n}`)],
    ]) {
      const base = row(sqlite, mode);
      const cells = pgTargets.map((t) => row(t, mode)).filter((r) => r !== undefined);
      if (base === undefined || cells.length === 0) continue;
      const each = cells
        .map(
          (r) =>
            `${r.label.replace(/, (forwarded|blocked) path$/, '')} ${r.rate.toFixed(0)}/s, p50 ${fixed(r.p50, 2)} (${signed(r.p50 - base.p50)}), p99 ${fixed(r.p99, 2)} ms, ${fixed(r.cpuUsPerAlert, 0)} µs`,
        )
        .join('; ');
      lines.push(
        `${LOADS[mode].describe}, ${sqlite} path: SQLite (relay ${sqlite === 'forwarded' ? 'A' : 'B'}) ${base.rate.toFixed(0)}/s, p50 ${base.p50.toFixed(2)}, p99 ${base.p99.toFixed(2)} ms, ${base.cpuUsPerAlert.toFixed(0)} µs; ${each}.`,
      );
    }
  }
  return lines;
}

function describePlan(plan) {
  return (
    `Rows pool ${plan.rounds} × ${plan.steadyS} s (200/s), ${plan.maxRounds} × ${plan.maxS} s (50 in flight), ${plan.singleRounds} × ${plan.singleS} s (one at a time) and ${plan.burstRuns} × ${plan.burstS} s (burst) ` +
    `per scenario, after ${plan.warmupS} s of warm-up each (${plan.pgWarmupS} s at 200/s for PG rows); rounds rotate the order of the scenarios.`
  );
}

function rowCells(row) {
  return [
    row.label,
    LOADS[row.mode].describe,
    row.rate.toFixed(0),
    fixed(row.p50, 2),
    fixed(row.p90, 2),
    fixed(row.p99, 2),
    fixed(row.max, 1),
    String(row.errors),
    fixed(row.cpuUsPerAlert, 0),
    row.decisions === null ? '–' : describeDecisions(row),
    row.decisions === null ? '–' : fixed(row.apiCalls / row.answered, 2),
  ];
}

/** A figure, or "–" for one that could not be measured (a run nothing answered). */
function fixed(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : '–';
}

function describeDecisions(row) {
  const parts = Object.entries(row.decisions)
    .sort((a, b) => b[1] - a[1])
    .map(([decision, n]) => `${decision} ${n}`);
  return `${parts.join(', ')} (${row.logged} rows, ${row.answered} answers)`;
}

function comparisonLines(rows) {
  const row = (target, mode) => rows.find((r) => r.target === target && r.mode === mode);
  const lines = [];
  const bare = row('bare', 'steady');
  const upstream = row('upstream', 'steady');
  if (bare && upstream)
    lines.push(
      `At 200/s the extra hop alone (bare forwarder vs upstream) adds ${(bare.p50 - upstream.p50).toFixed(2)} ms at p50, ${(bare.p99 - upstream.p99).toFixed(2)} ms at p99.`,
    );
  for (const target of ['forwarded', 'blocked', 'blocked-uncached']) {
    const r = row(target, 'steady');
    if (bare && r) {
      lines.push(
        `${r.label} / bare forwarder at 200/s: p50 ${(r.p50 / bare.p50).toFixed(2)}×, p99 ${(r.p99 / bare.p99).toFixed(2)}× (${signed(r.p99 - bare.p99)} ms).`,
      );
    }
  }
  for (const mode of ['steady', 'max']) {
    const [now, before] = [row('forwarded', mode), row('forwarded-baseline', mode)];
    if (now && before) {
      lines.push(
        `${now.label} / ${before.label}, ${LOADS[mode].describe}: ${(now.rate / before.rate).toFixed(2)}× the alerts/s (${now.rate.toFixed(0)} vs ${before.rate.toFixed(0)}), ` +
          `p50 ${now.p50.toFixed(2)} vs ${before.p50.toFixed(2)} ms (${signed(now.p50 - before.p50)}), p99 ${now.p99.toFixed(2)} vs ${before.p99.toFixed(2)} ms (${signed(now.p99 - before.p99)}), ` +
          `CPU ${now.cpuUsPerAlert.toFixed(0)} vs ${before.cpuUsPerAlert.toFixed(0)} µs/alert (${signed(now.cpuUsPerAlert - before.cpuUsPerAlert, 0)}).`,
      );
    }
  }
  const bareMax = row('bare', 'max');
  const durableMax = row('durable-bare', 'max');
  if (bareMax && durableMax)
    lines.push(
      `durable bare forwarder / bare forwarder, 50 in flight: ${(durableMax.rate / bareMax.rate).toFixed(2)}× the alerts/s (one fsync'd insert per alert).`,
    );
  for (const target of ['forwarded', 'forwarded-normal']) {
    const r = row(target, 'max');
    if (durableMax && r) lines.push(`${r.label} / durable bare forwarder, 50 in flight: ${(r.rate / durableMax.rate).toFixed(2)}× the alerts/s.`);
  }
  const bareSingle = row('bare', 'single');
  for (const target of ['durable-bare', 'forwarded', 'forwarded-normal']) {
    const r = row(target, 'single');
    if (bareSingle && r)
      lines.push(
        `${r.label} / bare forwarder, one at a time: p50 ${(r.p50 / bareSingle.p50).toFixed(2)}× (${r.p50.toFixed(2)} vs ${bareSingle.p50.toFixed(2)} ms).`,
      );
  }
  for (const target of ['forwarded', 'forwarded-normal', 'blocked', 'blocked-uncached']) {
    const r = row(target, 'max');
    if (bareMax && r)
      lines.push(`${r.label} / bare forwarder, 50 in flight: ${(r.rate / bareMax.rate).toFixed(2)}× the alerts/s, p50 ${(r.p50 / bareMax.p50).toFixed(2)}×.`);
  }
  return lines;
}

function startupLines(report) {
  const each = report.startups.map((s) => `${s.name} ${s.startupMs.toFixed(0)} ms (listening at ${s.listeningMs.toFixed(0)})`).join(', ');
  return [`Start-up, from spawn to the first 200 from /health: ${each}.`];
}

function memoryLines(report) {
  const idle = report.memory.idle.map((p) => `${p.name} ${p.mb.toFixed(0)} MB`).join(', ');
  const peak = report.rows
    .filter((r) => r.mode !== 'steady')
    .map((r) => `${r.target === 'upstream' ? 'simulator' : r.label} ${r.peakRssMb.toFixed(0)} MB`)
    .join(', ');
  return [
    `Resident memory idle after start-up: ${idle}.`,
    `Peak resident memory under load (50 in flight / burst): ${peak}.`,
    `Relay A idle after all load: ${report.memory.afterLoadMb.toFixed(0)} MB.`,
  ];
}

function checkLines(report) {
  const lines = report.logCheck.map(
    (c) =>
      `Relay ${c.name}: ${c.rows} signal-log rows in its database, ${c.lines} decision lines in its log files${c.rows === c.lines ? '' : ' (MISMATCH)'}` +
      (c.pending > 0 ? `; ${c.pending} rows still pending after every instance stopped (decided, no outcome written)` : '') +
      '.',
  );
  for (const r of report.rows) {
    if (r.decisions !== null && r.logged < r.answered) lines.push(`${r.label} (${r.mode}): only ${r.logged} rows logged for ${r.answered} answers (MISMATCH).`);
    if (r.reasons !== null) {
      const why = Object.entries(r.reasons)
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `${reason} ${n}`)
        .join(', ');
      lines.push(`${r.label} (${r.mode}), by reason: ${why}; ${r.apiCalls} CrossTrade API calls.`);
    }
    if (r.mode === 'burst') {
      lines.push(
        `${r.label}: ${r.burstKeys} keys, ${r.decisions.forwarded ?? 0} forwarded, ${r.doubleForwards} keys forwarded more than once; the upstream received ${r.upstreamReceived}.`,
      );
    } else if (r.target.startsWith('forwarded') || r.target === 'pg-direct' || r.target.startsWith('pg-forwarded')) {
      lines.push(`${r.label} (${r.mode}): ${r.decisions.forwarded ?? 0} forwarded, the upstream received ${r.upstreamReceived}.`);
    }
  }
  return lines;
}

function signed(value, digits = 2) {
  if (!Number.isFinite(value)) return '–';
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;
}

function textTable(columns, rows) {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells) =>
    cells
      .map((cell, i) => (i < 2 || i >= 9 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
