import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertParseError } from '../../src/signal/alert-parse-error.js';
import { parseAlertText } from '../../src/signal/parse-alert.js';
import { RELAY_FIELDS, readRelayAlert } from '../../src/signal/read-relay-alert.js';

const read = (text: string) => readRelayAlert(parseAlertText(text));

function reasonFor(text: string): string {
  try {
    read(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AlertParseError);
    return (error as AlertParseError).message;
  }
  throw new Error('expected an AlertParseError');
}

const STRATEGY_ALERT = [
  'key=k',
  'relay_user=bob',
  'relay_id=trend-A',
  'relay_secret=hush',
  'command=PLACE',
  'account=Sim101, sim102 ,,',
  'instrument= ES 03-26 ',
  'action=Buy',
  'qty=2',
  'order_type=limit',
  'tif=DAY',
  'cancel_after=5',
  'market_position=LONG',
  'prev_market_position=flat',
  'market_position_size=2',
  'prev_market_position_size=0',
].join(';\n');

describe('readRelayAlert', () => {
  it('reads a strategy alert, normalising case and blanks', () => {
    expect(read(STRATEGY_ALERT)).toEqual({
      relayUser: 'bob',
      relayId: 'trend-A',
      accounts: ['Sim101', 'sim102'],
      instrument: 'ES 03-26',
      marketPosition: 'long',
      prevMarketPosition: 'flat',
      action: 'buy',
      orderType: 'LIMIT',
      cancelAfterMinutes: 5,
      marketPositionSize: 2,
      prevMarketPositionSize: 0,
      relaySecret: 'hush',
    });
  });

  it('reads a passthrough alert with only the relay fields', () => {
    expect(read('relay_user=u.1@x:y; relay_id=A_b-2; command=FLATTENEVERYTHING;')).toEqual({
      relayUser: 'u.1@x:y',
      relayId: 'A_b-2',
      accounts: [],
      instrument: null,
      marketPosition: null,
      prevMarketPosition: null,
      action: null,
      orderType: null,
      cancelAfterMinutes: null,
      marketPositionSize: null,
      prevMarketPositionSize: null,
      relaySecret: null,
    });
  });

  it('reads an empty instrument, order type and account list as absent', () => {
    const alert = read('relay_user=u; relay_id=A; instrument=; order_type=; account= , ;');
    expect(alert).toMatchObject({ instrument: null, orderType: null, accounts: [] });
  });

  it('reads only buy and sell as actions', () => {
    expect(read('relay_user=u; relay_id=A; action=SELL').action).toBe('sell');
    expect(read('relay_user=u; relay_id=A; action=buytocover').action).toBeNull();
    expect(read('relay_user=u; relay_id=A; action=').action).toBeNull();
  });

  it.each([
    ['5', 5],
    ['1.5', 1.5],
    ['60', 60],
  ])('reads cancel_after=%j as %j minutes', (value, expected) => {
    expect(read(`relay_user=u; relay_id=A; cancel_after=${value}`).cancelAfterMinutes).toBe(expected);
  });

  it.each(['0', '-3', '', '0x10', 'Infinity', '1e3', '5 min', '61'])('refuses cancel_after=%j: CrossTrade takes 1-60 minutes', (value) => {
    expect(() => read(`relay_user=u; relay_id=A; cancel_after=${value}`)).toThrow('cancel_after must be a number of minutes from 1 to 60');
  });

  it('refuses an account listed twice, in any case: CrossTrade would place the order twice', () => {
    expect(() => read('relay_user=u; relay_id=A; account=Sim101,SIM101')).toThrow('account "SIM101" is listed twice: CrossTrade would place the order twice');
  });

  it.each([
    ['0', 0],
    ['-0', 0],
    ['3', 3],
    ['0.25', 0.25],
    ['-1', null],
    ['', null],
    ['NaN', null],
    ['{x}', null],
  ])('reads market_position_size=%j as %j', (value, expected) => {
    const alert = read(`relay_user=u; relay_id=A; market_position_size=${value}; prev_market_position_size=${value}`);
    expect(alert.marketPositionSize).toBe(expected);
    expect(alert.prevMarketPositionSize).toBe(expected);
  });

  it('keeps an empty relay_secret as present', () => {
    expect(read('relay_user=u; relay_id=A; relay_secret=').relaySecret).toBe('');
  });

  describe('rejects', () => {
    it.each([
      ['relay_id=A', 'missing relay_user'],
      ['relay_user=u', 'missing relay_id'],
      ['relay_user=; relay_id=A', 'relay_user must be 1-64 letters, digits or _.@:-'],
      ['relay_user=bob smith; relay_id=A', 'relay_user must be 1-64 letters, digits or _.@:-'],
      [`relay_user=u; relay_id=${'a'.repeat(65)}`, 'relay_id must be 1-64 letters, digits or _.@:-'],
      ['relay_user=u; relay_id=A/B', 'relay_id must be 1-64 letters, digits or _.@:-'],
      ['relay_user=u; relay_id=A; market_position=sideways; prev_market_position=flat', 'market_position must be long, short or flat (got "sideways")'],
      ['relay_user=u; relay_id=A; market_position=long; prev_market_position=', 'prev_market_position must be long, short or flat (got "")'],
      [
        'relay_user=u; relay_id=A; account=S; instrument=ES; market_position=long',
        'market_position and prev_market_position go together: prev_market_position is missing',
      ],
      [
        'relay_user=u; relay_id=A; account=S; instrument=ES; prev_market_position=long',
        'market_position and prev_market_position go together: market_position is missing',
      ],
      [
        'relay_user=u; relay_id=A; instrument=ES; market_position=long; prev_market_position=flat',
        'missing account: the relay arbitrates per account and instrument',
      ],
      [
        'relay_user=u; relay_id=A; account=,; instrument=ES; market_position=long; prev_market_position=flat',
        'missing account: the relay arbitrates per account and instrument',
      ],
      [
        'relay_user=u; relay_id=A; account=S; market_position=long; prev_market_position=flat',
        'missing instrument: the relay arbitrates per account and instrument',
      ],
    ])('%j', (text, reason) => {
      expect(reasonFor(text)).toBe(reason);
    });

    it('a market position with a long value, echoing at most 40 characters', () => {
      expect(reasonFor(`relay_user=u; relay_id=A; market_position=${'x'.repeat(50)}; prev_market_position=flat`)).toBe(
        `market_position must be long, short or flat (got "${'x'.repeat(40)}…")`,
      );
    });
  });

  it('reads market positions in any case', () => {
    const position = fc.constantFrom('long', 'short', 'flat');
    const anyCase = (word: string) =>
      fc
        .array(fc.boolean(), { minLength: word.length, maxLength: word.length })
        .map((upper) => [...word].map((char, index) => (upper[index] ? char.toUpperCase() : char)).join(''));
    fc.assert(
      fc.property(
        position.chain((now) => fc.tuple(fc.constant(now), anyCase(now))),
        position.chain((prev) => fc.tuple(fc.constant(prev), anyCase(prev))),
        ([now, nowWritten], [prev, prevWritten]) => {
          const alert = read(`relay_user=u; relay_id=A; account=S; instrument=ES; market_position=${nowWritten}; prev_market_position=${prevWritten}`);
          expect([alert.marketPosition, alert.prevMarketPosition]).toEqual([now, prev]);
        },
      ),
    );
  });

  it('lists the relay fields that are stripped before forwarding', () => {
    expect([...RELAY_FIELDS].sort()).toEqual(['relay_id', 'relay_secret', 'relay_user']);
  });
});
