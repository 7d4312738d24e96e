import { describe, expect, it } from 'vitest';
import { eventOfDecision } from '../../src/notify/event-of-decision.js';
import { NOTIFY_EVENTS, type NotifyEvent } from '../../src/notify/notify-events.js';

const ALL: ReadonlySet<NotifyEvent> = new Set(NOTIFY_EVENTS);
const only = (...events: NotifyEvent[]) => new Set(events);

describe('eventOfDecision', () => {
  it('names an alert by its decision when the reason says nothing more', () => {
    expect(eventOfDecision('forwarded', 'entry: A takes the key', ALL)).toBe('forwarded');
    expect(eventOfDecision('blocked', 'not-owner: owned by B, an add would stack exposure', ALL)).toBe('blocked');
    expect(eventOfDecision('dropped', 'phantom-exit: owned by B', ALL)).toBe('dropped');
    expect(eventOfDecision('failed', 'forward-failed: upstream-http-401; nothing was placed', ALL)).toBe('failed');
    expect(eventOfDecision('rejected', 'unknown relay_user "eve"', ALL)).toBe('rejected');
  });

  it('counts an order whose outcome is unknown as failed, and as a position to check when that is enabled', () => {
    const reason = 'outcome-unknown: upstream-http-503; the order may have reached CrossTrade: the next alert of this position is checked against CrossTrade';
    expect(eventOfDecision('unknown', reason, only('failed', 'blocked'))).toBe('failed');
    expect(eventOfDecision('unknown', reason, only('failed', 'reconcile_needed'))).toBe('reconcile_needed');
    expect(eventOfDecision('unknown', reason, ALL)).toBe('crosstrade_unreachable');
  });

  it('names CrossTrade failures crosstrade_unreachable: API errors, 408 NinjaTrader disconnected, network failures', () => {
    for (const reason of [
      'position-check-failed: owned by B, CrossTrade check failed (api-not-connected-408)',
      'position-check-failed: contested, CrossTrade check failed (api-timeout)',
      'position-check-failed: x; CrossTrade check failed (api-http-500)',
      'forward-failed: upstream-connection-refused; nothing was placed',
      'forward-failed: upstream-http-408; nothing was placed',
    ]) {
      expect(eventOfDecision('blocked', reason, ALL)).toBe('crosstrade_unreachable');
    }
    // A refused key is the trader's to fix, not an outage.
    expect(eventOfDecision('failed', 'forward-failed: upstream-http-401; nothing was placed', ALL)).toBe('failed');
    expect(eventOfDecision('blocked', 'position-check-failed: x (instrument-unreadable)', ALL)).toBe('blocked');
  });

  it('names a disagreement between the record and CrossTrade reconcile_needed', () => {
    expect(eventOfDecision('blocked', 'position-mismatch: claim-mismatch: A says it was flat; CrossTrade reports Long 1', ALL)).toBe('reconcile_needed');
    expect(eventOfDecision('dropped', 'position-mismatch: record-uncertain: x; CrossTrade reports flat', ALL)).toBe('reconcile_needed');
  });

  it('names a forward that cleared a stale owner stale_owner_cleared, even with forwarded turned off', () => {
    const reason = 'stale-owner-cleared: owned by A, CrossTrade reports flat';
    expect(eventOfDecision('forwarded', reason, ALL)).toBe('stale_owner_cleared');
    expect(eventOfDecision('forwarded', reason, only('forwarded'))).toBe('forwarded');
    expect(eventOfDecision('forwarded', reason, only('blocked'))).toBeNull();
  });

  it('tells nothing for an event turned off', () => {
    expect(eventOfDecision('forwarded', 'entry', only('blocked', 'dropped'))).toBeNull();
    expect(eventOfDecision('blocked', 'position-check-failed: CrossTrade check failed (api-timeout)', only('dropped'))).toBeNull();
  });
});
