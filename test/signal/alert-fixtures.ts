// Shared fast-check generators for alert texts: valid fields rendered with every layout
// TradingView users send (one line, one field per line, CRLF, stray blanks).
import fc from 'fast-check';

export interface RenderedField {
  name: string;
  value: string;
  /** Blanks before the name, between name and '=', after '=', after the value. */
  pads: [string, string, string, string];
  /** What ends the field: a separator for all but the last, possibly '' for the last. */
  separator: string;
}

const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

export const fieldName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/).filter((name) => !RESERVED.has(name));

const valueChars = [...'aZ09 \t=-.,:!/@#%+_()[]{}éß中😀'];

export const fieldValue = fc
  .string({ unit: fc.constantFrom(...valueChars), maxLength: 20 })
  .map((value) => value.replace(/^[ \t]+/, '').replace(/[ \t]+$/, ''))
  .filter((value) => !value.includes('{{'));

const blanks = fc.constantFrom('', '', ' ', '  ', '\t', ' \t ');
export const separator = fc.constantFrom(';', '; ', ';\n', ';\r\n', '\n', '\r\n', ' ; ', ';;', ';\n\n');
const lastSeparator = fc.constantFrom('', ';', '; ', ';\n', '\n', ';\r\n');

export const renderedFields = fc
  .uniqueArray(fc.tuple(fieldName, fieldValue), {
    minLength: 1,
    maxLength: 12,
    selector: ([name]) => name.toLowerCase(),
  })
  .chain((pairs) =>
    fc.tuple(
      fc.constant(pairs),
      fc.array(fc.tuple(blanks, blanks, blanks, blanks), {
        minLength: pairs.length,
        maxLength: pairs.length,
      }),
      fc.array(separator, { minLength: pairs.length - 1, maxLength: pairs.length - 1 }),
      lastSeparator,
    ),
  )
  .map(([pairs, pads, separators, last]): RenderedField[] =>
    pairs.map(([name, value], index) => ({
      name,
      value,
      pads: pads[index] ?? ['', '', '', ''],
      separator: separators[index] ?? last,
    })),
  );

export function render(fields: readonly RenderedField[]): string {
  return fields.map((field) => `${field.pads[0]}${core(field)}${field.separator}`).join('');
}

/** The field as written, from its name through the blanks after its value. */
export function core(field: RenderedField): string {
  const [, beforeEquals, afterEquals, afterValue] = field.pads;
  return `${field.name}${beforeEquals}=${afterEquals}${field.value}${afterValue}`;
}
