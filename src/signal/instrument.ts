// Instrument names in the forms TradingView, CME feeds and NinjaTrader use, reduced to
// (root, month, year). See docs/external-systems.md §4: roots compare by exact
// equality (ES is not MES), and a name the relay cannot read is never treated as "flat".
// Pure: no node: imports, no clock (the caller passes the reference year).

export interface InstrumentName {
  /** Product root, upper case: 'RTY', 'M2K', '6E'. */
  root: string;
  /** 1..12, or null when the name carries no expiry (root only, continuous). */
  month: number | null;
  /** 4-digit year, or null when the name carries no expiry. */
  year: number | null;
  /** TradingView continuous symbol such as `RTY1!`. */
  continuous: boolean;
}

const MONTH_CODES = 'FGHJKMNQUVXZ';
const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const ROOT = '([A-Z0-9]{1,5})';
const NT8_DATED = new RegExp(`^${ROOT}\\s+(\\d{1,2})-(\\d{2})$`);
const NT8_MONTH_NAME = new RegExp(`^${ROOT}\\s+(${MONTH_NAMES.join('|')})\\s?(\\d{2})$`);
const CONTINUOUS = new RegExp(`^${ROOT}([1-9])!$`);
// The month code is the last letter before the trailing digits (greedy root).
const CME_CODE = new RegExp(`^${ROOT}([${MONTH_CODES}])(\\d+)$`);
const ROOT_ONLY = new RegExp(`^${ROOT}$`);
const EXCHANGE_PREFIX = /^[A-Z0-9_]+$/;

/**
 * Reads `RTY 03-26`, `ES SEP25`, `ES SEP 25`, `RTY`, `RTY1!`, `ESU5`, `RTYH26`, `RTYH2026`,
 * optionally behind an exchange prefix (`CME_MINI:RTYH2026`). Case-insensitive, trimmed.
 * A 1-digit year resolves into [referenceYear-2, referenceYear+7]; a 2-digit year is 20YY.
 * Returns null for anything else.
 */
export function parseInstrument(name: string, referenceYear: number): InstrumentName | null {
  const text = stripExchangePrefix(name.trim().toUpperCase());
  if (text === null) return null;

  const dated = NT8_DATED.exec(text);
  if (dated) return dated_(dated[1]!, Number(dated[2]), 2000 + Number(dated[3]));

  const named = NT8_MONTH_NAME.exec(text);
  if (named) return dated_(named[1]!, MONTH_NAMES.indexOf(named[2]!) + 1, 2000 + Number(named[3]));

  const continuous = CONTINUOUS.exec(text);
  if (continuous) return { root: continuous[1]!, month: null, year: null, continuous: true };

  const code = CME_CODE.exec(text);
  if (code) {
    const year = resolveYear(code[3]!, referenceYear);
    return year === null ? null : dated_(code[1]!, MONTH_CODES.indexOf(code[2]!) + 1, year);
  }

  if (ROOT_ONLY.test(text)) return { root: text, month: null, year: null, continuous: false };
  return null;
}

/** The ownership key: the upper-case product root (`RTY` for `RTYH26`), or null if unreadable. */
export function instrumentKey(name: string, referenceYear: number): string | null {
  return parseInstrument(name, referenceYear)?.root ?? null;
}

/** Same product (exact root) and, when both sides carry an expiry, the same expiry. */
export function sameContract(a: InstrumentName, b: InstrumentName): boolean {
  if (a.root !== b.root) return false;
  if (!hasExpiry(a) || !hasExpiry(b)) return true;
  return a.month === b.month && a.year === b.year;
}

/** NinjaTrader's full name, `RTY 03-26`; null when the name carries no expiry. */
export function toNinjaTraderName(i: InstrumentName): string | null {
  if (i.month === null || i.year === null) return null;
  return `${i.root} ${pad2(i.month)}-${pad2(((i.year % 100) + 100) % 100)}`;
}

function stripExchangePrefix(text: string): string | null {
  const colon = text.indexOf(':');
  if (colon === -1) return text;
  const prefix = text.slice(0, colon);
  const rest = text.slice(colon + 1).trim();
  return EXCHANGE_PREFIX.test(prefix) && !rest.includes(':') ? rest : null;
}

function dated_(root: string, month: number, year: number): InstrumentName | null {
  if (!Number.isInteger(month) || month < 1 || month > 12) return null;
  return { root, month, year, continuous: false };
}

function resolveYear(digits: string, referenceYear: number): number | null {
  if (digits.length === 4) return Number(digits);
  if (digits.length === 2) return 2000 + Number(digits);
  if (digits.length !== 1) return null;
  const d = Number(digits);
  for (let year = referenceYear - 2; year <= referenceYear + 7; year++) {
    if (((year % 10) + 10) % 10 === d) return year;
  }
  return null; // unreachable: ten consecutive years cover every last digit
}

function hasExpiry(i: InstrumentName): boolean {
  return i.month !== null && i.year !== null;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
