import { setTimeout as sleep } from 'node:timers/promises';
import { readCpuMs, sampleRss } from './read-proc.js';
import { runLoad } from './run-load.js';
import { CONTESTED_FILL_GRACE_S } from './start-rig.js';

/** Past the owners' hold, so that no rival entry is blocked by the hold alone (without a check). */
const HOLD_MARGIN_MS = 500;

/** The three kinds of load, the same autocannon for every target. */
export const LOADS = {
  steady: { connections: 20, rate: 200, describe: '200/s paced' },
  max: { connections: 50, rate: null, describe: '50 in flight' },
  single: { connections: 1, rate: null, describe: 'one at a time' },
  burst: { connections: 40, rate: null, describe: '40 strategies/key' },
};

/**
 * Every measured run of the plan, in order: warm-up (not recorded), then rounds of the steady
 * load over all targets, then rounds of the max load, then the bursts. Each round starts at the
 * next target, so slow drift of a shared machine does not always fall on the same one.
 */
export async function measure(rig, plan, progress) {
  const steadyTargets = rig.targets.filter((t) => !t.burst);
  const bursts = rig.targets.filter((t) => t.burst);
  progress(`priming: the owners' entries (half the forwarded keys, every blocked key), then ${CONTESTED_FILL_GRACE_S} s for the owners' hold to end`);
  await primeTargets(rig, plan, progress);
  progress('warming up');

  for (const target of steadyTargets) {
    // The relays on PostgreSQL warm at 200/s, longer: 50 alerts at once on a cold instance (its
    // pool's connections opening, statements planned, code not yet optimised) run past their deadline.
    const warm = target.postgres ? { ...LOADS.steady, durationS: plan.pgWarmupS } : { ...LOADS.max, durationS: plan.warmupS };
    await runLoad({ origin: target.origin, connections: warm.connections, rate: warm.rate, durationS: warm.durationS, requestsFor: target.requests() });
    await settle(rig);
  }
  const runs = [];
  for (const [mode, rounds, durationS] of [
    ['steady', plan.rounds, plan.steadyS],
    ['max', plan.maxRounds, plan.maxS],
    ['single', plan.singleRounds, plan.singleS],
  ]) {
    for (let round = 0; round < rounds; round++) {
      for (const target of rotate(steadyTargets, round)) {
        progress(`${mode} round ${round + 1}/${rounds}: ${target.label}`);
        runs.push(await measureRun(rig, target, mode, durationS, `${round}`));
      }
    }
  }
  for (let round = 0; round < plan.burstRuns; round++) {
    for (const burst of bursts) {
      progress(`burst ${round + 1}/${plan.burstRuns}: ${burst.label}`);
      runs.push(await measureRun(rig, burst, 'burst', plan.burstS, `${round}`));
    }
  }
  return runs;
}

/** One measured run of `mode` against `target` (also bench/pg-target.js). */
export async function measureRun(rig, target, mode, durationS, label) {
  const mark = await target.log?.mark();
  const simBefore = await rig.sim.command('stats');
  const rssPids = target.rssPids ?? [target.pid];
  const rss = sampleRss(rssPids);
  const cpu = await startCpu(target);
  const { connections, rate } = LOADS[mode];
  const load = await runLoad({ origin: target.origin, connections, rate, durationS, requestsFor: target.requests(label) });
  // Read before the outcomes settle, as for the SQLite relays: the writes after the answer are
  // counted in the runs they fall into (a run's tail in the next one's CPU, alike for every target).
  const cpuParts = await cpu.stop();
  const peaks = rss.stop();
  const peakRssMb = Math.max(...rssPids.map((pid) => peaks.get(pid)));
  const decisions = target.log === undefined ? null : await target.log.settledDecisionsSince(mark);
  const reasons = target.log === undefined ? null : await target.log.reasonsSince(mark);
  const burst = mode === 'burst' ? { keys: await target.log.keysTouchedSince(mark), doubleForwards: await target.log.doubleForwardsSince(mark) } : null;
  const simAfter = await settle(rig);
  return {
    target: target.id,
    mode,
    load,
    decisions,
    reasons,
    burst,
    upstreamReceived: simAfter.received,
    apiCalls: simAfter.apiCalls - simBefore.apiCalls,
    cpuMs: Object.values(cpuParts).reduce((a, b) => a + b, 0),
    cpuParts,
    peakRssMb,
  };
}

/**
 * Starts counting the CPU of everything a target runs on: its process (or its relay instances
 * and the balancer), and for the relays on PostgreSQL the server's backends for them and its
 * shared processes. `stop()` answers ms per part, e.g. `{relays: 812, balancer: 190, 'postgres backends': 640, 'postgres shared': 35}`.
 */
async function startCpu(target) {
  const parts = target.cpu?.parts ?? [{ name: 'process', pids: [target.pid] }];
  const postgres = target.cpu?.postgres ?? null;
  const read = (pids) => pids.reduce((ms, pid) => ms + readCpuMs(pid), 0);
  const before = parts.map((part) => read(part.pids));
  const postgresBefore = postgres === null || !postgres.visible ? null : await postgres.snapshot();
  return {
    async stop() {
      const spent = Object.fromEntries(parts.map((part, i) => [part.name, read(part.pids) - before[i]]));
      if (postgresBefore === null) return spent;
      const server = await postgres.since(postgresBefore);
      return { ...spent, 'postgres backends': server.backends, 'postgres shared': server.shared };
    },
  };
}

/**
 * Sends every target's `prime` once: on the forwarded path the owners of ownerFlow's second lane
 * enter (so exits and entries alternate from the first alert on); on the blocked path every key
 * gets its owner, then the simulator's book is set to an open position on every blocked key, so
 * rival entries that ask CrossTrade are told the position is open. Then it waits out the
 * blocked-path owners' hold (those relays' fill grace): inside it a rival entry is blocked without
 * asking CrossTrade (`owner-order-pending`), after it every rival entry needs CrossTrade's reading
 * (`position-open`), which is the path this scenario measures.
 */
async function primeTargets(rig, plan, progress, only = rig.targets) {
  // A cold relay on PostgreSQL is slow enough to refuse an owner's entry (its store call past its
  // budget): its instances first run a while on keys of their own, and a shortfall is reported, not fatal.
  for (const warmer of rig.postgres?.warmers ?? []) {
    await runLoad({ origin: warmer.origin, ...LOADS.steady, durationS: plan.pgWarmupS, requestsFor: warmer.requestsFor });
  }
  for (const target of only.filter((t) => t.prime !== undefined)) {
    let n = 0;
    const entries = target.prime;
    const mark = await target.log?.mark();
    await runLoad({
      origin: target.origin,
      connections: target.primeConnections ?? 50,
      amount: entries.length,
      requestsFor: () => () => entries[n++ % entries.length],
    });
    if (target.log === undefined) continue;
    const decisions = await target.log.settledDecisionsSince(mark);
    if (decisions.forwarded === entries.length) continue;
    const shortfall = `priming ${target.id}: expected ${entries.length} owner entries forwarded, got ${JSON.stringify(decisions)} (${JSON.stringify(await target.log.reasonsSince(mark))})`;
    if (!target.postgres) throw new Error(shortfall);
    // Their keys start without an owner: a few exits dropped as phantom on the first pass, then the flow is back in step.
    progress(shortfall);
    target.primeShortfall = entries.length - (decisions.forwarded ?? 0);
  }
  const open = [...rig.blockedKeys, ...rig.targets.flatMap((t) => t.openAtStart ?? [])];
  const contracts = new Map(
    open.map((k) => [`${k.account}|${k.instrument}`, { account: k.account, instrument: k.instrument, marketPosition: 'Long', quantity: 1 }]),
  );
  await rig.sim.command('set-positions', { positions: [...contracts.values()] });
  await settle(rig);
  await sleep(CONTESTED_FILL_GRACE_S * 1000 + HOLD_MARGIN_MS);
}

/** Lets alerts cut off at the end of a run finish, then empties the simulator's list of received alerts. */
async function settle(rig) {
  await sleep(150);
  const stats = await rig.sim.command('stats');
  await rig.sim.command('clear-received');
  return stats;
}

/** Primes and warms only `targets` (bench/pg-target.js), as `measure` does for all of them. */
export async function primeAndWarm(rig, plan, targets, progress) {
  await primeTargets(rig, plan, progress, targets);
  for (const target of targets) {
    const warm = target.postgres ? { ...LOADS.steady, durationS: plan.pgWarmupS } : { ...LOADS.max, durationS: plan.warmupS };
    await runLoad({ origin: target.origin, connections: warm.connections, rate: warm.rate, durationS: warm.durationS, requestsFor: target.requests() });
    await settle(rig);
  }
}

function rotate(list, by) {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}
