import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CrossTradeBadResponseError, CrossTradeHttpError } from '../../src/crosstrade/errors.js';
import { parsePositionsBody, readingFor, type ApiPosition } from '../../src/crosstrade/parse-position.js';

const REF = 2026;
const AT = 1_770_000_000_000;

function apiPosition(instrument: string, marketPosition: string, quantity: number, account = 'Sim101') {
  return {
    type: 'NinjaTrader.Cbi.Position',
    account,
    instrument,
    instrumentType: 'Future',
    marketPosition,
    quantity,
    averagePrice: 2410.3,
    marketPrice: 2408.9,
    unrealizedProfitLoss: 140,
    tag: null,
  };
}

function position(instrument: string, marketPosition: ApiPosition['marketPosition'], quantity: number, account = 'Sim101'): ApiPosition {
  return { account, instrument, marketPosition, quantity };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('parsePositionsBody', () => {
  const rty = apiPosition('RTY 03-26', 'Short', 2);
  const expected = [position('RTY 03-26', 'short', 2)];

  it('reads the documented top-level shape', () => {
    expect(parsePositionsBody({ positions: [rty], count: 1, success: true })).toEqual(expected);
  });

  it('reads the general data-wrapped shape', () => {
    expect(parsePositionsBody({ success: true, data: { positions: [rty] } })).toEqual(expected);
  });

  it('reads a bare array and a data array', () => {
    expect(parsePositionsBody([rty])).toEqual(expected);
    expect(parsePositionsBody({ success: true, data: [rty] })).toEqual(expected);
  });

  it('reads an empty list as no positions', () => {
    expect(parsePositionsBody({ positions: [], count: 0, success: true })).toEqual([]);
  });

  it.each(['Long', 'LONG', 'long', ' Long '])('reads marketPosition %j in any case', (side) => {
    expect(parsePositionsBody([apiPosition('ES 06-26', side, 1)])[0]?.marketPosition).toBe('long');
  });

  it('reads Flat positions (includeFlat=true)', () => {
    expect(parsePositionsBody([apiPosition('ES 06-26', 'Flat', 0)])).toEqual([position('ES 06-26', 'flat', 0)]);
  });

  it('fills a missing account from the requested account', () => {
    const { account: _account, ...noAccount } = rty;
    expect(parsePositionsBody([noAccount], { origin: 'http://x:1', account: 'Sim101' })).toEqual(expected);
  });

  it('turns success:false with an error code into an HTTP error carrying the code', () => {
    const error = thrown(() => parsePositionsBody({ success: false, error: 'not_connected' }));
    expect(error).toBeInstanceOf(CrossTradeHttpError);
    expect((error as CrossTradeHttpError).code).toBe('not_connected');
    expect((error as CrossTradeHttpError).reason).toBe('api-http-200');
  });

  it.each([
    ['null', null, 'not an object'],
    ['a string', 'ok', 'not an object'],
    ['success:false without error', { success: false }, 'success is false'],
    ['no list', { success: true }, 'no positions list'],
    ['positions not an array', { positions: {}, success: true }, 'no positions list'],
    ['data without positions', { success: true, data: {} }, 'no positions list'],
    ['a non-object item', [42], 'position 0 is not an object'],
    ['no instrument', [{ ...apiPosition('x', 'Long', 1), instrument: undefined }], 'position 0 has no instrument'],
    ['an empty instrument', [apiPosition(' ', 'Long', 1)], 'position 0 has no instrument'],
    ['a numeric instrument', [{ ...apiPosition('x', 'Long', 1), instrument: 5 }], 'position 0 has no instrument'],
    ['an unknown side', [apiPosition('ES 06-26', 'Sideways', 1)], 'position 0 has no valid marketPosition'],
    ['no side', [{ ...apiPosition('ES 06-26', 'Long', 1), marketPosition: null }], 'position 0 has no valid marketPosition'],
    ['a string quantity', [{ ...apiPosition('ES 06-26', 'Long', 1), quantity: '2' }], 'position 0 has no valid quantity'],
    ['a negative quantity', [apiPosition('ES 06-26', 'Long', -1)], 'position 0 has no valid quantity'],
    ['a NaN quantity', [apiPosition('ES 06-26', 'Long', Number.NaN)], 'position 0 has no valid quantity'],
    ['no account and none requested', [{ ...apiPosition('ES 06-26', 'Long', 1), account: undefined }], 'position 0 has no account'],
    ['a bad second item', [rty, apiPosition('ES 06-26', 'Long', Number.POSITIVE_INFINITY)], 'position 1 has no valid quantity'],
  ])('rejects %s as a bad response', (_, body, detail) => {
    const error = thrown(() => parsePositionsBody(body));
    expect(error).toBeInstanceOf(CrossTradeBadResponseError);
    expect((error as CrossTradeBadResponseError).detail).toBe(detail);
    expect((error as CrossTradeBadResponseError).reason).toBe('api-bad-response');
  });

  it('names the requested origin and account in a bad-response message', () => {
    const error = thrown(() => parsePositionsBody({ nope: 1 }, { origin: 'http://127.0.0.1:9', account: 'Sim101' }));
    expect((error as Error).message).toBe('CrossTrade API answered with an unreadable body (no positions list) for account Sim101 at http://127.0.0.1:9');
  });

  it('either reads any JSON value or throws a CrossTrade error, never anything else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        try {
          parsePositionsBody(body);
        } catch (error) {
          expect(error instanceof CrossTradeBadResponseError || error instanceof CrossTradeHttpError).toBe(true);
        }
      }),
    );
  });
});

describe('readingFor', () => {
  it('reads open for a position of the same contract, with its direction and quantity', () => {
    expect(readingFor([position('RTY 03-26', 'long', 2)], 'Sim101', 'RTYH2026', AT, REF)).toEqual({
      kind: 'open',
      takenAt: AT,
      direction: 'long',
      quantity: 2,
      detail: 'Long 2 RTY 03-26',
    });
  });

  it('reads open for another expiry of the same root (a roll)', () => {
    expect(readingFor([position('RTY 06-26', 'short', 1)], 'Sim101', 'RTYH26', AT, REF)).toEqual({
      kind: 'open',
      takenAt: AT,
      direction: 'short',
      quantity: 1,
      detail: 'Short 1 RTY 06-26',
    });
  });

  it('adds up the quantities of every open expiry of the root held in one direction, listing each in the detail', () => {
    const positions = [position('RTY 03-26', 'long', 2), position('ES 03-26', 'long', 5), position('RTY 06-26', 'long', 1)];
    expect(readingFor(positions, 'Sim101', 'RTY1!', AT, REF)).toEqual({
      kind: 'open',
      takenAt: AT,
      direction: 'long',
      quantity: 3,
      detail: 'Long 2 RTY 03-26, Long 1 RTY 06-26',
    });
    const shorts = [position('RTY 03-26', 'short', 4), position('RTY 06-26', 'short', 3)];
    expect(readingFor(shorts, 'Sim101', 'RTY', AT, REF)).toMatchObject({ kind: 'open', direction: 'short', quantity: 7 });
  });

  it('reads unknown when expiries of the root are held in opposite directions: no one direction describes the account', () => {
    const positions = [position('RTY 03-26', 'long', 2), position('RTY 06-26', 'short', 2)];
    expect(readingFor(positions, 'Sim101', 'RTY1!', AT, REF)).toEqual({
      kind: 'unknown',
      takenAt: AT,
      reason: 'mixed-positions: Long 2 RTY 03-26, Short 2 RTY 06-26',
    });
    const uneven = [position('RTY 06-26', 'short', 1), position('RTY 03-26', 'long', 3), position('RTY 09-26', 'flat', 0)];
    expect(readingFor(uneven, 'Sim101', 'RTY', AT, REF)).toEqual({
      kind: 'unknown',
      takenAt: AT,
      reason: 'mixed-positions: Short 1 RTY 06-26, Long 3 RTY 03-26',
    });
  });

  it('does not count an opposite position of another product or another account as mixed', () => {
    const positions = [position('RTY 03-26', 'long', 2), position('M2K 03-26', 'short', 1), position('RTY 06-26', 'short', 1, 'Sim102')];
    expect(readingFor(positions, 'Sim101', 'RTY', AT, REF)).toMatchObject({ kind: 'open', direction: 'long', quantity: 2 });
  });

  it('reads flat when nothing is open', () => {
    expect(readingFor([], 'Sim101', 'RTY1!', AT, REF)).toEqual({ kind: 'flat', takenAt: AT });
  });

  it('reads flat when only other products are open: MES is not ES, M2K is not RTY', () => {
    const positions = [position('MES 03-26', 'long', 3), position('M2K 03-26', 'short', 1), position('NQ 03-26', 'long', 1)];
    expect(readingFor(positions, 'Sim101', 'ES 03-26', AT, REF)).toEqual({ kind: 'flat', takenAt: AT });
    expect(readingFor(positions, 'Sim101', 'RTYH26', AT, REF)).toEqual({ kind: 'flat', takenAt: AT });
  });

  it('reads flat for Flat entries and zero quantities of the root', () => {
    const positions = [position('RTY 03-26', 'flat', 0), position('RTY 06-26', 'long', 0)];
    expect(readingFor(positions, 'Sim101', 'RTY', AT, REF)).toEqual({ kind: 'flat', takenAt: AT });
  });

  it('ignores positions of other accounts', () => {
    expect(readingFor([position('RTY 03-26', 'long', 2, 'Sim102')], 'Sim101', 'RTY', AT, REF)).toEqual({
      kind: 'flat',
      takenAt: AT,
    });
  });

  it('compares account names case-insensitively', () => {
    expect(readingFor([position('RTY 03-26', 'long', 2, 'SIM101')], 'sim101', 'RTY', AT, REF).kind).toBe('open');
  });

  it('reads unknown when the alert instrument cannot be read', () => {
    expect(readingFor([], 'Sim101', 'RT Y', AT, REF)).toEqual({ kind: 'unknown', takenAt: AT, reason: 'instrument-unreadable' });
  });

  it('reads unknown when an open position of the account cannot be read', () => {
    const positions = [position('EUR/USD', 'long', 1000)];
    expect(readingFor(positions, 'Sim101', 'RTY', AT, REF)).toEqual({ kind: 'unknown', takenAt: AT, reason: 'instrument-unreadable' });
  });

  it('ignores unreadable positions that are flat or on other accounts', () => {
    const positions = [position('EUR/USD', 'flat', 0), position('EUR/USD', 'long', 1, 'Other')];
    expect(readingFor(positions, 'Sim101', 'RTY', AT, REF)).toEqual({ kind: 'flat', takenAt: AT });
  });

  const side = fc.constantFrom<ApiPosition['marketPosition']>('long', 'short', 'flat');
  const anyPosition = fc.record({
    account: fc.constantFrom('Sim101', 'sim101', 'Other'),
    instrument: fc.constantFrom('ES 03-26', 'MES 06-26', 'RTY 06-26', 'RTY 09-26', 'M2K 03-26', 'NQ 09-26'),
    marketPosition: side,
    quantity: fc.integer({ min: 0, max: 5 }),
  });

  it('never reads flat while a same-root position is open, whatever else the book holds', () => {
    fc.assert(
      fc.property(fc.array(anyPosition), fc.constantFrom('long', 'short') as fc.Arbitrary<'long' | 'short'>, fc.integer({ min: 1, max: 9 }), (rest, s, q) => {
        const reading = readingFor([...rest, position('RTY 03-26', s, q)], 'SIM101', 'RTY1!', AT, REF);
        expect(reading.kind).not.toBe('flat');
      }),
    );
  });

  it('reads the one direction and the total of the root on the account, or unknown when directions differ', () => {
    fc.assert(
      fc.property(fc.array(anyPosition), (book) => {
        const mine = book.filter(
          (p) => p.account.toLowerCase() === 'sim101' && p.instrument.startsWith('RTY ') && p.marketPosition !== 'flat' && p.quantity > 0,
        );
        const reading = readingFor(book, 'Sim101', 'RTY1!', AT, REF);
        const directions = new Set(mine.map((p) => p.marketPosition));
        if (mine.length === 0) expect(reading).toEqual({ kind: 'flat', takenAt: AT });
        else if (directions.size > 1) expect(reading).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/^mixed-positions: /) });
        else {
          expect(reading).toMatchObject({
            kind: 'open',
            direction: mine[0]?.marketPosition,
            quantity: mine.reduce((sum, p) => sum + p.quantity, 0),
          });
        }
      }),
    );
  });
});
