import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RepeatEvidence, type RepeatVerdict, recognizeRepeat } from '../../src/engine/recognize-repeat.js';

const AT = 1_800_000_000_000;
const STALE_RESEND = 'stale-resend: a copy of an alert answered "database busy" arrived after a later alert of the same strategy; not sent';
const ALERT_ID_DUPLICATE = 'duplicate: this relay_alert_id was already handled';
const duplicateWithin = (seconds: number): string => `duplicate: the same alert from this strategy arrived within ${seconds} s with nothing of it in between`;

type Earlier = 'none' | 'decided' | 'answered 5xx';
const earlierOf = (earlier: Earlier): RepeatEvidence['earlier'] => (earlier === 'none' ? null : { at: AT, refused: earlier === 'answered 5xx' });

describe('recognizeRepeat: every branch', () => {
  // earlier copy × nothing of the strategy in between on every key × idempotency field → verdict
  it.each([
    // No earlier copy inside the window: a new trigger, whatever else is true.
    ['none', false, false, { kind: 'new' }],
    ['none', true, false, { kind: 'new' }],
    ['none', false, true, { kind: 'new' }],
    ['none', true, true, { kind: 'new' }],
    // The earlier copy was answered 5xx before anything was decided: TradingView's resend gets its second chance…
    ['answered 5xx', true, false, { kind: 'second-chance' }],
    ['answered 5xx', true, true, { kind: 'second-chance' }],
    // …unless the strategy has moved on since: then it is a stale resend, also with an idempotency field.
    ['answered 5xx', false, false, { kind: 'stale-resend', reason: STALE_RESEND }],
    ['answered 5xx', false, true, { kind: 'stale-resend', reason: STALE_RESEND }],
    // The earlier copy was decided: the same relay_alert_id is the same trigger whatever came between…
    ['decided', true, true, { kind: 'duplicate', reason: ALERT_ID_DUPLICATE }],
    ['decided', false, true, { kind: 'duplicate', reason: ALERT_ID_DUPLICATE }],
    // …without one, a byte-identical body is a duplicate only when nothing of the strategy came between.
    ['decided', true, false, { kind: 'duplicate', reason: duplicateWithin(25) }],
    ['decided', false, false, { kind: 'new' }],
  ] as const satisfies readonly (readonly [Earlier, boolean, boolean, RepeatVerdict])[])(
    'earlier copy %s, nothing in between on every key %s, relay_alert_id %s → %o',
    (earlier, lastOnEveryKey, hasAlertId, expected) => {
      expect(recognizeRepeat({ earlier: earlierOf(earlier), lastOnEveryKey, hasAlertId }, 25)).toEqual(expected);
    },
  );

  it.each([
    [3, 'within 3 s'],
    [25, 'within 25 s'],
    [2.5, 'within 2.5 s'],
  ])('names the duplicate window of %s s in the reason', (seconds, text) => {
    const verdict = recognizeRepeat({ earlier: { at: AT, refused: false }, lastOnEveryKey: true, hasAlertId: false }, seconds);
    expect(verdict).toEqual({ kind: 'duplicate', reason: duplicateWithin(seconds) });
    expect(verdict.kind === 'duplicate' && verdict.reason).toContain(text);
  });

  it('does not depend on when the earlier copy arrived (the store only reports copies inside the window)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: AT }), fc.boolean(), fc.boolean(), fc.boolean(), (at, refused, lastOnEveryKey, hasAlertId) => {
        const base = recognizeRepeat({ earlier: { at: AT, refused }, lastOnEveryKey, hasAlertId }, 25);
        expect(recognizeRepeat({ earlier: { at, refused }, lastOnEveryKey, hasAlertId }, 25)).toEqual(base);
      }),
    );
  });

  it('never lets a copy through once the strategy has moved on, unless it is not a copy at all', () => {
    fc.assert(
      fc.property(fc.constantFrom<Earlier>('none', 'decided', 'answered 5xx'), fc.boolean(), fc.boolean(), (earlier, lastOnEveryKey, hasAlertId) => {
        const verdict = recognizeRepeat({ earlier: earlierOf(earlier), lastOnEveryKey, hasAlertId }, 25);
        // A decided copy is only ever new again for a legitimate repeat: no idempotency field and something in between.
        if (earlier === 'decided' && verdict.kind === 'new') expect({ lastOnEveryKey, hasAlertId }).toEqual({ lastOnEveryKey: false, hasAlertId: false });
        // Only a 5xx-answered copy gets a second chance, and only while nothing came after it.
        if (verdict.kind === 'second-chance') expect({ earlier, lastOnEveryKey }).toEqual({ earlier: 'answered 5xx', lastOnEveryKey: true });
        // A copy that is not sent always says why.
        if (verdict.kind === 'duplicate' || verdict.kind === 'stale-resend') expect(verdict.reason.startsWith(`${verdict.kind}: `)).toBe(true);
      }),
    );
  });
});
