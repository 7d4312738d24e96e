/**
 * The targets, read off the figures (the bench reports them; it never fails on them).
 * Relay figures are the forwarded path on relay A, compared with the bare forwarder. `met` is
 * null for a target whose figures were not measured (PostgreSQL absent).
 */
export function evaluateTargets({ rows, startups, idleRssMb, postgres = { ran: false, reason: 'not asked for' } }) {
  const row = (target, mode) => rows.find((r) => r.target === target && r.mode === mode);
  const targets = [];
  const [bareSteady, relaySteady] = [row('bare', 'steady'), row('forwarded', 'steady')];
  if (bareSteady && relaySteady) {
    const ratio = relaySteady.p50 / bareSteady.p50;
    targets.push({
      name: 'p50 at 200/s vs bare forwarder',
      want: '≤ 1.3×',
      got: `${ratio.toFixed(2)}× (${ms(relaySteady.p50)} vs ${ms(bareSteady.p50)} ms)`,
      met: ratio <= 1.3,
    });
    const delta = relaySteady.p99 - bareSteady.p99;
    targets.push({
      name: 'p99 at 200/s vs bare forwarder',
      want: '≤ +2 ms',
      got: `${sign(delta)} ms (${ms(relaySteady.p99)} vs ${ms(bareSteady.p99)} ms)`,
      met: delta <= 2,
    });
  }
  const [bareMax, relayMax] = [row('bare', 'max'), row('forwarded', 'max')];
  if (bareMax && relayMax) {
    const ratio = relayMax.rate / bareMax.rate;
    targets.push({
      name: 'throughput, 50 in flight, default durability vs bare forwarder',
      want: '≥ 0.6× bare',
      got: `${ratio.toFixed(2)}× (${relayMax.rate.toFixed(0)} vs ${bareMax.rate.toFixed(0)} alerts/s)`,
      met: ratio >= 0.6,
    });
  }
  // Issue 9: against the bare forwarder with synchronous=NORMAL (relay N, RELAY_DURABILITY=crash),
  // and against the durable bare forwarder with the default durability (relay A).
  const [normalMax, durableMax, normalSingle, bareSingle] = [
    row('forwarded-normal', 'max'),
    row('durable-bare', 'max'),
    row('forwarded-normal', 'single'),
    row('bare', 'single'),
  ];
  if (bareMax && normalMax) {
    const ratio = normalMax.rate / bareMax.rate;
    targets.push({
      name: 'throughput, 50 in flight, durability crash (NORMAL) vs bare forwarder',
      want: '≥ 0.6×',
      got: `${ratio.toFixed(2)}× (${normalMax.rate.toFixed(0)} vs ${bareMax.rate.toFixed(0)} alerts/s)`,
      met: ratio >= 0.6,
    });
  }
  if (durableMax && relayMax) {
    const ratio = relayMax.rate / durableMax.rate;
    targets.push({
      name: 'throughput, 50 in flight, default durability vs durable bare forwarder',
      want: '≥ 0.8×',
      got: `${ratio.toFixed(2)}× (${relayMax.rate.toFixed(0)} vs ${durableMax.rate.toFixed(0)} alerts/s)`,
      met: ratio >= 0.8,
    });
  }
  if (bareSingle && normalSingle) {
    const ratio = normalSingle.p50 / bareSingle.p50;
    targets.push({
      name: 'p50 one at a time, durability crash (NORMAL) vs bare forwarder',
      want: '≤ 1.3×',
      got: `${ratio.toFixed(2)}× (${ms(normalSingle.p50)} vs ${ms(bareSingle.p50)} ms)`,
      met: ratio <= 1.3,
    });
  }
  // Issue 10: the PostgreSQL store against SQLite, the same relay and load (one instance, no
  // balancer: the balancer's hop is not the store's). The figure behind the balancer is given beside it.
  const [pgDirect, pgBalanced] = [row('pg-direct', 'steady'), row('pg-forwarded-1', 'steady')];
  if (relaySteady && pgDirect) {
    const delta = pgDirect.p50 - relaySteady.p50;
    const balanced = pgBalanced ? `; ${ms(pgBalanced.p50)} ms through the balancer` : '';
    targets.push({
      name: 'p50 at 200/s, PostgreSQL (1 instance) vs SQLite, forwarded path',
      want: '≤ +2 ms',
      got: `${sign(delta)} ms (${ms(pgDirect.p50)} vs ${ms(relaySteady.p50)} ms${balanced})`,
      met: delta <= 2,
    });
  } else {
    targets.push({
      name: 'p50 at 200/s, PostgreSQL (1 instance) vs SQLite, forwarded path',
      want: '≤ +2 ms',
      got: `not measured: ${postgres.ran ? 'no PostgreSQL row' : postgres.reason}`,
      met: null,
    });
  }
  const times = startups.map((s) => s.startupMs).sort((a, b) => a - b);
  const median = times[Math.floor((times.length - 1) / 2)];
  const spread = times.length > 1 ? `, ${times[0].toFixed(0)}-${times[times.length - 1].toFixed(0)} ms over ${times.length} starts` : '';
  targets.push({ name: 'start-up to first healthy answer (median)', want: '< 1 s', got: `${median.toFixed(0)} ms${spread}`, met: median < 1000 });
  targets.push({ name: 'idle RSS', want: '< 120 MB', got: `${idleRssMb.toFixed(0)} MB`, met: idleRssMb < 120 });
  return targets;
}

function ms(value) {
  return value.toFixed(2);
}

function sign(value) {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)}`;
}
