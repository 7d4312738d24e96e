import { describe, expect, it } from 'vitest';
import { classify, type Transition } from '../../src/engine/classify.js';
import type { MarketPosition } from '../../src/engine/types.js';

const t = (prev: MarketPosition | null, now: MarketPosition | null, extra: Partial<Transition> = {}): Transition => ({
  prevMarketPosition: prev,
  marketPosition: now,
  action: null,
  marketPositionSize: null,
  prevMarketPositionSize: null,
  ...extra,
});

describe('classify', () => {
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

  it('treats an alert without market position fields as a passthrough', () => {
    expect(classify(t(null, null))).toEqual({ type: 'passthrough', direction: null });
  });

  it.each([
    ['long', 'buy', 'add'],
    ['long', 'sell', 'partial_exit'],
    ['short', 'sell', 'add'],
    ['short', 'buy', 'partial_exit'],
  ] as const)('reads %s → same with action %s as %s', (side, action, type) => {
    expect(classify(t(side, side, { action }))).toEqual({ type, direction: side });
  });

  it('uses the sizes when the action is missing', () => {
    expect(classify(t('long', 'long', { prevMarketPositionSize: 1, marketPositionSize: 3 })).type).toBe('add');
    expect(classify(t('short', 'short', { prevMarketPositionSize: 3, marketPositionSize: 1 })).type).toBe('partial_exit');
  });

  it('takes the stricter reading, add, when action and sizes disagree or say nothing', () => {
    expect(classify(t('long', 'long', { action: 'sell', prevMarketPositionSize: 1, marketPositionSize: 2 })).type).toBe('add');
    expect(classify(t('long', 'long')).type).toBe('add');
    expect(classify(t('long', 'long', { prevMarketPositionSize: 2, marketPositionSize: 2 })).type).toBe('add');
  });

  it('agrees with the sizes when action and sizes agree', () => {
    expect(classify(t('long', 'long', { action: 'sell', prevMarketPositionSize: 3, marketPositionSize: 2 })).type).toBe('partial_exit');
  });
});
