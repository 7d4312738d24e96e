import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { instrumentKey, parseInstrument, sameContract, toNinjaTraderName, type InstrumentName } from '../../src/signal/instrument.js';

const REF = 2026;
const MONTH_CODES = 'FGHJKMNQUVXZ';
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

function dated(root: string, month: number, year: number): InstrumentName {
  return { root, month, year, continuous: false };
}
function rootOnly(root: string): InstrumentName {
  return { root, month: null, year: null, continuous: false };
}
function continuous(root: string): InstrumentName {
  return { root, month: null, year: null, continuous: true };
}

describe('parseInstrument', () => {
  it.each([
    // NT8 dated
    ['RTY 03-26', dated('RTY', 3, 2026)],
    ['MES 12-25', dated('MES', 12, 2025)],
    ['rty 03-26', dated('RTY', 3, 2026)],
    ['  RTY 03-26  ', dated('RTY', 3, 2026)],
    ['RTY 3-26', dated('RTY', 3, 2026)],
    ['6E 06-26', dated('6E', 6, 2026)],
    // NT8 month name
    ['ES SEP25', dated('ES', 9, 2025)],
    ['ES SEP 25', dated('ES', 9, 2025)],
    ['es sep25', dated('ES', 9, 2025)],
    ['NQ JAN27', dated('NQ', 1, 2027)],
    // root only
    ['RTY', rootOnly('RTY')],
    ['M2K', rootOnly('M2K')],
    ['6E', rootOnly('6E')],
    ['E7', rootOnly('E7')],
    // J is a month code, but a code needs a non-empty root before it: J7 (Japanese yen E-micro) is a root.
    ['J7', rootOnly('J7')],
    ['H26', rootOnly('H26')],
    ['es', rootOnly('ES')],
    // TradingView continuous
    ['RTY1!', continuous('RTY')],
    ['RTY2!', continuous('RTY')],
    ['M2K1!', continuous('M2K')],
    ['CME_MINI:ES1!', continuous('ES')],
    // CME codes
    ['ESU5', dated('ES', 9, 2025)],
    ['RTYH26', dated('RTY', 3, 2026)],
    ['RTYH2026', dated('RTY', 3, 2026)],
    ['RTYH6', dated('RTY', 3, 2026)],
    ['6EH26', dated('6E', 3, 2026)],
    ['M2KZ25', dated('M2K', 12, 2025)],
    ['esz5', dated('ES', 12, 2025)],
    ['CME_MINI:RTYH2026', dated('RTY', 3, 2026)],
    ['cme_mini:rtyh26', dated('RTY', 3, 2026)],
    ['CME_MINI: RTYH26', dated('RTY', 3, 2026)],
  ])('reads %j', (name, expected) => {
    expect(parseInstrument(name, REF)).toEqual(expected);
  });

  it.each([
    [''],
    ['   '],
    ['ES 13-26'],
    ['ES 00-26'],
    ['ES 03-2026'],
    ['ES FOO25'],
    ['ESSEP25'],
    ['RT Y'],
    ['R TY 03-26'],
    ['RTY-03-26'],
    ['RTY.H26'],
    ['RTY$'],
    ['RTY!'],
    ['RTY0!'],
    ['RTYH202'],
    ['RTYH20266'],
    ['ABCDEF'],
    ['ABCDEFH26'],
    [':RTYH26'],
    ['CME-MINI:RTYH26'],
    ['A:B:RTYH26'],
  ])('rejects %j', (name) => {
    expect(parseInstrument(name, REF)).toBeNull();
  });

  it.each([
    [2026, '6', 2026],
    [2026, '4', 2024],
    [2026, '3', 2033],
    [2026, '5', 2025],
    [2029, '6', 2036],
    [2020, '9', 2019],
  ])('resolves a one-digit year against reference year %i: %s → %i', (ref, digit, year) => {
    expect(parseInstrument(`ESH${digit}`, ref)).toEqual(dated('ES', 3, year));
  });

  it('maps every CME month code to its month', () => {
    [...MONTH_CODES].forEach((code, index) => {
      expect(parseInstrument(`ES${code}26`, REF)?.month).toBe(index + 1);
    });
  });

  it('maps every month name to its month', () => {
    MONTH_NAMES.forEach((name, index) => {
      expect(parseInstrument(`ES ${name}26`, REF)?.month).toBe(index + 1);
    });
  });
});

describe('instrumentKey', () => {
  it.each([
    ['RTY 03-26', 'RTY'],
    ['rtyh26', 'RTY'],
    ['RTY1!', 'RTY'],
    ['CME_MINI:MESU5', 'MES'],
    ['M2K', 'M2K'],
    ['ES 13-26', null],
    ['', null],
  ])('keys %j by %j', (name, key) => {
    expect(instrumentKey(name, REF)).toBe(key);
  });
});

describe('sameContract', () => {
  it('matches the same root and expiry in different forms', () => {
    expect(sameContract(parseInstrument('RTYH2026', REF)!, parseInstrument('RTY 03-26', REF)!)).toBe(true);
  });

  it('does not match different expiries of one root', () => {
    expect(sameContract(parseInstrument('RTYH26', REF)!, parseInstrument('RTY 06-26', REF)!)).toBe(false);
    expect(sameContract(parseInstrument('RTYH26', REF)!, parseInstrument('RTYH27', REF)!)).toBe(false);
  });

  it('matches any expiry when one side has none', () => {
    expect(sameContract(parseInstrument('RTY1!', REF)!, parseInstrument('RTY 06-26', REF)!)).toBe(true);
    expect(sameContract(parseInstrument('RTY 06-26', REF)!, parseInstrument('RTY', REF)!)).toBe(true);
  });

  it.each([
    ['ES', 'MES'],
    ['NQ', 'MNQ'],
    ['RTY', 'M2K'],
    ['ES 03-26', 'MES 03-26'],
    ['ES1!', 'MESH26'],
  ])('never matches %j with %j', (a, b) => {
    expect(sameContract(parseInstrument(a, REF)!, parseInstrument(b, REF)!)).toBe(false);
    expect(sameContract(parseInstrument(b, REF)!, parseInstrument(a, REF)!)).toBe(false);
  });
});

describe('toNinjaTraderName', () => {
  it('renders the NT8 dated form', () => {
    expect(toNinjaTraderName(dated('RTY', 3, 2026))).toBe('RTY 03-26');
    expect(toNinjaTraderName(dated('6E', 12, 2030))).toBe('6E 12-30');
  });

  it('returns null without an expiry', () => {
    expect(toNinjaTraderName(rootOnly('RTY'))).toBeNull();
    expect(toNinjaTraderName(continuous('RTY'))).toBeNull();
  });
});

describe('instrument properties', () => {
  const rootArb = fc.stringMatching(/^[A-Z0-9]{1,5}$/);
  // A bare root that ends in <month code><digits> reads as a CME code (ESU5), so it is not a root-only form.
  const bareRootArb = rootArb.filter((r) => !/.[FGHJKMNQUVXZ]\d+$/.test(r));
  const monthArb = fc.integer({ min: 1, max: 12 });
  const nearYearArb = fc.integer({ min: REF - 2, max: REF + 7 });
  const centuryYearArb = fc.integer({ min: 2000, max: 2099 });
  const decorate = fc.record({
    lower: fc.boolean(),
    prefix: fc.constantFrom('', 'CME_MINI:', 'CME:', 'NYMEX_DL:'),
    pad: fc.constantFrom('', ' ', '  \t'),
  });

  function render(text: string, d: { lower: boolean; prefix: string; pad: string }): string {
    const full = `${d.pad}${d.prefix}${text}${d.pad}`;
    return d.lower ? full.toLowerCase() : full;
  }

  const yy = (y: number) => String(y % 100).padStart(2, '0');
  const mm = (m: number) => String(m).padStart(2, '0');
  const forms: Array<[string, (r: string, m: number, y: number) => string, fc.Arbitrary<number>]> = [
    ['NT8 dated', (r, m, y) => `${r} ${mm(m)}-${yy(y)}`, centuryYearArb],
    ['NT8 month name', (r, m, y) => `${r} ${MONTH_NAMES[m - 1]}${yy(y)}`, centuryYearArb],
    ['NT8 month name with space', (r, m, y) => `${r} ${MONTH_NAMES[m - 1]} ${yy(y)}`, centuryYearArb],
    ['CME 1-digit year', (r, m, y) => `${r}${MONTH_CODES[m - 1]}${y % 10}`, nearYearArb],
    ['CME 2-digit year', (r, m, y) => `${r}${MONTH_CODES[m - 1]}${yy(y)}`, centuryYearArb],
    ['CME 4-digit year', (r, m, y) => `${r}${MONTH_CODES[m - 1]}${y}`, centuryYearArb],
  ];

  it.each(forms)('every (root, month, year) in %s form parses back to the same triple', (_, form, yearArb) => {
    fc.assert(
      fc.property(rootArb, monthArb, yearArb, decorate, (root, month, year, d) => {
        expect(parseInstrument(render(form(root, month, year), d), REF)).toEqual(dated(root, month, year));
      }),
    );
  });

  it('every bare root parses as root only, and every continuous symbol as continuous', () => {
    fc.assert(
      fc.property(bareRootArb, fc.integer({ min: 1, max: 9 }), decorate, (root, n, d) => {
        expect(parseInstrument(render(root, d), REF)).toEqual(rootOnly(root));
        expect(parseInstrument(render(`${root}${n}!`, d), REF)).toEqual(continuous(root));
      }),
    );
  });

  it('toNinjaTraderName parses back to the same contract', () => {
    fc.assert(
      fc.property(rootArb, monthArb, centuryYearArb, (root, month, year) => {
        const name = toNinjaTraderName(dated(root, month, year));
        expect(name).not.toBeNull();
        expect(parseInstrument(name!, REF)).toEqual(dated(root, month, year));
      }),
    );
  });

  it('two different roots are never the same contract, whatever the expiry', () => {
    const nameArb = fc.oneof(
      fc.tuple(rootArb, monthArb, nearYearArb).map(([r, m, y]) => dated(r, m, y)),
      rootArb.map(rootOnly),
      rootArb.map(continuous),
    );
    fc.assert(
      fc.property(nameArb, nameArb, (a, b) => {
        fc.pre(a.root !== b.root);
        expect(sameContract(a, b)).toBe(false);
      }),
    );
  });

  it('a micro root is never its full-size root (ES/MES, NQ/MNQ, RTY/M2K) in any form', () => {
    const pairArb = fc.constantFrom(['ES', 'MES'], ['NQ', 'MNQ'], ['YM', 'MYM'], ['RTY', 'M2K'], ['CL', 'MCL']);
    fc.assert(
      fc.property(pairArb, monthArb, nearYearArb, fc.integer({ min: 0, max: 5 }), (pair, month, year, formIndex) => {
        const [full, micro] = pair as [string, string];
        const form = forms[formIndex]![1];
        const a = parseInstrument(form(full, month, year), REF)!;
        const b = parseInstrument(form(micro, month, year), REF)!;
        expect(sameContract(a, b)).toBe(false);
        expect(instrumentKey(form(full, month, year), REF)).not.toBe(instrumentKey(form(micro, month, year), REF));
      }),
    );
  });

  it('sameContract is symmetric and reflexive', () => {
    const nameArb = fc.oneof(
      fc.tuple(fc.constantFrom('ES', 'MES', 'RTY'), monthArb, nearYearArb).map(([r, m, y]) => dated(r, m, y)),
      fc.constantFrom('ES', 'MES', 'RTY').map(rootOnly),
    );
    fc.assert(
      fc.property(nameArb, nameArb, (a, b) => {
        expect(sameContract(a, b)).toBe(sameContract(b, a));
        expect(sameContract(a, a)).toBe(true);
      }),
    );
  });

  it('never throws, and anything it reads has a well-formed root and expiry', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.integer({ min: 2000, max: 2100 }), (text, ref) => {
        const parsed = parseInstrument(text, ref);
        if (parsed === null) return;
        expect(parsed.root).toMatch(/^[A-Z0-9]{1,5}$/);
        expect(parsed.month === null).toBe(parsed.year === null);
        if (parsed.month !== null) expect(parsed.month).toBeGreaterThanOrEqual(1);
        if (parsed.month !== null) expect(parsed.month).toBeLessThanOrEqual(12);
        expect(instrumentKey(text, ref)).toBe(parsed.root);
      }),
    );
  });

  it('a name with a space, dot or dash inside the root is never read', () => {
    fc.assert(
      fc.property(rootArb, rootArb, fc.constantFrom(' ', '.', '-', '/', '#'), (a, b, sep) => {
        expect(parseInstrument(`${a}${sep}${b}`, REF)).toBeNull();
      }),
    );
  });
});
