// What the contract tests share: one CrossTrade key's account group, two strategies of bob, and
// small builders for records, writes, marks, identities and signal-log rows.
import type { DoubtKind, KeyRecord, Ownership, Strategy, StrategyMark } from '../../../src/engine/types.js';
import { accountGroupOf } from '../../../src/store/account-group.js';
import type { AlertIdentity, ArbitrationDecision, KeyView, KeyWrite, PositionKey, SignalLogInput, Store } from '../../../src/store/store.js';

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

export async function viewOf(store: Store, k: PositionKey = key, sender: Strategy = A): Promise<KeyView> {
  return (await look(store, [k], sender)).views[0]!;
}

export const WEBHOOK = 'https://x.test/b';
