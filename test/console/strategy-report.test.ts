import { describe, expect, it } from 'vitest';
import { strategyReport } from '../../src/console/strategy-report.js';
import type { SignalLogRecord } from '../../src/store/store.js';

const DAY = Date.UTC(2026, 0, 5);
let id = 0;
function row(overrides: Partial<SignalLogRecord>): SignalLogRecord {
  return {
    id: ++id,
    time: DAY + 60_000,
    relayUser: 'bob',
    relayId: 'A',
    account: 'Sim101',
    instrument: 'ES 03-26',
    signalType: 'entry',
    decision: 'forwarded',
    reason: 'entry: nobody owns the position',
    apiCheck: null,
    upstreamStatus: 200,
    latencyMs: 3,
    alert: 'relay_id=A; market_position=long;',
    ...overrides,
  };
}

describe('strategyReport', () => {
  it('counts each strategy today and over the whole window, leaving out admin rows and rows without a strategy', () => {
    const rows = [
      row({ decision: 'blocked', relayId: 'B', reason: 'not-owner: owned by A, an add would stack exposure', signalType: 'add' }),
      row({ decision: 'unknown' }),
      row({ decision: 'failed', time: DAY - 1 }),
      row({ decision: 'dropped', time: DAY - 2 * 86_400_000 }),
      row({ decision: 'rejected', relayId: null }),
      row({ decision: 'admin', relayId: null }),
    ];
    const { strategies } = strategyReport(rows, DAY);
    expect(strategies).toEqual([
      {
        relay_user: 'bob',
        relay_id: 'A',
        today: { alerts: 1, forwarded: 1, blocked: 0, dropped: 0, failed: 0 },
        week: { alerts: 3, forwarded: 1, blocked: 0, dropped: 1, failed: 1 },
      },
      {
        relay_user: 'bob',
        relay_id: 'B',
        today: { alerts: 1, forwarded: 0, blocked: 1, dropped: 0, failed: 0 },
        week: { alerts: 1, forwarded: 0, blocked: 1, dropped: 0, failed: 0 },
      },
    ]);
  });

  it('lists what arbitration cost: blocked entries and reversals with the shadow position and the owner', () => {
    const rows = [
      row({
        decision: 'blocked',
        relayId: 'B',
        reason: 'owner-order-pending: owned by A, hold',
        alert: 'relay_id=B; market_position=long; market_position_size=2;',
      }),
      row({ decision: 'blocked', relayId: 'C', signalType: 'reversal', reason: 'not-owner: owned by A (relay_user amy), a reversal would …', alert: '{}' }),
      row({ decision: 'blocked', relayId: 'D', signalType: 'add', reason: 'not-owner: owned by A, an add would stack exposure' }),
      row({ decision: 'blocked', relayId: 'E', reason: 'position-check-failed: CrossTrade check failed (api-timeout)' }),
    ];
    const { cost } = strategyReport(rows, DAY);
    expect(cost.map((c) => [c.relay_id, c.signal_type, c.believed, c.owner])).toEqual([
      ['B', 'entry', 'long 2', 'A'],
      ['C', 'reversal', null, 'A (relay_user amy)'],
      ['E', 'entry', 'long', null],
    ]);
  });
});
