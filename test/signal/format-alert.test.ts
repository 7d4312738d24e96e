import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatForward, removeFields } from '../../src/signal/format-alert.js';
import { parseAlertText } from '../../src/signal/parse-alert.js';
import { RELAY_FIELDS } from '../../src/signal/read-relay-alert.js';
import { core, render, renderedFields, type RenderedField } from './alert-fixtures.js';

const NONE: ReadonlySet<string> = new Set();

describe('formatForward', () => {
  it('drops relay fields and puts key first', () => {
    const alert = parseAlertText(
      'relay_user=bob; relay_id=A; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY;',
    );
    expect(formatForward(alert, 'K', RELAY_FIELDS)).toBe(
      'key=K; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY;',
    );
  });

  it('keeps one field per line when the alert was written that way', () => {
    const alert = parseAlertText('relay_user=bob;\r\nrelay_id=A;\r\ncommand=FLATTEN;\r\naccount=Sim101;\r\n');
    expect(formatForward(alert, 'K', RELAY_FIELDS)).toBe('key=K;\ncommand=FLATTEN;\r\naccount=Sim101;');
  });

  it('uses a space when the only line break is after the last field', () => {
    const alert = parseAlertText('command=FLATTEN; account=Sim101;\n');
    expect(formatForward(alert, 'K', NONE)).toBe('key=K; command=FLATTEN; account=Sim101;');
  });

  it("replaces the alert's own key with the configured one", () => {
    const alert = parseAlertText('KEY=user-typed; command=FLATTEN;');
    expect(formatForward(alert, 'K', NONE)).toBe('key=K; command=FLATTEN;');
  });

  it('ends every kept field with ; when the alert ended it with a line break alone', () => {
    expect(formatForward(parseAlertText('command=FLATTEN; account=Sim101'), 'K', NONE)).toBe('key=K; command=FLATTEN; account=Sim101;');
    expect(formatForward(parseAlertText('command=FLATTEN\naccount=Sim101\nrelay_id=A'), 'K', RELAY_FIELDS)).toBe('key=K;\ncommand=FLATTEN;\naccount=Sim101;');
  });

  it('sends only the key when nothing else remains', () => {
    expect(formatForward(parseAlertText('relay_user=bob; key=x'), 'K', RELAY_FIELDS)).toBe('key=K;');
  });

  it('refuses a configured key that would split into other fields, without echoing it', () => {
    const alert = parseAlertText('command=FLATTEN;');
    for (const bad of ['', '  ', 'a;b', 'a\nb']) {
      expect(() => formatForward(alert, bad, NONE)).toThrow('the CrossTrade key must be non-empty and hold no ";" or line break');
    }
  });

  it('puts key first and keeps every other field, in order, ending with ;', () => {
    fc.assert(
      fc.property(renderedFields, fc.array(fc.nat()), (fields, picks) => {
        const strip = pickKeys(fields, picks);
        const forwarded = formatForward(parseAlertText(render(fields)), 'K', strip);
        const kept = fields.filter((field) => !strip.has(field.name.toLowerCase()) && field.name.toLowerCase() !== 'key');
        expect(forwarded.endsWith(';')).toBe(true);
        expect(parseAlertText(forwarded).fields.map((field) => [field.name, field.value])).toEqual([
          ['key', 'K'],
          ...kept.map((field) => [field.name, field.value]),
        ]);
      }),
    );
  });
});

describe('removeFields', () => {
  it('keeps odd spacing and separators of kept fields byte for byte', () => {
    const alert = parseAlertText(' a = 1 ;;  relay_user=bob ;\tb=2\r\n\r\nrelay_id=A\nc = 3 ');
    expect(removeFields(alert, RELAY_FIELDS)).toBe('a = 1 ;;  b=2\r\n\r\nc = 3');
  });

  it('returns the text without leading separators or trailing blanks when nothing is stripped', () => {
    const alert = parseAlertText(';\n a=1; b=2; \r\n');
    expect(removeFields(alert, NONE)).toBe('a=1; b=2;');
  });

  it('keeps a trailing no-break space that is part of the last value', () => {
    const alert = parseAlertText('a=1; comment=x\u00a0');
    expect(removeFields(alert, NONE)).toBe('a=1; comment=x\u00a0');
  });

  it('returns an empty string when every field is stripped', () => {
    expect(removeFields(parseAlertText('relay_user=bob;\nrelay_id=A;'), RELAY_FIELDS)).toBe('');
  });

  it("keeps every other field's exact text, separators and order", () => {
    fc.assert(
      fc.property(renderedFields, fc.array(fc.nat()), (fields, picks) => {
        const strip = pickKeys(fields, picks);
        const expected = fields
          .map((field, index) => ({ field, text: core(field) + field.separator + (fields[index + 1]?.pads[0] ?? '') }))
          .filter(({ field }) => !strip.has(field.name.toLowerCase()))
          .map(({ text }) => text)
          .join('')
          .replace(/[ \t\r\n]+$/, '');
        expect(removeFields(parseAlertText(render(fields)), strip)).toBe(expected);
      }),
    );
  });
});

function pickKeys(fields: readonly RenderedField[], picks: readonly number[]): Set<string> {
  return new Set(
    picks.flatMap((pick) => {
      const field = fields[pick % fields.length];
      return field === undefined ? [] : [field.name.toLowerCase()];
    }),
  );
}
