import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, classifyCommand, type ImpliedSignal, impliedSignal, type Transition } from '../../src/engine/classify.js';
import type { ImpliedOrder, MarketPosition, PositionReading } from '../../src/engine/types.js';

const t = (prev: MarketPosition | null, now: MarketPosition | null, extra: Partial<Transition> = {}): Transition => ({
  prevMarketPosition: prev,
  marketPosition: now,
  action: null,
  marketPositionSize: null,
  prevMarketPositionSize: null,
  ...extra,
});

describe('classify: prev_market_position → market_position', () => {
  it.each([
    ['flat', 'long', 'entry', 'long'],
    ['flat', 'short', 'entry', 'short'],
    ['long', 'flat', 'exit', null],
    ['short', 'flat', 'exit', null],
    ['flat', 'flat', 'exit', null],
    ['long', 'short', 'reversal', 'short'],
    ['short', 'long', 'reversal', 'long'],
  ] as const)('reads %s → %s as %s', (prev, now, type, direction) => {
    expect(classify(t(prev, now))).toEqual({ type, direction });
  });

  it.each([
    [null, null],
    [null, 'long'],
    [null, 'flat'],
    ['flat', null],
    ['long', null],
    ['short', null],
  ] as const)('reads %s → %s (a position field missing) as a passthrough', (prev, now) => {
    expect(classify(t(prev, now, { action: 'buy', marketPositionSize: 1, prevMarketPositionSize: 0 }))).toEqual({ type: 'passthrough', direction: null });
  });

  it.each([
    ['flat', 'long', 'sell', 'entry', 'long'],
    ['flat', 'short', 'buy', 'entry', 'short'],
    ['long', 'flat', 'buy', 'exit', null],
    ['short', 'flat', 'sell', 'exit', null],
    ['long', 'short', 'buy', 'reversal', 'short'],
    ['short', 'long', 'sell', 'reversal', 'long'],
  ] as const)('reads %s → %s as %s whatever the action (%s) and sizes say', (prev, now, action, type, direction) => {
    expect(classify(t(prev, now, { action, marketPositionSize: 5, prevMarketPositionSize: 7 }))).toEqual({ type, direction });
  });
});

describe('classify: long → long and short → short (add or partial exit)', () => {
  type Sizes = 'none' | 'grew' | 'shrank' | 'equal' | 'prev only' | 'now only';
  const sizes: Record<Sizes, Pick<Transition, 'prevMarketPositionSize' | 'marketPositionSize'>> = {
    none: { prevMarketPositionSize: null, marketPositionSize: null },
    grew: { prevMarketPositionSize: 1, marketPositionSize: 2 },
    shrank: { prevMarketPositionSize: 2, marketPositionSize: 1 },
    equal: { prevMarketPositionSize: 2, marketPositionSize: 2 },
    'prev only': { prevMarketPositionSize: 2, marketPositionSize: null },
    'now only': { prevMarketPositionSize: null, marketPositionSize: 2 },
  };
  // The order points the way of the position (buy on a long, sell on a short): add; against it: partial exit.
  // Sizes are the cross-check; witnesses that disagree, or none at all, give the stricter reading: add.
  it.each([
    ['long', 'buy', 'none', 'add'],
    ['long', 'buy', 'grew', 'add'],
    ['long', 'buy', 'shrank', 'add'], // disagree
    ['long', 'buy', 'equal', 'add'],
    ['long', 'buy', 'prev only', 'add'],
    ['long', 'buy', 'now only', 'add'],
    ['long', 'sell', 'none', 'partial_exit'],
    ['long', 'sell', 'grew', 'add'], // disagree
    ['long', 'sell', 'shrank', 'partial_exit'],
    ['long', 'sell', 'equal', 'partial_exit'],
    ['long', 'sell', 'prev only', 'partial_exit'],
    ['long', 'sell', 'now only', 'partial_exit'],
    ['long', null, 'none', 'add'],
    ['long', null, 'grew', 'add'],
    ['long', null, 'shrank', 'partial_exit'],
    ['long', null, 'equal', 'add'],
    ['long', null, 'prev only', 'add'],
    ['long', null, 'now only', 'add'],
    ['short', 'sell', 'none', 'add'],
    ['short', 'sell', 'grew', 'add'],
    ['short', 'sell', 'shrank', 'add'], // disagree
    ['short', 'sell', 'equal', 'add'],
    ['short', 'sell', 'prev only', 'add'],
    ['short', 'sell', 'now only', 'add'],
    ['short', 'buy', 'none', 'partial_exit'],
    ['short', 'buy', 'grew', 'add'], // disagree
    ['short', 'buy', 'shrank', 'partial_exit'],
    ['short', 'buy', 'equal', 'partial_exit'],
    ['short', 'buy', 'prev only', 'partial_exit'],
    ['short', 'buy', 'now only', 'partial_exit'],
    ['short', null, 'none', 'add'],
    ['short', null, 'grew', 'add'],
    ['short', null, 'shrank', 'partial_exit'],
    ['short', null, 'equal', 'add'],
    ['short', null, 'prev only', 'add'],
    ['short', null, 'now only', 'add'],
  ] as const)('%s → %s with action %s and sizes %s: %s', (side, action, size, type) => {
    expect(classify(t(side, side, { action, ...sizes[size] }))).toEqual({ type, direction: side });
  });
});

describe('classifyCommand: an alert without position fields, by its command', () => {
  it.each([
    [null, 'passthrough'], // CrossTrade requires a command: without one nothing is placed
    ['PLACE', 'order'],
    ['place', 'order'],
    ['Place', 'order'],
    ['FLATPLACE', 'order'],
    ['flatplace', 'order'],
    ['REVERSEPOSITION', 'order'],
    ['ReversePosition', 'order'],
    ['REVERSE', 'order'],
    ['reverse', 'order'],
    ['FLATTEN', 'flatten'],
    ['flatten', 'flatten'],
    ['CLOSEPOSITION', 'flatten'],
    ['closeposition', 'flatten'],
    ['CLOSESTRATEGY', 'flatten'], // closes an ATM strategy's part of the position
    ['closestrategy', 'flatten'],
    ['FLATTENEVERYTHING', 'flatten'], // closes every position of the CrossTrade user
    ['FlattenEverything', 'flatten'],
    ['CANCEL', 'passthrough'],
    ['CANCELORDERS', 'passthrough'],
    ['CHANGE', 'passthrough'],
    ['', 'passthrough'],
    ['SOMETHINGELSE', 'passthrough'],
    ['CLOSE', 'passthrough'], // not a CrossTrade command
  ] as const)('command %j → %s', (command, kind) => {
    expect(classifyCommand(command)).toBe(kind);
  });
});

describe('impliedSignal: an order without position fields, read against the account', () => {
  const AT = 1_800_000_000_000;
  const READINGS = {
    flat: { kind: 'flat', takenAt: AT },
    'long 1': { kind: 'open', takenAt: AT, direction: 'long', quantity: 1, detail: 'Long 1 ES 03-26' },
    'long 2': { kind: 'open', takenAt: AT, direction: 'long', quantity: 2, detail: 'Long 2 ES 03-26' },
    'short 1': { kind: 'open', takenAt: AT, direction: 'short', quantity: 1, detail: 'Short 1 ES 03-26' },
    'short 2': { kind: 'open', takenAt: AT, direction: 'short', quantity: 2, detail: 'Short 2 ES 03-26' },
    unknown: { kind: 'unknown', takenAt: AT, reason: 'api-not-connected-408' },
  } as const satisfies Record<string, PositionReading>;
  type ReadingName = keyof typeof READINGS;
  type Row = readonly [ImpliedOrder['command'], ImpliedOrder['action'], number | null, ReadingName, ImpliedSignal | null];
  // Each with the contracts the order moves the position by (|after − before|; a reversal: the close plus the open).
  const entry = (direction: 'long' | 'short', moves: number): ImpliedSignal => ({ type: 'entry', direction, from: 'flat', quantity: moves });
  const add = (direction: 'long' | 'short', moves: number): ImpliedSignal => ({ type: 'add', direction, from: direction, quantity: moves });
  const partial = (direction: 'long' | 'short', moves: number): ImpliedSignal => ({ type: 'partial_exit', direction, from: direction, quantity: moves });
  const exit = (from: 'long' | 'short', moves: number): ImpliedSignal => ({ type: 'exit', direction: null, from, quantity: moves });
  const reversal = (from: 'long' | 'short', moves: number): ImpliedSignal => ({
    type: 'reversal',
    direction: from === 'long' ? 'short' : 'long',
    from,
    quantity: moves,
  });
  const unchanged = (from: MarketPosition): ImpliedSignal => ({ type: 'passthrough', direction: null, from, quantity: 0 });

  const check = (
    command: ImpliedOrder['command'],
    action: ImpliedOrder['action'],
    quantity: number | null,
    reading: ReadingName,
    expected: ImpliedSignal | null,
  ) => {
    expect(impliedSignal({ command, action, quantity }, READINGS[reading])).toEqual(expected);
  };

  // PLACE: the position after is the position before plus the order.
  it.each<Row>([
    ['PLACE', 'buy', 1, 'flat', entry('long', 1)],
    ['PLACE', 'buy', 2, 'flat', entry('long', 2)],
    ['PLACE', 'sell', 1, 'flat', entry('short', 1)],
    ['PLACE', 'sell', 3, 'flat', entry('short', 3)],
    ['PLACE', 'buy', 1, 'long 2', add('long', 1)],
    ['PLACE', 'buy', 2, 'long 2', add('long', 2)],
    ['PLACE', 'buy', 3, 'long 2', add('long', 3)],
    ['PLACE', 'sell', 1, 'long 2', partial('long', 1)],
    ['PLACE', 'sell', 2, 'long 2', exit('long', 2)],
    ['PLACE', 'sell', 3, 'long 2', reversal('long', 3)],
    ['PLACE', 'sell', 1, 'long 1', exit('long', 1)],
    ['PLACE', 'sell', 2, 'long 1', reversal('long', 2)],
    ['PLACE', 'buy', 1, 'long 1', add('long', 1)],
    ['PLACE', 'sell', 1, 'short 2', add('short', 1)],
    ['PLACE', 'sell', 2, 'short 2', add('short', 2)],
    ['PLACE', 'sell', 3, 'short 2', add('short', 3)],
    ['PLACE', 'buy', 1, 'short 2', partial('short', 1)],
    ['PLACE', 'buy', 2, 'short 2', exit('short', 2)],
    ['PLACE', 'buy', 3, 'short 2', reversal('short', 3)],
    ['PLACE', 'buy', 1, 'short 1', exit('short', 1)],
    ['PLACE', 'buy', 2, 'short 1', reversal('short', 2)],
    ['PLACE', 'sell', 1, 'short 1', add('short', 1)],
    // Without an action or a whole quantity a PLACE cannot be read.
    ['PLACE', null, 1, 'flat', null],
    ['PLACE', null, 1, 'long 2', null],
    ['PLACE', 'buy', null, 'flat', null],
    ['PLACE', 'sell', null, 'short 2', null],
    ['PLACE', null, null, 'long 1', null],
    ['PLACE', 'buy', 1, 'unknown', null],
  ])('%s %s %s on %s → %o', check);

  // FLATPLACE: flatten, then place: the position after is the order alone. A reversal moves the
  // close plus the open (sell 1 on long 2: 3), whatever its qty.
  it.each<Row>([
    ['FLATPLACE', 'buy', 1, 'flat', entry('long', 1)],
    ['FLATPLACE', 'buy', 2, 'flat', entry('long', 2)],
    ['FLATPLACE', 'sell', 1, 'flat', entry('short', 1)],
    ['FLATPLACE', 'buy', 1, 'long 2', partial('long', 1)],
    ['FLATPLACE', 'buy', 2, 'long 2', add('long', 0)], // same size again: the stricter reading, moving nothing net
    ['FLATPLACE', 'buy', 3, 'long 2', add('long', 1)],
    ['FLATPLACE', 'buy', 1, 'long 1', add('long', 0)],
    ['FLATPLACE', 'sell', 1, 'long 2', reversal('long', 3)],
    ['FLATPLACE', 'sell', 2, 'long 2', reversal('long', 4)],
    ['FLATPLACE', 'sell', 3, 'long 1', reversal('long', 4)],
    ['FLATPLACE', 'sell', 1, 'short 2', partial('short', 1)],
    ['FLATPLACE', 'sell', 2, 'short 2', add('short', 0)],
    ['FLATPLACE', 'sell', 3, 'short 2', add('short', 1)],
    ['FLATPLACE', 'sell', 1, 'short 1', add('short', 0)],
    ['FLATPLACE', 'buy', 1, 'short 2', reversal('short', 3)],
    ['FLATPLACE', 'buy', 2, 'short 1', reversal('short', 3)],
    ['FLATPLACE', null, 1, 'flat', null],
    ['FLATPLACE', 'buy', null, 'long 2', null],
    ['FLATPLACE', null, null, 'short 1', null],
    ['FLATPLACE', 'sell', 1, 'unknown', null],
  ])('%s %s %s on %s → %o', check);

  // REVERSEPOSITION: nothing on a flat account (whatever the order says); otherwise close, then place.
  it.each<Row>([
    ['REVERSEPOSITION', 'buy', 1, 'flat', unchanged('flat')],
    ['REVERSEPOSITION', 'sell', 2, 'flat', unchanged('flat')],
    ['REVERSEPOSITION', null, 1, 'flat', unchanged('flat')],
    ['REVERSEPOSITION', 'buy', null, 'flat', unchanged('flat')],
    ['REVERSEPOSITION', null, null, 'flat', unchanged('flat')],
    ['REVERSEPOSITION', 'sell', 1, 'long 2', reversal('long', 3)],
    ['REVERSEPOSITION', 'sell', 2, 'long 2', reversal('long', 4)],
    ['REVERSEPOSITION', 'sell', 3, 'long 1', reversal('long', 4)],
    ['REVERSEPOSITION', 'buy', 1, 'long 2', partial('long', 1)],
    ['REVERSEPOSITION', 'buy', 2, 'long 2', unchanged('long')], // closes 2, buys 2: the same position
    ['REVERSEPOSITION', 'buy', 3, 'long 2', add('long', 1)],
    ['REVERSEPOSITION', 'buy', 1, 'short 2', reversal('short', 3)],
    ['REVERSEPOSITION', 'buy', 2, 'short 1', reversal('short', 3)],
    ['REVERSEPOSITION', 'sell', 1, 'short 2', partial('short', 1)],
    ['REVERSEPOSITION', 'sell', 2, 'short 2', unchanged('short')],
    ['REVERSEPOSITION', 'sell', 3, 'short 2', add('short', 1)],
    ['REVERSEPOSITION', null, 1, 'long 2', null],
    ['REVERSEPOSITION', 'sell', null, 'long 1', null],
    ['REVERSEPOSITION', 'buy', null, 'short 2', null],
    ['REVERSEPOSITION', 'buy', 1, 'unknown', null],
  ])('%s %s %s on %s → %o', check);

  // REVERSE: only account and instrument count; the position is inverted, a flat account is left alone.
  it.each<Row>([
    ['REVERSE', null, null, 'flat', unchanged('flat')],
    ['REVERSE', 'buy', 1, 'flat', unchanged('flat')],
    ['REVERSE', 'sell', 2, 'flat', unchanged('flat')],
    ['REVERSE', null, null, 'long 1', reversal('long', 2)],
    ['REVERSE', null, null, 'long 2', reversal('long', 4)],
    ['REVERSE', 'buy', 3, 'long 2', reversal('long', 4)],
    ['REVERSE', 'sell', 1, 'long 1', reversal('long', 2)],
    ['REVERSE', null, null, 'short 1', reversal('short', 2)],
    ['REVERSE', null, null, 'short 2', reversal('short', 4)],
    ['REVERSE', 'sell', 3, 'short 2', reversal('short', 4)],
    ['REVERSE', 'buy', 1, 'short 1', reversal('short', 2)],
    ['REVERSE', null, null, 'unknown', null],
  ])('%s %s %s on %s → %o', check);

  it('properties: the position before is always the reading’s; an unknown reading never tells anything', () => {
    const command = fc.constantFrom<ImpliedOrder['command']>('PLACE', 'FLATPLACE', 'REVERSEPOSITION', 'REVERSE');
    const action = fc.constantFrom<ImpliedOrder['action']>('buy', 'sell', null);
    const quantity = fc.option(fc.integer({ min: 1, max: 50 }), { nil: null });
    const reading = fc.oneof(
      fc.constant<PositionReading>({ kind: 'flat', takenAt: AT }),
      fc.record({
        kind: fc.constant('open' as const),
        takenAt: fc.constant(AT),
        direction: fc.constantFrom('long' as const, 'short' as const),
        quantity: fc.integer({ min: 1, max: 50 }),
        detail: fc.constant('x'),
      }),
      fc.constant<PositionReading>({ kind: 'unknown', takenAt: AT, reason: 'x' }),
    );
    fc.assert(
      fc.property(command, action, quantity, reading, (c, a, q, r) => {
        const implied = impliedSignal({ command: c, action: a, quantity: q }, r);
        if (r.kind === 'unknown') {
          expect(implied).toBeNull();
          return;
        }
        if (implied === null) {
          // Only an order without the action or quantity it needs cannot be read against a known position.
          expect(c !== 'REVERSE' && (a === null || q === null)).toBe(true);
          return;
        }
        expect(implied.from).toBe(r.kind === 'flat' ? 'flat' : r.direction);
        // A signal that takes a direction carries one, and only those do.
        expect(implied.direction === null).toBe(implied.type === 'exit' || implied.type === 'passthrough');
        // From a flat account an order can only open a position or do nothing.
        if (r.kind === 'flat') expect(['entry', 'passthrough']).toContain(implied.type);
        // The contracts it moves: a PLACE its qty; a reversal more than the position read (the close
        // plus the open), an exit all of it, a partial exit less; nothing when nothing changes.
        const held = r.kind === 'flat' ? 0 : r.quantity;
        if (c === 'PLACE') expect(implied.quantity).toBe(q);
        if (implied.type === 'reversal') expect(implied.quantity).toBeGreaterThan(held);
        if (implied.type === 'exit') expect(implied.quantity).toBe(held);
        if (implied.type === 'partial_exit') expect(implied.quantity).toBeLessThan(held);
        if (implied.type === 'entry') expect(implied.quantity).toBeGreaterThan(0);
        if (implied.type === 'passthrough') expect(implied.quantity).toBe(0);
      }),
    );
  });
});
