import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/engine/classify.js';
import { combineVerdicts } from '../../src/engine/combine-verdicts.js';
import { decide, senderBlockedAfter } from '../../src/engine/decide.js';
import type { EngineSettings, MarketPosition, Ownership, PositionReading, Signal, Verdict } from '../../src/engine/types.js';

const settings: EngineSettings = { fillGraceMs: 10_000, restingGraceMs: 600_000 };
const STRATEGIES = ['A', 'B', 'C'] as const;
type Strategy = (typeof STRATEGIES)[number];

/**
 * A model of the real account behind one key: orders the relay forwards fill after a lag
 * (shorter than the grace, longer for resting orders), stops and manual closes flatten it,
 * and CrossTrade's API sees only filled positions, or fails.
 */
interface World {
  filled: Map<Strategy, number>; // exposure per strategy that actually exists
  pending: { strategy: Strategy; fillsAt: number }[];
}

const event = fc.oneof(
  fc.record({
    kind: fc.constant('alert' as const),
    strategy: fc.constantFrom(...STRATEGIES),
    prev: fc.constantFrom<MarketPosition>('flat', 'long', 'short'),
    now: fc.constantFrom<MarketPosition>('flat', 'long', 'short'),
    action: fc.constantFrom('buy' as const, 'sell' as const, null),
    resting: fc.boolean(),
    apiFails: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('flatten' as const) }),
);
const step = fc.record({ event, advanceMs: fc.integer({ min: 0, max: 30_000 }), fillLagFraction: fc.double({ min: 0, max: 0.99, noNaN: true }) });

function exposureOf(world: World, now: number): Set<Strategy> {
  for (const order of world.pending.filter((o) => o.fillsAt <= now)) world.filled.set(order.strategy, (world.filled.get(order.strategy) ?? 0) + 1);
  world.pending = world.pending.filter((o) => o.fillsAt > now);
  const holders = new Set<Strategy>([...world.filled.keys()]);
  for (const o of world.pending) holders.add(o.strategy);
  return holders;
}

describe('decide: properties over any sequence of alerts, fills, flattens and API readings', () => {
  it('never forwards exposure for one strategy while another holds a real or pending position', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let now = 1_800_000_000_000;
        let ownership: Ownership | null = null;
        const blocked = new Set<Strategy>();
        const world: World = { filled: new Map(), pending: [] };
        for (const { event: e, advanceMs, fillLagFraction } of steps) {
          now += advanceMs;
          const holders = exposureOf(world, now);
          if (e.kind === 'flatten') {
            world.filled.clear();
            world.pending = [];
            continue;
          }
          const { type, direction } = classify({
            prevMarketPosition: e.prev,
            marketPosition: e.now,
            action: e.action,
            marketPositionSize: null,
            prevMarketPositionSize: null,
          });
          const signal: Signal = { type, relayId: e.strategy, direction, resting: e.resting, restingForMs: null };
          const reading: PositionReading = e.apiFails
            ? { kind: 'unknown', takenAt: now, reason: 'api-timeout' }
            : world.filled.size > 0
              ? { kind: 'open', takenAt: now, detail: 'open' }
              : { kind: 'flat', takenAt: now };
          const wasBlocked = blocked.has(e.strategy);
          let verdict: Verdict = decide(ownership, signal, null, now, settings, wasBlocked);
          if (verdict.action === 'needs-reading') verdict = decide(ownership, signal, reading, now, settings, wasBlocked);
          expect(verdict.action).not.toBe('needs-reading');
          const after = senderBlockedAfter(type, verdict.action === 'forward' ? 'forwarded' : verdict.action === 'block' ? 'blocked' : 'dropped');
          if (after === true) blocked.add(e.strategy);
          if (after === false) blocked.delete(e.strategy);
          if (verdict.action !== 'forward') {
            // A strategy the relay kept out holds nothing: its exits must never be forwarded.
            continue;
          }
          if (type === 'exit' || type === 'partial_exit') expect(wasBlocked && ownership?.relayId !== e.strategy).toBe(false);

          const addsExposure = type === 'entry' || type === 'reversal' || type === 'add';
          if (addsExposure) {
            // The first rule of the domain: never a doubled position.
            const others = [...holders].filter((s) => s !== e.strategy);
            expect(others).toEqual([]);
            const lagLimit = e.resting ? settings.restingGraceMs + settings.fillGraceMs : settings.fillGraceMs;
            world.pending.push({ strategy: e.strategy, fillsAt: now + Math.floor(lagLimit * fillLagFraction) });
          } else if (type === 'exit' && ownership?.relayId === e.strategy) {
            world.filled.delete(e.strategy);
            world.pending = world.pending.filter((o) => o.strategy !== e.strategy);
          }
          if (verdict.change.kind === 'set') ownership = verdict.change.ownership;
          if (verdict.change.kind === 'clear') ownership = null;
          // One owner at most, and it is the strategy whose order was just forwarded.
          if (verdict.change.kind === 'set') expect(ownership?.relayId).toBe(e.strategy);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('only ever forwards an entry of a non-owner after a successful flat reading taken past the hold', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...STRATEGIES),
        fc.constantFrom(...STRATEGIES),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: -20_000, max: 100_000 }),
        fc.constantFrom('flat', 'open', 'unknown', null),
        (ownerId, other, age, readingOffset, kind) => {
          const now = 1_800_000_000_000;
          const ownership: Ownership = {
            relayId: ownerId,
            direction: 'long',
            openedAt: now - age,
            claimedAt: now - age,
            holdUntil: now - age + settings.fillGraceMs,
          };
          const takenAt = now - age + readingOffset;
          const reading: PositionReading | null =
            kind === null ? null : kind === 'flat' ? { kind, takenAt } : kind === 'open' ? { kind, takenAt, detail: 'x' } : { kind, takenAt, reason: 'x' };
          const verdict = decide(ownership, { type: 'entry', relayId: other, direction: 'long', resting: false, restingForMs: null }, reading, now, settings);
          if (verdict.action === 'forward' && other !== ownerId) {
            expect(reading?.kind).toBe('flat');
            expect(takenAt).toBeGreaterThan(ownership.holdUntil);
            expect(now).toBeGreaterThanOrEqual(ownership.holdUntil);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('forwards a multi-account alert only when every account allows it', () => {
    const verdictArb = fc.constantFrom<Verdict>(
      { action: 'forward', reason: 'f', change: { kind: 'keep' }, staleOwnerCleared: false },
      { action: 'block', reason: 'b' },
      { action: 'drop', reason: 'd' },
      { action: 'needs-reading', reason: 'n' },
    );
    fc.assert(
      fc.property(fc.array(verdictArb, { minLength: 1, maxLength: 5 }), (verdicts) => {
        const combined = combineVerdicts(verdicts.map((verdict, i) => ({ account: `acc${i}`, verdict })));
        const actions = verdicts.map((v) => v.action);
        expect(combined.action === 'forward').toBe(actions.every((a) => a === 'forward'));
        if (actions.includes('block')) expect(combined.action).toBe('block');
      }),
    );
  });
});
