import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { play, runArb } from './delivery-arbitraries.js';
import { KNOWN_BREACHES, type KnownBug, describeEvent } from './delivery-model.js';

// Issue 7, "Tests, docs, cost": the engine and a model account under TradingView's delivery, over
// random sequences of two or three strategies' alerts on one key (every type, MARKET and LIMIT,
// FLATTEN), 503s before deciding and TradingView's resends, copies, losses, alerts held in transit
// and arriving late (reordered), ambiguous and definite forward failures, forwards answered late or
// after the next alert's wait, failed readings, fills that lag, working orders filling, closes
// outside the relay and time passing across the fill grace and the resting grace; with and
// without relay_alert_id and position sizes in the alerts. After every step the property of
// delivery-model.ts holds:
//   (S) no forward stacks a second strategy's exposure on the account (no order closes a position
//       another strategy still intends, or adds exposure while another strategy holds any);
//   (O) no forward opens a position that no forwarded order intended (a strategy's position only
//       grows within the target of the order that grew it or of its strategy's last forwarded one).
// Breaches that are known (KNOWN_BREACHES; pinned in delivery.known-bugs.test.ts) are counted and
// printed, not failed; any other breach fails with the whole run played step by step.

const NUM_RUNS = 10_000;
const MAX_EVENTS = 80;

describe('decide under TradingView delivery: random sequences against the model account', () => {
  it('no forward stacks a second strategy on the account or opens a position no forwarded order intended', () => {
    const known = new Map<KnownBug, number>();
    let events = 0;
    const started = performance.now();
    fc.assert(
      fc.property(runArb(MAX_EVENTS), (run) => {
        const { world, played } = play(run, false);
        events += played.length;
        if (world.violation === null) return;
        if (world.knownBug !== null) {
          known.set(world.knownBug, (known.get(world.knownBug) ?? 0) + 1);
          return;
        }
        const { world: replay } = play(run, true);
        const setup = `${run.strategies} strategies, relay_alert_id ${run.alertIds ? 'on' : 'off'}, sizes ${run.sizes ? 'on' : 'off'}`;
        throw new Error(`${world.violation}\n${setup}; events: ${played.map(describeEvent).join(', ')}\n${replay.trace!.join('\n')}`);
      }),
      { numRuns: NUM_RUNS },
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const breaches = [...known].map(([bug, n]) => `${bug} (${KNOWN_BREACHES[bug].kind}) ${n}`).join(', ') || 'none';
    console.log(
      `checked ${NUM_RUNS.toLocaleString('en-US')} random runs (${events.toLocaleString('en-US')} events) in ${seconds} s; runs ending in a known breach: ${breaches}`,
    );
    expect(events).toBeGreaterThan(NUM_RUNS * 10);
  });
});

// Runs the property once failed on, replayed as they were found (fast-check's counterexample), so a
// regression fails every time, not only on the seed that finds it.
const FOUND: Record<string, Parameters<typeof play>[0]> = {
  // B's LIMIT exit works; A's FLATTEN fails ambiguously without reaching CrossTrade; B's market exit
  // was then sent on a reading of B's long 1, and the LIMIT exit filled after it: short 1.
  'an ambiguous FLATTEN forgot a working LIMIT exit': {
    strategies: 2,
    alertIds: false,
    sizes: false,
    events: [
      { kind: 'fire', strategy: 0, alert: 'partial', dt: 0 },
      { kind: 'wait', ms: 5735 },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 2137 },
      { kind: 'fire', strategy: 1, alert: 'limit-exit', dt: 1384 },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 0 },
      { kind: 'later' },
      { kind: 'fire', strategy: 0, alert: 'add', dt: 2230 },
      { kind: 'wait', ms: 3058 },
      { kind: 'wait', ms: 3096 },
      { kind: 'ambiguous' },
      { kind: 'fire', strategy: 1, alert: 'add', dt: 1361 },
      { kind: 'fire', strategy: 0, alert: 'reversal', dt: 0 },
      { kind: 'fire', strategy: 1, alert: 'partial', dt: 0 },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 0 },
      { kind: 'fill', dt: 0 },
      { kind: 'fire', strategy: 0, alert: 'entry-long', dt: 0 },
    ],
    reached: [false],
    lags: [0],
  },
  // A's exit inside its hold is sent on a flat reading; B's entry is lost; B's exit reads the long A's exit
  // closed, not shown yet: short 1 nobody intended (an open reading before an exit's fill could show).
  'an open reading still showed the position an exit had closed': {
    strategies: 2,
    alertIds: false,
    sizes: false,
    events: [
      { kind: 'fire', strategy: 0, alert: 'entry-long', dt: 0 },
      { kind: 'fire', strategy: 0, alert: 'entry-long', dt: 0 },
      { kind: 'lose' },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 0 },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 1 },
    ],
    reached: [false],
    lags: [1, 2],
  },
  // B's exit hangs; A's FLATTEN fails ambiguously; A enters and exits on a reading that still shows B's long.
  'an open reading after a hanging exit and an ambiguous FLATTEN': {
    strategies: 2,
    alertIds: false,
    sizes: false,
    events: [
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 0 },
      { kind: 'hang' },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 0 },
      { kind: 'fire', strategy: 0, alert: 'partial', dt: 0 },
      { kind: 'ambiguous' },
      { kind: 'fire', strategy: 0, alert: 'entry-long', dt: 0 },
      { kind: 'fire', strategy: 0, alert: 'entry-long', dt: 0 },
    ],
    reached: [false],
    lags: [0, 1],
  },
  // A's entry arrives late, after B's; A's and B's exits both read the long one of them had closed.
  'an open reading after an entry held in transit': {
    strategies: 2,
    alertIds: false,
    sizes: false,
    events: [
      { kind: 'unknown-reading' },
      { kind: 'fire', strategy: 0, alert: 'entry-long', dt: 0 },
      { kind: 'hold' },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 0 },
      { kind: 'later' },
      { kind: 'fire', strategy: 0, alert: 'entry-long', dt: 0 },
      { kind: 'fire', strategy: 1, alert: 'entry-long', dt: 0 },
      { kind: 'resend', dt: 0 },
    ],
    reached: [false],
    lags: [1],
  },
};

describe('decide under TradingView delivery: runs the property once failed on', () => {
  for (const [name, run] of Object.entries(FOUND)) {
    it(name, () => {
      const { world } = play(run, true);
      expect(world.violation, world.trace!.join('\n')).toBeNull();
    });
  }
});
