import { describe, expect, it } from 'vitest';
import { createRepeatGrouper } from '../../src/notify/group-repeats.js';
import type { Notification } from '../../src/notify/notification.js';

const notification = (account: string): Notification => ({
  event: 'blocked',
  time: Date.UTC(2026, 10, 30, 14, 30, 0),
  relayUser: null,
  relayId: null,
  account,
  instrument: null,
  signalType: null,
  decision: 'blocked',
  reason: 'not-owner: owned by A',
});

describe('createRepeatGrouper', () => {
  it('keeps at most its limit of keys open: a flood of new keys is told one by one, never held', () => {
    const told: [string | null, number][] = [];
    const grouper = createRepeatGrouper(60_000, (n, count) => told.push([n.account, count]), 3);
    // Each key holds a group (and a timer) for the window: a bound keeps a flood of them from filling memory.
    for (let round = 0; round < 2; round += 1) for (let i = 0; i < 5; i += 1) grouper.offer(notification(`A${i}`));
    // The first three keys are grouped; the last two found no room, so each of theirs was told at once.
    expect(told).toEqual([
      ['A0', 1],
      ['A1', 1],
      ['A2', 1],
      ['A3', 1],
      ['A4', 1],
      ['A3', 1],
      ['A4', 1],
    ]);
    grouper.flush();
    expect(told.slice(7)).toEqual([
      ['A0', 1],
      ['A1', 1],
      ['A2', 1],
    ]);
  });
});
