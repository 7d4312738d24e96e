import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertParseError } from '../../src/signal/alert-parse-error.js';
import { parseAlertBody } from '../../src/signal/parse-alert-body.js';
import { parseAlertJsonText, parseAlertText, type ParsedAlert } from '../../src/signal/parse-alert.js';
import { render, renderedFields } from './alert-fixtures.js';

function reasonFor(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(AlertParseError);
    return (error as AlertParseError).message;
  }
  throw new Error('expected an AlertParseError');
}

const pairs = (alert: ParsedAlert) => alert.fields.map((field) => [field.key, field.value]);

const TEXT_ALERT = 'relay_user=bob; relay_id=A; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1;';
const JSON_ALERT = '{"relay_user":"bob","relay_id":"A","command":"PLACE","account":"Sim101","instrument":"ES 03-26","action":"BUY","qty":1}';
const EXPECTED = [
  ['relay_user', 'bob'],
  ['relay_id', 'A'],
  ['command', 'PLACE'],
  ['account', 'Sim101'],
  ['instrument', 'ES 03-26'],
  ['action', 'BUY'],
  ['qty', '1'],
];
const NOT_JSON = 'alert is not valid JSON';
const NOT_AN_OBJECT = 'alert JSON must be an object of fields';

describe('parseAlertBody', () => {
  it('reads a JSON object sent as text/plain, with a trailing newline', () => {
    const alert = parseAlertBody(`${JSON_ALERT}\n`, false);
    expect(pairs(alert)).toEqual(EXPECTED);
    expect(alert).toEqual(parseAlertJsonText(JSON_ALERT));
    expect(pairs(parseAlertBody(`${JSON_ALERT}\r\n`, false))).toEqual(EXPECTED);
  });

  it('reads a key=value alert sent as application/json as text', () => {
    const alert = parseAlertBody(TEXT_ALERT, true);
    expect(pairs(alert)).toEqual(EXPECTED);
    expect(alert).toEqual(parseAlertText(TEXT_ALERT));
    expect(pairs(parseAlertBody(TEXT_ALERT.replaceAll('; ', '\r\n'), true))).toEqual(EXPECTED);
  });

  it('reads each form the same whatever the declared type', () => {
    for (const declaredJson of [true, false]) {
      expect(parseAlertBody(JSON_ALERT, declaredJson)).toEqual(parseAlertJsonText(JSON_ALERT));
      expect(parseAlertBody(TEXT_ALERT, declaredJson)).toEqual(parseAlertText(TEXT_ALERT));
    }
  });

  it('reads JSON after leading whitespace and a byte order mark', () => {
    for (const lead of [' ', '\t', '\n', '\r\n', ' \r\n\t ', '\uFEFF', '\uFEFF \n']) {
      expect(pairs(parseAlertBody(`${lead}${JSON_ALERT}`, false))).toEqual(EXPECTED);
      expect(pairs(parseAlertBody(`${lead}${JSON_ALERT}`, true))).toEqual(EXPECTED);
    }
  });

  it('drops a byte order mark before a key=value alert; its text starts after it', () => {
    const alert = parseAlertBody(`\uFEFF${TEXT_ALERT}`, false);
    expect(pairs(alert)).toEqual(EXPECTED);
    expect(alert.text).toBe(TEXT_ALERT);
  });

  it('refuses a body starting with { that is not valid JSON, whatever the declared type', () => {
    for (const body of ['{relay_user=bob; relay_id=A}', '{"relay_user": ', '\n{"a":"1",}', '\uFEFF{']) {
      expect(reasonFor(() => parseAlertBody(body, false))).toBe(NOT_JSON);
      expect(reasonFor(() => parseAlertBody(body, true))).toBe(NOT_JSON);
    }
  });

  it('refuses a body starting with [: a JSON array is not an object of fields, anything else not JSON', () => {
    for (const declaredJson of [true, false]) {
      expect(reasonFor(() => parseAlertBody('[1,2]', declaredJson))).toBe(NOT_AN_OBJECT);
      expect(reasonFor(() => parseAlertBody(` [${JSON_ALERT}]\n`, declaredJson))).toBe(NOT_AN_OBJECT);
      expect(reasonFor(() => parseAlertBody('[ES] relay_user=bob; relay_id=A;', declaredJson))).toBe(NOT_JSON);
      expect(reasonFor(() => parseAlertBody('[', declaredJson))).toBe(NOT_JSON);
    }
  });

  it('answers a JSON scalar declared JSON as not an object, and declared text with the text reason', () => {
    for (const body of ['42', 'true', 'null', '"hello"', ' 1e999\n']) {
      expect(reasonFor(() => parseAlertBody(body, true))).toBe(NOT_AN_OBJECT);
    }
    expect(reasonFor(() => parseAlertBody('42', false))).toBe("field 1 has no '='");
    expect(reasonFor(() => parseAlertBody(JSON.stringify(TEXT_ALERT), true))).toBe(NOT_AN_OBJECT);
    expect(reasonFor(() => parseAlertBody(JSON.stringify(TEXT_ALERT), false))).toBe(
      'field 1 has an invalid name: use letters, digits and _, not starting with a digit',
    );
  });

  it('gives the text reason for a body that is neither JSON nor a valid text alert', () => {
    expect(reasonFor(() => parseAlertBody('relay_user bob', true))).toBe("field 1 has no '='");
    expect(reasonFor(() => parseAlertBody('', true))).toBe('alert is empty');
    expect(reasonFor(() => parseAlertBody(' \r\n', false))).toBe('alert is empty');
    expect(reasonFor(() => parseAlertBody('\uFEFF', true))).toBe('alert is empty');
  });

  it('keeps the JSON rules for a JSON body sent as text (repeated keys, non-scalar values)', () => {
    expect(reasonFor(() => parseAlertBody('{"qty":1,"QTY":2}\n', false))).toBe('field qty appears more than once');
    expect(reasonFor(() => parseAlertBody('{"qty":[1]}', false))).toBe('field "qty" must be a string, a finite number or a boolean');
  });

  it('reads any valid text alert as parseAlertText does, declared JSON or not', () => {
    fc.assert(
      fc.property(renderedFields, fc.boolean(), (fields, declaredJson) => {
        const text = render(fields);
        expect(parseAlertBody(text, declaredJson)).toEqual(parseAlertText(text));
      }),
    );
  });

  it('reads any JSON object of fields as parseAlertJsonText does, declared text or not, after any JSON whitespace', () => {
    const entries = fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/), fc.stringMatching(/^[A-Za-z0-9 .:-]{0,12}$/)), {
      minLength: 1,
      maxLength: 10,
      selector: ([name]) => name,
    });
    const blanks = fc.stringMatching(/^[ \t\r\n]{0,6}$/);
    fc.assert(
      fc.property(
        entries.filter((list) => list.every(([name]) => !['__proto__', 'constructor', 'prototype'].includes(name))),
        blanks,
        blanks,
        fc.boolean(),
        fc.boolean(),
        (list, before, after, bom, declaredJson) => {
          const json = JSON.stringify(Object.fromEntries(list));
          const alert = parseAlertBody(`${bom ? '\uFEFF' : ''}${before}${json}${after}`, declaredJson);
          expect(alert).toEqual(parseAlertJsonText(json));
        },
      ),
    );
  });

  it('throws nothing but AlertParseError with a one-line reason for arbitrary bodies', () => {
    const body = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.json({ maxDepth: 3 }),
      fc.string({ unit: fc.constantFrom(...'{}[]"=;:,\n\r \t\uFEFFa_1'), maxLength: 100 }),
    );
    fc.assert(
      fc.property(body, fc.boolean(), (text, declaredJson) => {
        try {
          parseAlertBody(text, declaredJson);
        } catch (error) {
          expect(error).toBeInstanceOf(AlertParseError);
          expect((error as Error).message).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
