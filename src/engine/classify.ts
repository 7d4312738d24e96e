import type { Direction, ImpliedOrder, MarketPosition, PositionReading, SignalType } from './types.js';

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
 * (docs/external-systems.md §1.5). A long→long or short→short alert is an add when the order points the way
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

/** CrossTrade commands (docs/external-systems.md §2.4) that change a position but carry no position fields. */
const ORDER_COMMANDS: ReadonlySet<string> = new Set(['PLACE', 'FLATPLACE', 'REVERSEPOSITION', 'REVERSE']);
/** Commands that can only take the account's position toward flat (CLOSEPOSITION caps its quantity at the open size, docs/external-systems.md §3.4). */
const CLOSING_COMMANDS: ReadonlySet<string> = new Set(['FLATTEN', 'CLOSEPOSITION', 'CLOSESTRATEGY', 'FLATTENEVERYTHING']);

/**
 * The signal type of an alert without position fields, from its `command` (none: CrossTrade refuses
 * it, a `passthrough`): a closing command is a `flatten`, an order command an `order`
 * whose meaning the account reading settles (`impliedSignal`), anything else a `passthrough`.
 */
export function classifyCommand(command: string | null): 'flatten' | 'order' | 'passthrough' {
  // CrossTrade requires a command (docs/external-systems.md §2.3): without one nothing is placed.
  if (command === null) return 'passthrough';
  const name = command.toUpperCase();
  if (CLOSING_COMMANDS.has(name)) return 'flatten';
  if (ORDER_COMMANDS.has(name)) return 'order';
  return 'passthrough';
}

/** What an order without position fields does, given the account's position before it. */
export interface ImpliedSignal {
  type: SignalType;
  direction: Direction | null;
  from: MarketPosition;
  /** Contracts the order moves the position by, in TradingView's terms (a reversal: the close plus the open). */
  quantity: number | null;
}

/**
 * Reads an order alert without position fields against the account: the position before it is
 * the reading's, the position after it follows from the command (docs/external-systems.md §2.4: FLATPLACE
 * closes then places; REVERSEPOSITION and REVERSE do nothing on a flat account). An order that
 * changes nothing is a `passthrough`. Null when the reading or the order cannot tell (an unknown
 * reading, a PLACE without a whole quantity or an action).
 */
export function impliedSignal(order: ImpliedOrder, reading: PositionReading): ImpliedSignal | null {
  if (reading.kind === 'unknown') return null;
  const before = reading.kind === 'flat' ? 0 : reading.direction === 'long' ? reading.quantity : -reading.quantity;
  const placed = order.action === null || order.quantity === null ? null : order.action === 'buy' ? order.quantity : -order.quantity;
  let after: number;
  switch (order.command) {
    case 'REVERSE':
      after = -before;
      break;
    case 'REVERSEPOSITION':
      if (before === 0) return { type: 'passthrough', direction: null, from: 'flat', quantity: 0 };
      if (placed === null) return null;
      after = placed;
      break;
    case 'FLATPLACE':
      if (placed === null) return null;
      after = placed;
      break;
    case 'PLACE':
      if (placed === null) return null;
      after = before + placed;
      break;
  }
  const from = toMarketPosition(before);
  if (after === before && order.command !== 'FLATPLACE') return { type: 'passthrough', direction: null, from, quantity: 0 };
  const action = after > before ? 'buy' : after < before ? 'sell' : order.action;
  const { type, direction } = classify({
    prevMarketPosition: from,
    marketPosition: toMarketPosition(after),
    action,
    marketPositionSize: Math.abs(after),
    prevMarketPositionSize: Math.abs(before),
  });
  return { type, direction, from, quantity: Math.abs(after - before) };
}

function toMarketPosition(signed: number): MarketPosition {
  return signed > 0 ? 'long' : signed < 0 ? 'short' : 'flat';
}
