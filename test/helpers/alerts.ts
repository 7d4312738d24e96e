import { alertText } from './start-test-relay.js';

// Issue 7's notation: E(A) = A's flat→long BUY 1 MARKET on Sim101 ES; X(A) = A's long→flat SELL 1.

/** A strategy alert for bob with any quantity (alertText's is 1). */
export function order(relayId: string, prev: string, now: string, action: 'BUY' | 'SELL', qty: number, extra = ''): string {
  return alertText({ relayId, prev, now, action, extra }).replace('qty=1;', `qty=${qty};`);
}

/** An alert without position fields: a CrossTrade command as written by hand (FLATTEN, REVERSE, a bare PLACE, ...). */
export function command(relayId: string, fields: string, account = 'Sim101', instrument = 'ES 03-26'): string {
  return `relay_user=bob; relay_id=${relayId}; ${fields}; account=${account}; instrument=${instrument};`;
}

/** Resolves after `ms` of real time. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
