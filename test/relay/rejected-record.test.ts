import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REMOVED, readRejectedAlert } from '../../src/relay/rejected-record.js';
import { AlertParseError } from '../../src/signal/alert-parse-error.js';
import { parseAlertBody } from '../../src/signal/parse-alert-body.js';
import { readRelayAlert } from '../../src/signal/read-relay-alert.js';

const SECRET = 'hunter2hunter2';

describe('what the signal log keeps of an alert it could not read', () => {
  it('keeps a missing-relay_id alert whole, under its relay_user (issue 8, case 7)', () => {
    const text = 'relay_user=alice; command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; prev_market_position=flat; market_position=long;';
    expect(readRejectedAlert(text)).toEqual({ relayUser: 'alice', relayId: null, accounts: ['Sim101'], instrument: 'ES 03-26', text });
  });

  it('removes the value of a key field and keeps the rest', () => {
    expect(readRejectedAlert(`key=${SECRET}; relay_user=alice; relay_id=A; qty=x y`).text).toBe(`key=${REMOVED}; relay_user=alice; relay_id=A; qty=x y`);
  });

  it.each([
    ['after market_position', `relay_user=bob; relay_id=A; market_position=long relay_secret=${SECRET}; prev_market_position=flat`],
    ['inside a comment', `relay_user=bob; comment=go relay_secret=${SECRET};`],
    ['upper case with blanks', `comment=go RELAY_SECRET = ${SECRET}`],
    ['as key= in a URL', `comment=https://x.example/?key=${SECRET}`],
    ['glued to a value', `market_position=longrelay_secret=${SECRET}`],
    ['before its =, in a bad name', `relay_secret ${SECRET}=x; relay_user=bob`],
    ['on the next line', `relay_user=bob\nrelay_secret=\n${SECRET}\nrelay_id=A`],
    ['in a placeholder', `a=1; comment=go relay_secret={{${SECRET}`],
    ['in broken JSON', `{"relay_user":"bob","key":"${SECRET}"`],
  ])('removes a secret %s', (_where, text) => {
    const kept = readRejectedAlert(text);
    expect(kept.text).not.toContain(SECRET);
    expect(kept.text).toContain(REMOVED);
  });

  it('reads a JSON alert, removing secret fields, secret names and key= inside values', () => {
    const text = JSON.stringify({
      relay_user: 'bob',
      key: SECRET,
      [`relay_secret ${SECRET}`]: 'x',
      tif: `DAY key=${SECRET}`,
      nested: { relay_secret: SECRET },
    });
    const kept = readRejectedAlert(text);
    expect(kept.relayUser).toBe('bob');
    expect(kept.text).not.toContain(SECRET);
    expect(JSON.parse(kept.text)).toEqual({
      relay_user: 'bob',
      key: REMOVED,
      relay_secret: REMOVED,
      tif: `DAY key=${REMOVED}`,
      nested: { relay_secret: REMOVED },
    });
  });

  it("removes the user's stored key wherever it stands, even glued to other text", () => {
    const kept = readRejectedAlert(`relay_user=bob; tif=DAYkey=${SECRET}; qty=`, (user) => (user === 'bob' ? SECRET : null));
    expect(kept.relayUser).toBe('bob');
    expect(kept.text).toBe(`relay_user=bob; tif=DAYkey=${REMOVED}; qty=`);
  });

  it('names no relay_user when it is missing, malformed or given twice with different values', () => {
    expect(readRejectedAlert('relay_id=A; qty=1').relayUser).toBeNull();
    expect(readRejectedAlert('relay_user=al ice; relay_id=A').relayUser).toBeNull();
    expect(readRejectedAlert('relay_user=alice; relay_user=bob').relayUser).toBeNull();
    expect(readRejectedAlert('relay_user=alice; relay_user=alice').relayUser).toBe('alice');
    expect(readRejectedAlert(`relay_user=alice relay_secret=${SECRET}`).relayUser).toBeNull();
  });

  it('escapes control characters and cuts a long body', () => {
    expect(readRejectedAlert('relay_user=bob; comment=\u001b[31mred\u0007').text).toBe('relay_user=bob; comment=\\u001b[31mred\\u0007');
    const long = readRejectedAlert(`relay_user=bob; comment=${'x'.repeat(5000)}`);
    expect(long.text).toMatch(/… \[\d+ more characters not kept\]$/);
    expect(long.text.length).toBeLessThan(4200);
  });

  it('never keeps the value of a key or relay_secret field in an alert the parser refuses (property)', () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9]{12,20}$/);
    const filler = fc.stringMatching(/^[A-Za-z0-9 _=;,.\n{}"]{0,30}$/);
    const name = fc.constantFrom('key', 'KEY', 'relay_secret', 'Relay_Secret', 'key ', 'relay_secret\t');
    fc.assert(
      fc.property(filler, fc.constantFrom(';', '\n', ' ', '; '), name, secret, filler, (before, separator, field, value, after) => {
        const text = `${before}${separator}${field}=${value}${after.replace(/^[A-Za-z0-9_]/, ' ')}`;
        let rejected = false;
        try {
          readRelayAlert(parseAlertBody(text, false));
        } catch (error) {
          rejected = error instanceof AlertParseError;
        }
        if (rejected) expect(readRejectedAlert(text).text).not.toContain(value);
      }),
      { numRuns: 2000 },
    );
  });
});
