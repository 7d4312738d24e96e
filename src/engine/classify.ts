import type { Direction, MarketPosition, SignalType } from './types.js';

export interface Transition {
  prevMarketPosition: MarketPosition | null;
  marketPosition: MarketPosition | null;
  action: 'buy' | 'sell' | null;
  marketPositionSize: number | null;
  prevMarketPositionSize: number | null;
}

export interface Classification {
  type: SignalType;
  direction: Direction | null;
}

/**
 * Reads what an alert means for the position from prev_market_position → market_position
 * (reference §1.5). A long→long or short→short alert is an add when the order points the way
 * of the position and a partial exit when it points against it; the sizes are the cross-check.
 * When neither tells, it is an add: the stricter reading, forwarded only for the owner.
 */
export function classify(transition: Transition): Classification {
  const { prevMarketPosition: prev, marketPosition: now } = transition;
  if (prev === null || now === null) return { type: 'passthrough', direction: null };
  if (now === 'flat') return { type: 'exit', direction: null };
  if (prev === 'flat') return { type: 'entry', direction: now };
  if (prev !== now) return { type: 'reversal', direction: now };
  return { type: sameDirectionType(transition, now), direction: now };
}

function sameDirectionType(transition: Transition, direction: Direction): 'add' | 'partial_exit' {
  const { action, marketPositionSize: size, prevMarketPositionSize: prevSize } = transition;
  const addingAction = direction === 'long' ? 'buy' : 'sell';
  const bySize = size !== null && prevSize !== null && size !== prevSize ? (size > prevSize ? 'add' : 'partial_exit') : null;
  const byAction = action === null ? null : action === addingAction ? 'add' : 'partial_exit';
  // Two witnesses that disagree mean a hand-edited or broken alert: take the stricter reading.
  if (bySize !== null && byAction !== null && bySize !== byAction) return 'add';
  return bySize ?? byAction ?? 'add';
}
