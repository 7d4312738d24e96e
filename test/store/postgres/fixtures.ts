import type { DoubtKind, KeyRecord, Ownership, Strategy, StrategyMark } from '../../../src/engine/types.js';
import { accountGroupOf } from '../../../src/store/account-group.js';
import type { AlertIdentity, ArbitrationDecision, KeyView, KeyWrite, PositionKey, SignalLogInput, Store } from '../../../src/store/store.js';
import { connectTo } from '../../helpers/postgres.js';

// Shared by the PostgreSQL store's tests: the same words as test/store/sqlite-store.test.ts.

export const T0 = 1_800_000_000_000;
export const BOB_KEY = 'key-of-bob-1';
export const GROUP = accountGroupOf(BOB_KEY);
export const key: PositionKey = { accountGroup: GROUP, account: 'Sim101', instrumentKey: 'ES' };
export const A: Strategy = { relayUser: 'bob', relayId: 'A' };
export const B: Strategy = { relayUser: 'bob', relayId: 'B' };

export const log = (extra: Partial<SignalLogInput> = {}): SignalLogInput => ({
  time: T0,
  relayUser: 'bob',
  relayId: 'A',
  account: 'Sim101',
  instrument: 'ES 03-26',
  signalType: 'entry',
  decision: 'pending',
  reason: 'entry: nobody owns the position',
  apiCheck: null,
  upstreamStatus: null,
  latencyMs: null,
  alert: 'command=PLACE;',
  ...extra,
});

export const owner = (who: Strategy = A, direction: 'long' | 'short' = 'long', quantity: number | null = 1): Ownership => ({
  ...who,
  direction,
  quantity,
  openedAt: 1,
  claimedAt: 2,
  holdUntil: 3,
});

export const record = (who: Strategy | null, doubt: DoubtKind | null = null): KeyRecord => ({
  owner: who === null ? null : owner(who),
  doubt: doubt === null ? null : { kind: doubt, since: T0 },
});

export const write = (rec: KeyRecord | null, marks: StrategyMark[] = []): KeyWrite => ({ record: rec, marks, instrument: 'ES 03-26' });
export const mark = (who: Strategy, holdsNothing: boolean): StrategyMark => ({ ...who, holdsNothing });
export const identity = (fingerprint: string, windowMs = 30_000, who: Strategy = A): AlertIdentity => ({ fingerprint, ...who, windowMs });

/** A decision that writes these (one per key), marks the alert seen or not, and logs or not. */
export function writing(writes: (KeyWrite | null)[], options: { seen?: boolean; log?: SignalLogInput | null } = {}): ArbitrationDecision<null> {
  return () => ({ value: null, writes, seen: options.seen ?? false, log: options.log ?? null });
}

/** What `decide` sees of the keys for this sender, without writing anything. */
export async function look(store: Store, keys: PositionKey[], sender: Strategy = A, id: AlertIdentity | null = null) {
  const result = await store.arbitrate(
    keys,
    sender,
    (views, earlier) => ({ value: { views, earlier }, writes: keys.map(() => null), seen: false, log: null }),
    id,
  );
  return result.value;
}

export const viewOf = async (store: Store, k: PositionKey = key, sender: Strategy = A): Promise<KeyView> => (await look(store, [k], sender)).views[0]!;

/** Empties every table of the store (between tests of one file, which share a database). */
export async function emptyTables(url: string): Promise<void> {
  const client = await connectTo(url);
  try {
    await client.query('TRUNCATE users, key_records, strategy_keys, alert_fingerprints, signal_log, settings, paper_books RESTART IDENTITY');
  } finally {
    await client.end();
  }
}

/** Rows read past the store (whose listings would write its queue first). */
export async function raw<T>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = await connectTo(url);
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}
