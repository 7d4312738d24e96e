import { describe, expect, it } from 'vitest';
import { decide, recordAfterRefusal } from '../../src/engine/decide.js';
import type { DecideContext, KeyRecord, PositionReading, Signal } from '../../src/engine/types.js';

// closingUntil kept where a record is rebuilt: a closing doubt past its grace, an owner's refused
// alert, and an order that would change nothing. Each case: a reading taken before closingUntil may
// still show contracts an order already sent has closed, so acting on it could open an orphan.

const T0 = 1_800_000_000_000;
const settings = { fillGraceMs: 10_000, restingGraceMs: 600_000 };
const ctx = (now: number): DecideContext => ({ now, settings, sender: { holdsNothing: false }, waitExpired: false });
const long1 = (takenAt: number): PositionReading => ({ kind: 'open', takenAt, direction: 'long', quantity: 1, detail: 'Long 1 ES 03-26' });
const base = { relayUser: 'u1', resting: false, restingForMs: null, instrumentReadable: true } as const;
const exitOf = (relayId: string): Signal => ({ ...base, relayId, type: 'exit', direction: null, from: 'long', quantity: 1 });

describe('closingUntil survives every rebuilt record', () => {
  it('a closing doubt past its grace still distrusts an open reading taken before closingUntil (an earlier delayed close)', () => {
    // An exit with delay=30 s was sent at T0 (closingUntil T0 + 40 s); a later exit left the key closing since T0 + 1 s.
    const record: KeyRecord = { owner: null, doubt: { kind: 'closing', since: T0 + 1_000 }, closingUntil: T0 + 40_000 };
    const now = T0 + 20_000;
    const verdict = decide(record, exitOf('B'), long1(now), ctx(now));
    expect(verdict).toMatchObject({ action: 'drop', reason: expect.stringMatching(/^position-check-inconclusive: nobody-owns: /) });
    // After closingUntil the same reading reconciles: the exit is sent.
    const later = T0 + 40_001;
    expect(decide(record, exitOf('B'), long1(later), ctx(later)).action).toBe('forward');
  });

  it('an owner’s refused alert keeps the key’s closingUntil when it puts the record in doubt', () => {
    const owner = { relayUser: 'u1', relayId: 'A', direction: 'long' as const, quantity: 1, openedAt: T0, claimedAt: T0, holdUntil: T0 + 10_000 };
    const record: KeyRecord = { owner, doubt: null, closingUntil: T0 + 15_000 };
    expect(recordAfterRefusal(record, owner, T0 + 5_000)).toEqual({ owner, doubt: { kind: 'changed', since: T0 + 5_000 }, closingUntil: T0 + 15_000 });
  });

  it('an order that would change nothing on an open reading taken before closingUntil is blocked, not sent as harmless', () => {
    // REVERSEPOSITION buy 1 on Long 1 changes nothing, unless Long 1 is a position an exit already closed.
    const order: Signal = {
      ...base,
      relayId: 'A',
      type: 'order',
      direction: null,
      from: null,
      quantity: null,
      order: { command: 'REVERSEPOSITION', action: 'buy', quantity: 1 },
    };
    const now = T0 + 2_000;
    const free: KeyRecord = { owner: null, doubt: null, closingUntil: T0 + 10_000 };
    expect(decide(free, order, long1(now), ctx(now))).toMatchObject({ action: 'block', reason: expect.stringMatching(/^order-unreadable: /) });
    const settled: KeyRecord = { owner: null, doubt: null };
    expect(decide(settled, order, long1(now), ctx(now)).action).toBe('forward');
  });
});
