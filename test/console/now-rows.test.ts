import { describe, expect, it } from 'vitest';
import { nowRows } from '../../src/console/now-rows.js';
import type { PositionRecord, SignalLogRecord, UserRecord } from '../../src/store/store.js';

const T = Date.UTC(2026, 0, 5, 14, 0);
const user = (relayUser: string, accountGroup: string): UserRecord => ({
  relayUser,
  crosstradeKey: 'k'.repeat(16),
  webhookUrl: 'https://app.crosstrade.io/v1/send/a/b',
  relaySecret: null,
  accountGroup,
  paper: false,
  createdAt: '',
  updatedAt: '',
});
const position = (relayUser: string, relayId: string, account: string, instrumentKey: string): PositionRecord => ({
  relayUser,
  relayId,
  direction: 'long',
  quantity: 1,
  openedAt: T,
  claimedAt: T,
  holdUntil: T + 10_000,
  account,
  instrumentKey,
  instrument: `${instrumentKey} 03-26`,
  doubt: null,
  updatedAt: T,
});
let id = 100;
const log = (relayUser: string, relayId: string, account: string, instrument: string, decision: SignalLogRecord['decision']): SignalLogRecord => ({
  id: id--,
  time: T,
  relayUser,
  relayId,
  account,
  instrument,
  signalType: 'entry',
  decision,
  reason: 'r',
  apiCheck: null,
  upstreamStatus: null,
  latencyMs: null,
  alert: '',
});

describe('nowRows', () => {
  it('gives each held key the newest decision on the same account group, account and instrument', () => {
    const users = [user('bob', 'g1'), user('bill', 'g1'), user('amy', 'g2')];
    const positions = [position('bob', 'A', 'Sim101', 'ES'), position('amy', 'C', 'Sim101', 'ES')];
    // Newest first: bill shares bob's key (same group); amy's Sim101 is another account.
    const logs = [
      log('bill', 'B', 'sim101', 'ESH6', 'blocked'),
      log('bob', 'A', 'Sim101', 'ES 03-26', 'forwarded'),
      log('amy', 'C', 'Sim101', 'NQ 03-26', 'forwarded'),
    ];
    const rows = nowRows(positions, users, logs, T);
    expect(rows.map((r) => [r.relay_user, r.owner, r.last?.relay_id ?? null, r.last?.decision ?? null])).toEqual([
      ['amy', 'C', null, null],
      ['bob', 'A', 'B', 'blocked'],
    ]);
    expect(rows[1]).toMatchObject({
      account: 'Sim101',
      instrument_key: 'ES',
      direction: 'long',
      quantity: 1,
      opened_at: '2026-01-05T14:00:00.000Z',
      hold_until_ms: T + 10_000,
    });
  });
});
