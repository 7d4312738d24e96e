import type { DoubtKind } from './types.js';

/** Why a key's record is in doubt, in words for a reason or the console (the next order on it is checked against CrossTrade). */
export function describeDoubt(kind: DoubtKind): string {
  switch (kind) {
    case 'in-flight':
      return 'an order of this key is in flight';
    case 'unknown-outcome':
      return 'the outcome of the last order of this key is unknown';
    case 'working-order':
      return 'a LIMIT/STOP order of this key may still be working';
    case 'working-exit':
      return 'a LIMIT/STOP exit of this key may still be working';
    case 'changed':
      return 'the position was changed in a way the record cannot follow';
    case 'closing':
      return 'an exit of this key was just taken and may not have filled yet';
  }
}
