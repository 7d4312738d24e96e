import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertParseError } from '../../src/signal/alert-parse-error.js';
import { fieldValue, parseAlertJson, parseAlertText } from '../../src/signal/parse-alert.js';
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

const SPEC_EXAMPLE = 'relay_user=bob; relay_id=A; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY;';

describe('parseAlertText', () => {
  it('reads a one-line message with a space after each ;', () => {
    const alert = parseAlertText(SPEC_EXAMPLE);
    expect(alert.fields.map((field) => [field.key, field.value])).toEqual([
      ['relay_user', 'bob'],
      ['relay_id', 'A'],
      ['command', 'PLACE'],
      ['account', 'Sim101'],
      ['instrument', 'ES 03-26'],
      ['action', 'BUY'],
      ['qty', '1'],
      ['order_type', 'MARKET'],
      ['tif', 'DAY'],
    ]);
    expect(alert.text).toBe(SPEC_EXAMPLE);
  });

  it('reads one field per line with LF or CRLF, with or without ;', () => {
    const alert = parseAlertText('key=abc;\r\ncommand=PLACE\naccount = Sim101 ;\r\n');
    expect(alert.fields.map((field) => [field.name, field.value])).toEqual([
      ['key', 'abc'],
      ['command', 'PLACE'],
      ['account', 'Sim101'],
    ]);
  });

  it('keeps the name as written and lower-cases the key', () => {
    const [field] = parseAlertText('  Relay_USER\t=\tBob  ;').fields;
    expect(field).toMatchObject({ name: 'Relay_USER', key: 'relay_user', value: 'Bob' });
  });

  it('takes everything after the first = as the value', () => {
    expect(fieldValue(parseAlertText('comment=a=b;'), 'comment')).toBe('a=b');
  });

  it('allows an empty value', () => {
    expect(fieldValue(parseAlertText('comment=;qty=1'), 'comment')).toBe('');
  });

  it('skips empty segments, blank lines and a trailing ;', () => {
    const alert = parseAlertText(';;a=1;; \n\n  \r\nb=2;;');
    expect(alert.fields.map((field) => field.key)).toEqual(['a', 'b']);
  });

  it('answers undefined for a field that is absent', () => {
    expect(fieldValue(parseAlertText('a=1'), 'b')).toBeUndefined();
  });

  it('spans each field from its name through the separators and blanks after it', () => {
    const text = '  a=1 ;  b = 2\r\n\r\n;c=3';
    const alert = parseAlertText(text);
    expect(alert.fields.map((field) => text.slice(field.start, field.end))).toEqual(['a=1 ;  ', 'b = 2\r\n\r\n;', 'c=3']);
  });

  it('accepts exactly 100 fields, a 64-character name and a 1024-character value', () => {
    const text = Array.from({ length: 100 }, (_, index) => `f${index}=${index};`).join('');
    expect(parseAlertText(text).fields).toHaveLength(100);
    expect(parseAlertText(`${'n'.repeat(64)}=${'v'.repeat(1024)}`).fields).toHaveLength(1);
  });

  describe('rejects', () => {
    it.each([
      ['', 'alert is empty'],
      [' \r\n\t ', 'alert is empty'],
      [';; ;\n', 'alert has no fields'],
      ['a=1; b; c=3', "field 2 has no '='"],
      ['a=1;\n =2', 'field 2 has an empty name'],
      ['1a=1', 'field 1 has an invalid name: use letters, digits and _, not starting with a digit'],
      ['a b=1', 'field 1 has an invalid name: use letters, digits and _, not starting with a digit'],
      ['a=1;__proto__=2', 'field 2 has a reserved name "__proto__"'],
      ['constructor=1', 'field 1 has a reserved name "constructor"'],
      ['prototype=1', 'field 1 has a reserved name "prototype"'],
      ['Qty=1; a=2; QTY=3', 'field qty appears more than once'],
      [`${'n'.repeat(65)}=1`, 'field 1 has a name longer than 64 characters'],
      [`comment=${'v'.repeat(1025)}`, 'field comment has a value longer than 1024 characters'],
      ['a=1;\u0000b=2', 'alert contains control character U+0000 at position 4'],
      ['a=\u001b[31m', 'alert contains control character U+001B at position 2'],
      ['a=1\u007f', 'alert contains control character U+007F at position 3'],
      ['a=1\u0085', 'alert contains control character U+0085 at position 3'],
      ['a=caf\uFFFD', 'alert contains U+FFFD: the body was not valid UTF-8'],
      ['a=\uD800x', 'alert contains an unpaired surrogate: the body is not valid Unicode'],
    ])('%j', (text, reason) => {
      expect(reasonFor(() => parseAlertText(text))).toBe(reason);
    });

    it('more than 100 fields', () => {
      const text = Array.from({ length: 101 }, (_, index) => `f${index}=1`).join(';');
      expect(reasonFor(() => parseAlertText(text))).toBe('alert has more than 100 fields');
    });

    it('an unsubstituted placeholder, naming it', () => {
      expect(reasonFor(() => parseAlertText('action={{strategy.order.action}}; qty=1'))).toBe(
        'alert still contains a TradingView placeholder "{{strategy.order.action}}": check the alert message',
      );
    });

    it('a placeholder alone on a line before reporting its missing =', () => {
      expect(reasonFor(() => parseAlertText('key=k;\n{{strategy.order.alert_message}}'))).toBe(
        'alert still contains a TradingView placeholder "{{strategy.order.alert_message}}": check the alert message',
      );
    });

    it('an unclosed placeholder, truncated to 40 characters', () => {
      expect(reasonFor(() => parseAlertText(`comment={{${'x'.repeat(60)}; qty=1`))).toBe(
        `alert still contains a TradingView placeholder "{{${'x'.repeat(38)}…": check the alert message`,
      );
    });

    it('a placeholder in a secret field without echoing the secret', () => {
      const reason = reasonFor(() => parseAlertText('KEY=s3cr3t{{ticker}}; qty=1'));
      expect(reason).toBe('alert still contains a TradingView placeholder in field key: check the alert message');
      expect(reasonFor(() => parseAlertText('a=1; relay_secret = hush{{x'))).toBe(
        'alert still contains a TradingView placeholder in field relay_secret: check the alert message',
      );
    });

    it('an invalid name without echoing it: the text before a stray = may be a secret', () => {
      const reason = reasonFor(() => parseAlertText('relay_secret hunter2hunter2=x; relay_user=bob'));
      expect(reason).toBe('field 1 has an invalid name: use letters, digits and _, not starting with a digit');
      expect(reasonFor(() => parseAlertText('{"relay_secret":"hunter2hunter2","comment":"a=b"}'))).not.toContain('hunter2');
    });
  });

  it('never echoes a key or relay_secret value in any reason', () => {
    const secret = 'S3CR3TVALUE';
    const texts = [
      `key=${secret}; key=${secret}`,
      `relay_secret=${secret}; a`,
      `key=${secret}{{x}}`,
      `key=${secret}; comment=${'v'.repeat(2000)}`,
      `key=${secret}\u0001`,
      `key=${secret}; 1x=2`,
    ];
    for (const text of texts) {
      expect(reasonFor(() => parseAlertText(text))).not.toContain(secret);
    }
  });

  it('recovers every field from any layout, name case and blank padding', () => {
    fc.assert(
      fc.property(renderedFields, (fields) => {
        const alert = parseAlertText(render(fields));
        expect(alert.fields.map((field) => [field.name, field.key, field.value])).toEqual(
          fields.map((field) => [field.name, field.name.toLowerCase(), field.value]),
        );
      }),
    );
  });

  it('tiles the text from the first field on with the spans', () => {
    fc.assert(
      fc.property(renderedFields, (fields) => {
        const alert = parseAlertText(render(fields));
        const first = alert.fields[0];
        expect(first).toBeDefined();
        const joined = alert.fields.map((field) => alert.text.slice(field.start, field.end)).join('');
        expect(joined).toBe(alert.text.slice(first?.start));
      }),
    );
  });

  it('throws nothing but AlertParseError for arbitrary text', () => {
    const noisy = fc.string({ unit: fc.constantFrom(...'a=;\n\r \t{}_1\u0000\uFFFD\uD800é'), maxLength: 300 });
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string(), noisy), (text) => {
        try {
          parseAlertText(text);
        } catch (error) {
          expect(error).toBeInstanceOf(AlertParseError);
          expect((error as Error).message).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('throws nothing but AlertParseError for huge text, quickly', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 50_000, maxLength: 200_000 }), (text) => {
        try {
          parseAlertText(text);
        } catch (error) {
          expect(error).toBeInstanceOf(AlertParseError);
        }
      }),
      { numRuns: 5 },
    );
    const started = Date.now();
    expect(reasonFor(() => parseAlertText('a=1;'.repeat(1_000_000)))).toBe('alert has more than 100 fields');
    expect(reasonFor(() => parseAlertText(';'.repeat(1_000_000)))).toBe('alert has no fields');
    expect(reasonFor(() => parseAlertText(`a=${'x'.repeat(1_000_000)}`))).toBe('field a has a value longer than 1024 characters');
    expect(parseAlertText(`${' \n'.repeat(1_000_000)}a=1${' ;'.repeat(1_000_000)}`).fields).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('parseAlertJson', () => {
  it('renders an object as name=value; fields in order', () => {
    const alert = parseAlertJson({ relay_user: 'bob', qty: 2, flatten_first: true, price: 1.25 });
    expect(alert.text).toBe('relay_user=bob; qty=2; flatten_first=true; price=1.25;');
    expect(alert.fields.map((field) => [field.key, field.value])).toEqual([
      ['relay_user', 'bob'],
      ['qty', '2'],
      ['flatten_first', 'true'],
      ['price', '1.25'],
    ]);
  });

  it.each([[null], [[{ a: 1 }]], ['a=1'], [42], [new Map([['a', '1']])], [undefined]])('rejects %j as not an object of fields', (value) => {
    expect(reasonFor(() => parseAlertJson(value))).toBe('alert JSON must be an object of fields');
  });

  const notScalar = 'field "qty" must be a string, a finite number or a boolean';
  it.each([
    ['a null value', { qty: null }, notScalar],
    ['an object value', { qty: { n: 1 } }, notScalar],
    ['NaN', { qty: Number.NaN }, notScalar],
    ['Infinity', { qty: Number.POSITIVE_INFINITY }, notScalar],
    ['a value with ;', { comment: 'a;b' }, `field "comment" must not contain ';' or a line break`],
    ['a value with a line break', { comment: 'a\nb' }, `field "comment" must not contain ';' or a line break`],
    ['a name with =', { 'a=b': 'c' }, 'field 1 has an invalid name: use letters, digits and _, not starting with a digit'],
    ['an empty name', { '': 'c' }, 'field 1 has an empty name'],
    ['an empty object', {}, 'alert is empty'],
    [
      'a placeholder',
      { action: '{{strategy.order.action}}' },
      'alert still contains a TradingView placeholder "{{strategy.order.action}}": check the alert message',
    ],
    ['a name twice in different case', { Qty: 1, qty: 2 }, 'field qty appears more than once'],
  ])('rejects %s', (_label, value, reason) => {
    expect(reasonFor(() => parseAlertJson(value))).toBe(reason);
  });

  it('rejects a JSON __proto__ key by the name rule without touching any prototype', () => {
    const value: unknown = JSON.parse('{"a":"1","__proto__":{"polluted":"yes"}}');
    expect(reasonFor(() => parseAlertJson(value))).toBe('field 2 has a reserved name "__proto__"');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts an object with a null prototype', () => {
    const value = Object.assign(Object.create(null) as object, { a: 'x' });
    expect(fieldValue(parseAlertJson(value), 'a')).toBe('x');
  });

  it('throws nothing but AlertParseError for arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseAlertJson(value);
        } catch (error) {
          expect(error).toBeInstanceOf(AlertParseError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
