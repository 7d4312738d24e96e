import { summarizeLatencies } from './summarize-latencies.js';

const MODE_ORDER = ['steady', 'max', 'single', 'burst'];

/**
 * One row per (target, load): the rounds pooled. Alerts/s is answers over wall time; latencies
 * are every sample of every round; errors are transport errors, timeouts and non-2xx answers.
 */
export function summarizeRuns(runs, targets) {
  const rows = [];
  for (const mode of MODE_ORDER) {
    for (const target of targets) {
      const group = runs.filter((r) => r.target === target.id && r.mode === mode);
      if (group.length === 0) continue;
      const answered = sum(group, (r) => r.load.answered);
      const decisions = target.log === undefined ? null : mergeCounts(group.map((r) => r.decisions));
      rows.push({
        target: target.id,
        label: target.label,
        mode,
        runs: group.length,
        seconds: sum(group, (r) => r.load.elapsedS),
        answered,
        rate: answered / sum(group, (r) => r.load.elapsedS),
        ...summarizeLatencies(group.flatMap((r) => r.load.latencies)),
        errors: sum(group, (r) => r.load.errors + r.load.non2xx),
        decisions,
        reasons: target.log === undefined ? null : mergeCounts(group.map((r) => r.reasons)),
        logged: decisions === null ? null : Object.values(decisions).reduce((a, b) => a + b, 0),
        upstreamReceived: sum(group, (r) => r.upstreamReceived),
        apiCalls: sum(group, (r) => r.apiCalls),
        cpuUsPerAlert: (1000 * sum(group, (r) => r.cpuMs)) / answered,
        // Per process group when a target runs on several (relays on PostgreSQL): µs per alert each.
        cpuPartsUs: Object.fromEntries(Object.entries(mergeCounts(group.map((r) => r.cpuParts))).map(([part, ms]) => [part, (1000 * ms) / answered])),
        postgres: target.postgres ?? null,
        peakRssMb: Math.max(...group.map((r) => r.peakRssMb)),
        burstKeys: mode === 'burst' ? sum(group, (r) => r.burst.keys) : null,
        doubleForwards: mode === 'burst' ? sum(group, (r) => r.burst.doubleForwards) : null,
      });
    }
  }
  return rows;
}

function sum(list, pick) {
  return list.reduce((total, item) => total + pick(item), 0);
}

function mergeCounts(list) {
  const merged = {};
  for (const counts of list) for (const [key, n] of Object.entries(counts)) merged[key] = (merged[key] ?? 0) + n;
  return merged;
}
