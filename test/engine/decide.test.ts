import { describe, expect, it } from 'vitest';
import { decide, holdMs, senderBlockedAfter } from '../../src/engine/decide.js';
import type { EngineSettings, Ownership, PositionReading, Signal, SignalType } from '../../src/engine/types.js';

const settings: EngineSettings = { fillGraceMs: 10_000, restingGraceMs: 3_600_000 };
const T0 = 1_800_000_000_000;
const LATER = T0 + 60_000; // well past any fill grace

const signal = (type: SignalType, relayId: string, extra: Partial<Signal> = {}): Signal => ({
  type,
  relayId,
  direction: type === 'exit' || type === 'passthrough' ? null : 'long',
  resting: false,
  restingForMs: null,
  ...extra,
});
const owner = (relayId: string, extra: Partial<Ownership> = {}): Ownership => ({
  relayId,
  direction: 'long',
  openedAt: T0,
  claimedAt: T0,
  holdUntil: T0 + settings.fillGraceMs,
  ...extra,
});
const flat = (takenAt = LATER): PositionReading => ({ kind: 'flat', takenAt });
const open: PositionReading = { kind: 'open', takenAt: LATER, detail: 'Long 1 ES 03-26' };
const failed: PositionReading = { kind: 'unknown', takenAt: LATER, reason: 'api-not-connected-408' };

describe('decide: entries (and reversals, which follow the same ownership rules)', () => {
  for (const type of ['entry', 'reversal'] as const) {
    it(`${type}: forwards and records the owner when nobody owns`, () => {
      const verdict = decide(null, signal(type, 'A'), null, LATER, settings);
      expect(verdict).toEqual({
        action: 'forward',
        reason: `${type}: nobody owns the position`,
        change: { kind: 'set', ownership: { relayId: 'A', direction: 'long', openedAt: LATER, claimedAt: LATER, holdUntil: LATER + 10_000 } },
        staleOwnerCleared: false,
      });
    });

    it(`${type}: forwards for the owner and updates the direction`, () => {
      const verdict = decide(owner('A'), signal(type, 'A', { direction: 'short' }), null, LATER, settings);
      expect(verdict).toMatchObject({
        action: 'forward',
        change: { kind: 'set', ownership: { relayId: 'A', direction: 'short', openedAt: T0, claimedAt: LATER } },
      });
    });

    it(`${type}: asks for a reading when another strategy owns past its hold`, () => {
      expect(decide(owner('A'), signal(type, 'B'), null, LATER, settings)).toEqual({ action: 'needs-reading', reason: 'contested: owned by A' });
    });

    it(`${type}: clears a stale owner and forwards when CrossTrade reads flat`, () => {
      const verdict = decide(owner('A'), signal(type, 'B'), flat(), LATER, settings);
      expect(verdict).toMatchObject({
        action: 'forward',
        reason: 'stale-owner-cleared: owned by A, CrossTrade reports flat',
        staleOwnerCleared: true,
        change: { kind: 'set', ownership: { relayId: 'B', openedAt: LATER } },
      });
    });

    it(`${type}: blocks when CrossTrade reads the position open`, () => {
      expect(decide(owner('A'), signal(type, 'B'), open, LATER, settings)).toEqual({
        action: 'block',
        reason: 'position-open: owned by A, CrossTrade reports Long 1 ES 03-26',
      });
    });

    it(`${type}: blocks when the CrossTrade check failed`, () => {
      expect(decide(owner('A'), signal(type, 'B'), failed, LATER, settings)).toEqual({
        action: 'block',
        reason: 'position-check-failed: owned by A, CrossTrade check failed (api-not-connected-408)',
      });
    });
  }

  it('blocks without asking CrossTrade while the owner is inside its fill grace', () => {
    const verdict = decide(owner('A'), signal('entry', 'B'), null, T0 + 4_000, settings);
    expect(verdict).toEqual({ action: 'block', reason: 'owner-order-pending: owned by A, flat readings are not trusted for another 6 s' });
  });

  it('never lets a flat reading taken inside the hold clear the owner (fill lag)', () => {
    const verdict = decide(owner('A'), signal('entry', 'B'), flat(T0 + 9_999), LATER, settings);
    expect(verdict).toEqual({ action: 'block', reason: 'owner-order-pending: owned by A, flat reading taken inside the hold' });
  });

  it('accepts a flat reading taken after the hold ended, not one taken at its last millisecond', () => {
    expect(decide(owner('A'), signal('entry', 'B'), flat(T0 + 10_000), LATER, settings).action).toBe('block');
    expect(decide(owner('A'), signal('entry', 'B'), flat(T0 + 10_001), LATER, settings).action).toBe('forward');
  });

  it('holds a resting LIMIT/STOP entry for the resting grace, or its cancel_after', () => {
    expect(holdMs(signal('entry', 'A', { resting: true }), settings)).toBe(3_610_000);
    expect(holdMs(signal('entry', 'A', { resting: true, restingForMs: 300_000 }), settings)).toBe(310_000);
    expect(holdMs(signal('entry', 'A'), settings)).toBe(10_000);
    const resting = decide(null, signal('entry', 'A', { resting: true }), null, T0, settings);
    expect(resting).toMatchObject({ change: { ownership: { holdUntil: T0 + 3_610_000 } } });
    const ownership = (resting as { change: { ownership: Ownership } }).change.ownership;
    expect(decide(ownership, signal('entry', 'B'), null, T0 + 3_000_000, settings).action).toBe('block');
  });
});

describe('decide: exits', () => {
  it('forwards the owner’s exit and clears the ownership', () => {
    expect(decide(owner('A'), signal('exit', 'A'), null, LATER, settings)).toEqual({
      action: 'forward',
      reason: 'exit: A owns the position',
      change: { kind: 'clear' },
      staleOwnerCleared: false,
    });
  });

  it('drops a phantom exit from a strategy that does not own the position', () => {
    expect(decide(owner('A'), signal('exit', 'B'), null, LATER, settings)).toEqual({ action: 'drop', reason: 'phantom-exit: owned by A' });
  });

  it('forwards an exit when nobody owns the position', () => {
    expect(decide(null, signal('exit', 'B'), null, LATER, settings)).toMatchObject({ action: 'forward', change: { kind: 'keep' } });
  });

  it('forwards the owner’s partial exit and keeps the ownership', () => {
    expect(decide(owner('A'), signal('partial_exit', 'A'), null, LATER, settings)).toMatchObject({ action: 'forward', change: { kind: 'keep' } });
  });

  it('drops another strategy’s partial exit and forwards one when nobody owns', () => {
    expect(decide(owner('A'), signal('partial_exit', 'B'), null, LATER, settings).action).toBe('drop');
    expect(decide(null, signal('partial_exit', 'B'), null, LATER, settings).action).toBe('forward');
  });
});

describe('decide: adds (same-direction changes that add exposure)', () => {
  it('forwards the owner’s add and extends the hold', () => {
    const verdict = decide(owner('A'), signal('add', 'A'), null, LATER, settings);
    expect(verdict).toMatchObject({
      action: 'forward',
      change: { kind: 'set', ownership: { relayId: 'A', openedAt: T0, claimedAt: LATER, holdUntil: LATER + 10_000 } },
    });
  });

  it('keeps a longer resting hold when the owner adds at market', () => {
    const verdict = decide(owner('A', { holdUntil: LATER + 999_999 }), signal('add', 'A'), null, LATER, settings);
    expect(verdict).toMatchObject({ change: { ownership: { holdUntil: LATER + 999_999 } } });
  });

  it('blocks another strategy’s add without asking CrossTrade', () => {
    expect(decide(owner('A'), signal('add', 'B'), flat(), LATER, settings)).toEqual({
      action: 'block',
      reason: 'not-owner: owned by A, an add would stack exposure',
    });
  });

  it('blocks an add when nobody owns: it would open exposure for a strategy that owns nothing', () => {
    expect(decide(null, signal('add', 'B'), null, LATER, settings)).toEqual({
      action: 'block',
      reason: 'add-without-ownership: nobody owns the position, an add would open exposure',
    });
  });
});

describe('decide: passthrough', () => {
  it('forwards and changes nothing, whoever owns', () => {
    expect(decide(owner('A'), signal('passthrough', 'B'), null, LATER, settings)).toMatchObject({ action: 'forward', change: { kind: 'keep' } });
  });
});

describe('decide: a strategy whose entry was blocked holds no position', () => {
  it('drops its exit and partial exit when nobody owns, instead of opening an orphaned position', () => {
    expect(decide(null, signal('exit', 'B'), null, LATER, settings, true)).toEqual({
      action: 'drop',
      reason: "phantom-exit: B's entry was blocked, it holds no position",
    });
    expect(decide(null, signal('partial_exit', 'B'), null, LATER, settings, true).action).toBe('drop');
  });

  it('blocks its reversal, whose quantity would double the position', () => {
    expect(decide(null, signal('reversal', 'B'), null, LATER, settings, true)).toEqual({
      action: 'block',
      reason: "not-owner: B's entry was blocked, its reversal would double the position",
    });
    expect(decide(owner('A'), signal('reversal', 'B'), flat(), LATER, settings, true).action).toBe('block');
  });

  it('still lets its plain entry through when nobody owns', () => {
    expect(decide(null, signal('entry', 'B'), null, LATER, settings, true).action).toBe('forward');
  });

  it('never applies to the owner itself', () => {
    expect(decide(owner('B'), signal('exit', 'B'), null, LATER, settings, true)).toMatchObject({ action: 'forward', change: { kind: 'clear' } });
  });

  it.each([
    ['entry', 'blocked', true],
    ['add', 'blocked', true],
    ['reversal', 'failed-definitely', true],
    ['entry', 'forwarded', false],
    ['exit', 'dropped', false],
    ['exit', 'forwarded', false],
    ['entry', 'dropped', null],
    ['partial_exit', 'forwarded', null],
    ['passthrough', 'forwarded', null],
  ] as const)('after a %s that was %s, the sender is blocked: %s', (type, decision, expected) => {
    expect(senderBlockedAfter(type, decision)).toBe(expected);
  });
});

describe('decide: the owner’s re-entry', () => {
  it('keeps a longer hold of its resting order', () => {
    const verdict = decide(owner('A', { holdUntil: LATER + 999_999 }), signal('entry', 'A'), null, LATER, settings);
    expect(verdict).toMatchObject({ change: { ownership: { holdUntil: LATER + 999_999 } } });
  });
});

describe('decide: the owner starts from another position than the recorded one', () => {
  it('drops its exit and partial exit, and blocks its reversal, rather than doubling the real position', () => {
    const recordedLong = owner('A', { direction: 'long' });
    expect(decide(recordedLong, signal('exit', 'A', { from: 'short' }), null, LATER, settings)).toEqual({
      action: 'drop',
      reason: 'direction-mismatch: A starts from short but its recorded position is long; check the position in NinjaTrader',
    });
    expect(decide(recordedLong, signal('partial_exit', 'A', { from: 'short', direction: 'short' }), null, LATER, settings).action).toBe('drop');
    expect(decide(recordedLong, signal('reversal', 'A', { from: 'short', direction: 'long' }), null, LATER, settings).action).toBe('block');
  });

  it('forwards when the start matches, or is not given', () => {
    expect(decide(owner('A'), signal('exit', 'A', { from: 'long' }), null, LATER, settings).action).toBe('forward');
    expect(decide(owner('A'), signal('exit', 'A', { from: 'flat' }), null, LATER, settings).action).toBe('forward');
    expect(decide(owner('A'), signal('exit', 'A'), null, LATER, settings).action).toBe('forward');
  });

  it('remembers a stale owner it clears as holding no position', () => {
    expect(decide(owner('A'), signal('entry', 'B'), flat(), LATER, settings)).toMatchObject({ change: { kind: 'set', displaced: 'A' } });
  });
});
