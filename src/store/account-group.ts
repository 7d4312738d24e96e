import { createHash } from 'node:crypto';

/**
 * The CrossTrade accounts a key trades: two relay users configured with the same CrossTrade key
 * reach the same CrossTrade user, so the same NinjaTrader accounts (docs/external-systems.md §2.1: the key is
 * the CrossTrade user's one secret), and are arbitrated as one (issue 7, case 10). A one-way
 * hash, so the group can be stored and compared without being a second copy of the key.
 */
export function accountGroupOf(crosstradeKey: string, paper = false): string {
  const group = createHash('sha256').update(`trade-relay account group\0${crosstradeKey}`).digest('hex').slice(0, 32);
  // A paper user trades the relay's paper book, not the CrossTrade accounts: it is never arbitrated with a live user of the same key.
  return paper ? `paper-${group}` : group;
}
