// Issue case 15: a `key`/`relay_secret` field that lost its `;` ends up inside another field's
// value. Its value must then appear in no reason, no kept field and no stored alert text.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertParseError, findSecretAssignment, quoteForMessage, SECRET_FIELDS } from '../../src/signal/alert-parse-error.js';
import { removeFields } from '../../src/signal/format-alert.js';
import { parseAlertBody } from '../../src/signal/parse-alert-body.js';
import { parseAlertJson, parseAlertText, type ParsedAlert } from '../../src/signal/parse-alert.js';
import { readRelayAlert } from '../../src/signal/read-relay-alert.js';

const SECRET = 'hunter2hunter2';

function reasonFor(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(AlertParseError);
    return (error as AlertParseError).message;
  }
  throw new Error('expected an AlertParseError');
}

const missing = (holder: string, secret: string) => `field ${holder} has ${secret}= in its value: a ';' is missing before ${secret}`;

describe('a secret inside another field value', () => {
  it.each([
    ['relay_user=bob; relay_id=A; market_position=long relay_secret=hunter2hunter2; prev_market_position=flat', missing('market_position', 'relay_secret')],
    ['relay_user=bob; comment=go relay_secret=hunter2hunter2;', missing('comment', 'relay_secret')],
    ['comment=go RELAY_SECRET = hunter2hunter2', missing('comment', 'relay_secret')],
    ['comment=go\tRelay_Secret\t=\thunter2hunter2', missing('comment', 'relay_secret')],
    ['tif=DAY key=hunter2hunter2; qty=1', missing('tif', 'key')],
    ['tif=DAY KEY =hunter2hunter2', missing('tif', 'key')],
    ['comment=key=hunter2hunter2', missing('comment', 'key')],
    ['comment=relay_secret=hunter2hunter2', missing('comment', 'relay_secret')],
    ['comment=a,key=hunter2hunter2', missing('comment', 'key')],
    ['comment=https://x.example/?key=hunter2hunter2', missing('comment', 'key')],
    ['market_position=longrelay_secret=hunter2hunter2', missing('market_position', 'relay_secret')],
    ['Comment=go relay_secret=hunter2hunter2 key=hunter2hunter2', missing('comment', 'relay_secret')],
    ['relay_secret=abc key=hunter2hunter2', missing('relay_secret', 'key')],
    ['a b=go relay_secret=hunter2hunter2', missing('1', 'relay_secret')],
    ['a=1; comment=go relay_secret={{hunter2hunter2', missing('comment', 'relay_secret')],
    ['comment=x; comment=go key=hunter2hunter2', missing('comment', 'key')],
  ])('refuses %j naming the field that holds it, never the value', (text, reason) => {
    expect(reasonFor(() => parseAlertText(text))).toBe(reason);
    expect(reasonFor(() => parseAlertBody(text, false))).toBe(reason);
    expect(reason).not.toContain(SECRET);
  });

  it('is checked before any other field rule, so no later reason can quote it', () => {
    // A repeated field, a too-long value and a bad market position would all be reported later.
    expect(reasonFor(() => parseAlertText('market_position=long relay_secret=hunter2hunter2; market_position=x'))).toBe(
      missing('market_position', 'relay_secret'),
    );
    expect(reasonFor(() => parseAlertText(`comment=${'v'.repeat(2000)} key=hunter2hunter2`))).toBe(missing('comment', 'key'));
  });

  it('accepts key= and relay_secret= only as part of a longer name', () => {
    const alert = parseAlertText('comment=monkey=1 hotkey=2 api_key=3 KEYS=4 my_relay_secret_x; note=keyboard = fine');
    expect(alert.fields.map((field) => [field.key, field.value])).toEqual([
      ['comment', 'monkey=1 hotkey=2 api_key=3 KEYS=4 my_relay_secret_x'],
      ['note', 'keyboard = fine'],
    ]);
    expect(parseAlertText('comment=key; note=relay_secret is set').fields).toHaveLength(2);
  });

  it('keeps a secret field whose own value is plain', () => {
    const alert = parseAlertText('relay_secret=hunter2 hunter2; key=abc=def; comment=go');
    expect(alert.fields.map((field) => field.value)).toEqual(['hunter2 hunter2', 'abc=def', 'go']);
  });

  describe('in a JSON alert', () => {
    it('refuses a string value holding relay_secret= or key=', () => {
      expect(reasonFor(() => parseAlertJson({ relay_user: 'bob', comment: 'go relay_secret=hunter2hunter2' }))).toBe(
        'field "comment" has relay_secret= in its value: relay_secret must be a field of its own',
      );
      expect(reasonFor(() => parseAlertBody('{"relay_user":"bob","tif":"DAY Key = hunter2hunter2"}', false))).toBe(
        'field "tif" has key= in its value: key must be a field of its own',
      );
      expect(reasonFor(() => parseAlertBody('{"relay_user":"bob","tif":"DAY\\u0020key=hunter2hunter2"}', true))).toBe(
        'field "tif" has key= in its value: key must be a field of its own',
      );
    });

    it('never quotes a repeated key that is not a valid name: it may hold a secret', () => {
      const reason = reasonFor(() => parseAlertBody('{"relay_secret=hunter2hunter2":1,"relay_secret=hunter2hunter2":2}', true));
      expect(reason).toBe('field 1 has an invalid name: use letters, digits and _, not starting with a digit');
    });

    it('accepts a value holding hotkey=', () => {
      expect(parseAlertJson({ comment: 'hotkey=F5' }).fields[0]?.value).toBe('hotkey=F5');
    });
  });

  describe('placeholders near a secret are not quoted', () => {
    it.each([
      ['go relay_secret={{hunter2hunter2', 'alert still contains a TradingView placeholder in field relay_secret: check the alert message'],
      ['a=1; key = hunter2hunter2{{x}}', 'alert still contains a TradingView placeholder in field key: check the alert message'],
      ['relay_secret {{ = hunter2hunter2', 'alert still contains a TradingView placeholder in field 1: check the alert message'],
      ['comment=the key {{x}}', 'alert still contains a TradingView placeholder in field comment: check the alert message'],
      ['{{x relay_secret=hunter2hunter2', 'alert still contains a TradingView placeholder in field 1: check the alert message'],
    ])('%j', (text, reason) => {
      expect(reasonFor(() => parseAlertText(text))).toBe(reason);
    });

    it('still quotes a placeholder away from any secret', () => {
      expect(reasonFor(() => parseAlertText('hotkey={{x}}; key=abc'))).toBe('alert still contains a TradingView placeholder "{{x}}": check the alert message');
    });
  });

  describe('quoteForMessage', () => {
    it('cuts a value just after a secret name and =', () => {
      expect(quoteForMessage('long relay_secret=hunter2hunter2')).toBe('"long relay_secret=…"');
      expect(quoteForMessage('DAY KEY = hunter2hunter2')).toBe('"DAY KEY =…"');
      expect(quoteForMessage('relay_secret=')).toBe('"relay_secret=…"');
      expect(quoteForMessage(`${'x'.repeat(50)} key=hunter2hunter2`)).toBe(`"${'x'.repeat(40)}…"`);
      expect(quoteForMessage('monkey=hunter2')).toBe('"monkey=hunter2"');
    });

    it('never shows what follows a secret assignment', () => {
      fc.assert(
        fc.property(
          fc.string({ maxLength: 60 }),
          secretName,
          blanks,
          blanks,
          secretValue,
          fc.string({ maxLength: 20 }),
          (before, name, b1, b2, secret, after) => {
            fc.pre(!before.includes(secret));
            expect(quoteForMessage(`${before} ${name}${b1}=${b2}${secret}${after}`)).not.toContain(secret);
          },
        ),
      );
    });
  });

  it('readRelayAlert does not echo it either, even for a hand-built alert that skipped the parser', () => {
    const alert: ParsedAlert = {
      text: '',
      fields: [
        { name: 'relay_user', key: 'relay_user', value: 'bob', start: 0, end: 0 },
        { name: 'relay_id', key: 'relay_id', value: 'A', start: 0, end: 0 },
        { name: 'market_position', key: 'market_position', value: 'long relay_secret=hunter2hunter2', start: 0, end: 0 },
        { name: 'prev_market_position', key: 'prev_market_position', value: 'flat', start: 0, end: 0 },
      ],
    };
    expect(reasonFor(() => readRelayAlert(alert))).toBe('market_position must be long, short or flat (got "long relay_secret=…")');
    const accounts = {
      ...alert,
      fields: [...alert.fields.slice(0, 2), { name: 'account', key: 'account', value: 'A key=hunter2hunter2, a KEY=hunter2hunter2', start: 0, end: 0 }],
    };
    expect(reasonFor(() => readRelayAlert(accounts))).toBe('account "a KEY=…" is listed twice: CrossTrade would place the order twice');
  });

  it('findSecretAssignment finds where the secret value starts', () => {
    expect(findSecretAssignment('go relay_secret = x')).toEqual({ name: 'relay_secret', index: 3, valueStart: 17 });
    expect(findSecretAssignment('go Key=x')).toEqual({ name: 'key', index: 3, valueStart: 7 });
    expect(findSecretAssignment('hotkey=x monkey =y _key=z key')).toBeNull();
  });
});

// --- the property -------------------------------------------------------------------------------

const secretName = fc
  .constantFrom('key', 'relay_secret')
  .chain((name) => fc.func(fc.boolean()).map((upper) => [...name].map((char, i) => (upper(i) ? char.toUpperCase() : char)).join('')));
const blanks = fc.constantFrom('', ' ', '  ', '\t', ' \t');
/** A secret no generated text contains by chance: a fixed marker plus random letters and digits. */
const secretValue = fc.stringMatching(/^[A-Za-z0-9]{4,16}$/).map((tail) => `Sx9Q${tail}`);

const holderName = fc
  .stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/)
  .filter((name) => !['__proto__', 'constructor', 'prototype'].includes(name) && !SECRET_FIELDS.has(name.toLowerCase()));
/** Values with letters, so `key`/`relay_secret` may appear in them, but never assigned. */
const plainValue = fc
  .string({ unit: fc.constantFrom(...'abceklorstyKY09 _-.,:/=é'), maxLength: 24 })
  .map((value) => value.trim())
  .filter((value) => findSecretAssignment(value) === null);
const fields = fc.uniqueArray(fc.tuple(holderName, plainValue), { minLength: 1, maxLength: 8, selector: ([name]) => name.toLowerCase() });
/** What is left where the `;` before the secret field was lost. */
const glue = fc.constantFrom('', ' ', '  ', '\t', ',', ', ', ' & ', '|', '/', ' - ');
const separator = fc.constantFrom(';', '; ', ';\n', '\r\n', '\n');

interface Glued {
  text: string;
  secret: string;
  name: string;
  holder: string;
}

/** A valid alert with a secret field glued into the value of one field by a missing separator (maybe the one after it too). */
const gluedAlert = fc
  .tuple(fields, fc.nat(), secretName, blanks, blanks, secretValue, glue, fc.boolean(), separator)
  .map(([list, pick, name, b1, b2, secret, joint, alsoAfter, sep]): Glued & { undetectable: boolean } => {
    const index = pick % list.length;
    const [holder, value] = list[index]!;
    const parts = list.map(([n, v]) => `${n}=${v}`);
    const secretField = `${name}${b1}=${b2}${secret}`;
    parts[index] = `${holder}=${value}${joint}${secretField}`;
    let text = parts.join(sep);
    if (alsoAfter && index < list.length - 1) {
      // The `;` after the secret is lost too: the next field ends up in the secret's own value.
      text = [...parts.slice(0, index), `${parts[index]} ${parts[index + 1]}`, ...parts.slice(index + 2)].join(sep);
    }
    // `key=` glued with nothing between it and a letter, digit or _ reads as a longer name
    // (`DAYkey=`, like `hotkey=`): documented as not found.
    const lastChar = `${value}${joint}`.slice(-1);
    const undetectable = name.toLowerCase() === 'key' && /[A-Za-z0-9_]/.test(lastChar);
    return { text, secret, name: name.toLowerCase(), holder: holder.toLowerCase(), undetectable };
  })
  .filter((glued) => !glued.undetectable);

/** The property of the issue: the secret is in no reason, and in no field but its own. */
function expectSecretContained(parse: () => ParsedAlert, secret: string, name: string): void {
  let alert: ParsedAlert;
  try {
    alert = parse();
  } catch (error) {
    expect(error).toBeInstanceOf(AlertParseError);
    expect((error as Error).message).not.toContain(secret);
    return;
  }
  for (const field of alert.fields) {
    if (field.key !== name) expect(field.value).not.toContain(secret);
  }
  expect(removeFields(alert, SECRET_FIELDS)).not.toContain(secret);
}

describe('a secret glued into another field by a missing separator, at random', () => {
  it('is in no reason and in no field but its own, as text or JSON', () => {
    fc.assert(
      fc.property(gluedAlert, fc.boolean(), ({ text, secret, name }, declaredJson) => {
        expectSecretContained(() => parseAlertText(text), secret, name);
        expectSecretContained(() => parseAlertBody(text, declaredJson), secret, name);
      }),
      { numRuns: 2000 },
    );
  });

  it('is refused as a missing ; naming the field that holds it', () => {
    fc.assert(
      fc.property(gluedAlert, ({ text, name, holder }) => {
        expect(reasonFor(() => parseAlertText(text))).toBe(missing(holder, name));
      }),
      { numRuns: 2000 },
    );
  });

  it('is refused inside a JSON string value', () => {
    fc.assert(
      fc.property(fields, fc.nat(), secretName, blanks, blanks, secretValue, glue, (list, pick, name, b1, b2, secret, joint) => {
        const index = pick % list.length;
        const [holder, value] = list[index]!;
        const lastChar = `${value}${joint}`.slice(-1);
        fc.pre(name.toLowerCase() !== 'key' || !/[A-Za-z0-9_]/.test(lastChar));
        const object = Object.fromEntries(list.map(([n, v], i) => [n, i === index ? `${v}${joint}${name}${b1}=${b2}${secret}` : v]));
        const body = JSON.stringify(object);
        expectSecretContained(() => parseAlertBody(body, true), secret, name.toLowerCase());
        expect(reasonFor(() => parseAlertBody(body, false))).toBe(
          `field "${holder}" has ${name.toLowerCase()}= in its value: ${name.toLowerCase()} must be a field of its own`,
        );
      }),
      { numRuns: 1000 },
    );
  });
});
