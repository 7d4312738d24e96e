import { logView } from '../http/views.js';
import { instrumentKey } from '../signal/instrument.js';
import type { PositionRecord, SignalLogRecord, UserRecord } from '../store/store.js';

/** One line of the Now page: a held key, its owner, and the last decision on that key. */
export interface NowRow {
  relay_user: string;
  account: string;
  instrument: string;
  instrument_key: string;
  owner: string;
  direction: string;
  quantity: number | null;
  opened_at: string;
  /** ms since the epoch: the page counts the hold down itself. */
  hold_until_ms: number;
  doubt: string | null;
  last: ReturnType<typeof logView> | null;
}

/**
 * The Now page's rows (issue 11): every owned key with the newest of `recentLogs` (newest first)
 * on the same account group, account and instrument. Users of one CrossTrade key trade the same
 * accounts (store/account-group.ts), so a decision on another of them counts.
 */
export function nowRows(positions: PositionRecord[], users: UserRecord[], recentLogs: SignalLogRecord[], now: number): NowRow[] {
  const groupOf = new Map(users.map((u) => [u.relayUser, u.accountGroup]));
  const year = new Date(now).getUTCFullYear();
  const keyOf = (user: string | null, account: string | null, instrument: string | null) =>
    user === null || account === null || instrument === null
      ? null
      : `${groupOf.get(user) ?? user}\u0000${account.toLowerCase()}\u0000${instrumentKey(instrument, year) ?? instrument.toUpperCase()}`;
  const latest = new Map<string, SignalLogRecord>();
  for (const row of recentLogs) {
    const key = keyOf(row.relayUser, row.account, row.instrument);
    if (key !== null && !latest.has(key)) latest.set(key, row);
  }
  return positions
    .map((p) => {
      const last = latest.get(keyOf(p.relayUser, p.account, p.instrumentKey) ?? '') ?? null;
      return {
        relay_user: p.relayUser,
        account: p.account,
        instrument: p.instrument,
        instrument_key: p.instrumentKey,
        owner: p.relayId,
        direction: p.direction,
        quantity: p.quantity ?? null,
        opened_at: new Date(p.openedAt).toISOString(),
        hold_until_ms: p.holdUntil,
        doubt: p.doubt,
        last: last === null ? null : logView(last),
      };
    })
    .sort((a, b) => a.relay_user.localeCompare(b.relay_user) || a.account.localeCompare(b.account) || a.instrument_key.localeCompare(b.instrument_key));
}
