// Hostile requests to POST /webhook over a real socket: every one is refused with a 4xx and a
// `rejected` answer, gets one signal-log row, reaches nothing downstream, and the relay lives on.
import http from 'node:http';
import fc from 'fast-check';
import { controlCode, invalidUtf8 } from '../helpers/hostile-input.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entry, startTestRig, USER_KEY, type TestRig } from '../helpers/start-test-relay.js';

/** A reason is one line with no control characters: it goes back to TradingView and into the log. */
const ONE_LINE_REASON = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/;
const BODY_LIMIT = 16 * 1024;

const TOO_LARGE = 'Request body is too large';
const NOT_JSON = 'alert is not valid JSON';
const NOT_AN_OBJECT = 'alert JSON must be an object of fields';
const NOT_UTF8 = 'alert contains U+FFFD: the body was not valid UTF-8';
const TOO_MANY_FIELDS = 'alert has more than 100 fields';

/** The fields of a valid entry alert for bob, in order, as [name, value]. */
const ENTRY_FIELDS: readonly (readonly [string, string])[] = entry('A')
  .split(';')
  .map((part) => part.trim())
  .filter((part) => part !== '')
  .map((part) => {
    const equals = part.indexOf('=');
    return [part.slice(0, equals), part.slice(equals + 1)] as const;
  });

const asText = (fields: readonly (readonly [string, string])[]): string => fields.map(([name, value]) => `${name}=${value};`).join(' ');

/** What the relay renders a JSON alert as before parsing it (test/http/webhook-input.test.ts shows the forwarded form). */
const renderJson = (entries: readonly (readonly [string, unknown])[]): string => entries.map(([name, value]) => `${name}=${String(value)};`).join(' ');

/** C0 controls but TAB, LF and CR; DEL; C1 controls. */
const isControl = (code: number): boolean => (code <= 0x1f && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f);
const controlReason = (code: number, position: number): string =>
  `alert contains control character U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${position}`;

/** Content types a sender might get wrong; null sends no Content-Type header at all. */
const TEXTISH_CONTENT_TYPES = [
  null,
  'text/plain; charset=utf-8',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data',
  'multipart/form-data; boundary=----relayfuzz',
  'application/x-www-form-urlencoded',
  'text/html',
  'text/plain; charset=latin1',
] as const;
const ANY_CONTENT_TYPE = fc.oneof(
  fc.constantFrom<string | null>(...TEXTISH_CONTENT_TYPES, 'application/json', 'application/json; charset=utf-8', 'image/png'),
  fc.stringMatching(/^[!-~][ -~]{0,38}[!-~]$/),
);

/** The name with the case of some letters flipped, and never exactly as it was. */
const recase = (name: string) =>
  fc.func(fc.boolean()).map((upper) => {
    const recased = [...name].map((char, i) => (upper(i) ? char.toUpperCase() : char.toLowerCase())).join('');
    return recased === name ? name.toUpperCase() : recased;
  });

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

interface Sent {
  body: Buffer | string;
  /** null: no Content-Type header. */
  contentType: string | null;
  /** Stream the body without a Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
}

describe('webhook, fed hostile requests', () => {
  let rig: TestRig;
  let rejectedCount = 0;
  const prototypeNames = Object.getOwnPropertyNames(Object.prototype).sort();

  beforeAll(async () => {
    rig = await startTestRig();
  });
  afterAll(async () => {
    await rig.close();
  });

  async function send({ body, contentType, chunked = false }: Sent): Promise<Answer> {
    if (contentType !== null && !chunked) {
      const response = await fetch(`${rig.relay.url}/webhook`, { method: 'POST', headers: { 'content-type': contentType }, body });
      return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
    }
    // fetch always sets a Content-Type for a string body and a Content-Length for a Buffer: go lower.
    const bytes = Buffer.from(body);
    const url = new URL(`${rig.relay.url}/webhook`);
    const headers: Record<string, string | number> = chunked ? {} : { 'content-length': bytes.length };
    if (contentType !== null) headers['content-type'] = contentType;
    return new Promise<Answer>((resolve, reject) => {
      const request = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, contentType: response.headers['content-type'] ?? '', text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      });
      request.on('error', reject);
      if (chunked) {
        for (let at = 0; at < bytes.length; at += 4096) request.write(bytes.subarray(at, at + 4096));
        request.end();
      } else {
        request.end(bytes);
      }
    });
  }

  /**
   * Sends one request and checks the answer is a 4xx `rejected` with a one-line reason (exactly
   * `expected` where given) and that exactly one `rejected` signal-log row with that reason was added.
   */
  async function expectRejected(request: Sent, expected: { status?: number; reason?: string } = {}): Promise<string> {
    const lastId = (await rig.relay.store.listLogs({ limit: 1 }))[0]?.id ?? 0;
    const answer = await send(request);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    if (expected.status !== undefined) expect(answer.status).toBe(expected.status);
    expect(answer.contentType).toMatch(/^application\/json/);
    const body = JSON.parse(answer.text) as unknown;
    expect(body).toEqual({ decision: 'rejected', signal_type: null, reason: expect.stringMatching(ONE_LINE_REASON) });
    const { reason } = body as { reason: string };
    if (expected.reason !== undefined) expect(reason).toBe(expected.reason);
    const rows = await rig.relay.store.listLogs({ limit: 2 });
    expect(rows[0]).toMatchObject({ id: lastId + 1, decision: 'rejected', reason });
    rejectedCount++;
    return reason;
  }

  /** Nothing got through, nothing but rejections were logged, and the process still answers. */
  async function expectRelayUnharmed(): Promise<void> {
    expect(rig.sim.received).toHaveLength(0);
    expect(rig.book()).toEqual([]);
    const rows = await rig.relay.store.listLogs({ limit: 100_000 });
    expect(rows).toHaveLength(rejectedCount);
    expect(rows.every((row) => row.decision === 'rejected')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(USER_KEY);
    const health = await fetch(`${rig.relay.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeNames);
  }

  it('rejects random bytes under any content type', async () => {
    const randomBytes = fc
      .uint8Array({ maxLength: 2048 })
      .map((bytes) => Buffer.from(bytes))
      // A body that names relay_user could in principle be a valid alert for bob: never send one.
      .filter((bytes) => !/relay_user/i.test(bytes.toString('latin1')));
    await fc.assert(
      fc.asyncProperty(randomBytes, ANY_CONTENT_TYPE, async (body, contentType) => {
        await expectRejected({ body, contentType });
      }),
      { numRuns: 30 },
    );
    await expectRelayUnharmed();
  });

  it('rejects a body over 16 KiB with 413, declared or streamed, whatever it holds', async () => {
    const oversized = fc.oneof(
      // A valid alert for bob, padded past the limit.
      fc.integer({ min: BODY_LIMIT + 1, max: 100_000 }).map((size) => {
        const alert = `${entry('A')} comment=`;
        return `${alert}${'x'.repeat(size - alert.length)};`;
      }),
      fc.integer({ min: BODY_LIMIT + 1, max: 100_000 }).map((size) => Buffer.alloc(size, 0xff)),
      fc.integer({ min: BODY_LIMIT + 1, max: 100_000 }).map((size) => JSON.stringify({ relay_user: 'bob', comment: 'x'.repeat(size) })),
    );
    const contentType = fc.constantFrom<string | null>(...TEXTISH_CONTENT_TYPES, 'application/json');
    await fc.assert(
      fc.asyncProperty(oversized, contentType, fc.boolean(), async (body, type, chunked) => {
        await expectRejected({ body, contentType: type, chunked }, { status: 413, reason: TOO_LARGE });
      }),
      { numRuns: 15 },
    );
    await expectRelayUnharmed();
  });

  it('reads a body of exactly 16 KiB, and refuses one byte more with 413', async () => {
    const atLimit = `${entry('A')} comment=`;
    const body = `${atLimit}${'x'.repeat(BODY_LIMIT - atLimit.length - 1)};`;
    expect(Buffer.byteLength(body)).toBe(BODY_LIMIT);
    await expectRejected({ body, contentType: 'text/plain' }, { status: 400, reason: 'field comment has a value longer than 1024 characters' });
    await expectRejected({ body: `${body} `, contentType: 'text/plain' }, { status: 413, reason: TOO_LARGE });
    await expectRelayUnharmed();
  });

  it('rejects an alert for bob with thousands of extra fields, as text or JSON', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 90, max: 4000 }), fc.boolean(), async (extra, asJson) => {
        const fields = [...ENTRY_FIELDS, ...Array.from({ length: extra }, (_, i) => [`f${i}`, '1'] as const)];
        const body = asJson ? JSON.stringify(Object.fromEntries(fields)) : asText(fields);
        const tooLarge = Buffer.byteLength(body) > BODY_LIMIT;
        await expectRejected(
          { body, contentType: asJson ? 'application/json' : 'text/plain' },
          tooLarge ? { status: 413, reason: TOO_LARGE } : { status: 400, reason: TOO_MANY_FIELDS },
        );
      }),
      { numRuns: 15 },
    );
    await expectRelayUnharmed();
  });

  it('rejects an alert for bob that repeats one of its fields, in any case, as text or JSON', async () => {
    const repeat = fc.constantFrom(...ENTRY_FIELDS).chain(([name]) =>
      fc.tuple(
        fc.constant(name),
        fc.oneof(fc.constant(name), recase(name)),
        fc.stringMatching(/^[A-Za-z0-9]{0,10}$/),
        fc.boolean(),
        // JSON allows blanks around ':' and \u escapes in a key: neither may hide the repetition.
        fc.stringMatching(/^[ \t\r\n]{0,8}$/),
        fc.boolean(),
      ),
    );
    await fc.assert(
      fc.asyncProperty(repeat, async ([name, again, value, asJson, blanks, escaped]) => {
        const key = escaped ? [...again].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('') : again;
        const members = [...ENTRY_FIELDS.map(([n, v]) => `${JSON.stringify(n)}:${JSON.stringify(v)}`), `"${key}"${blanks}:${blanks}${JSON.stringify(value)}`];
        const body = asJson ? `{${members.join(',')}}` : asText([...ENTRY_FIELDS, [again, value] as const]);
        await expectRejected(
          { body, contentType: asJson ? 'application/json' : 'text/plain; charset=utf-8' },
          { status: 400, reason: `field ${name.toLowerCase()} appears more than once` },
        );
      }),
      { numRuns: 20 },
    );
    await expectRelayUnharmed();
  });

  it('rejects __proto__, constructor and prototype field names in text, naming the field', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.nat(ENTRY_FIELDS.length), async (reserved, at) => {
        const fields = [...ENTRY_FIELDS.slice(0, at), [reserved, '{"polluted":"yes"}'] as const, ...ENTRY_FIELDS.slice(at)];
        await expectRejected({ body: asText(fields), contentType: 'text/plain' }, { status: 400, reason: `field ${at + 1} has a reserved name "${reserved}"` });
      }),
      { numRuns: 10 },
    );
    await expectRelayUnharmed();
  });

  it('rejects __proto__, constructor and prototype keys in JSON without polluting any prototype', async () => {
    const payload = fc.constantFrom<unknown>({ polluted: 'yes' }, { prototype: { polluted: 'yes' } }, 'yes', 1, null);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.nat(ENTRY_FIELDS.length), payload, async (reserved, at, poison) => {
        const members = ENTRY_FIELDS.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
        members.splice(at, 0, `${JSON.stringify(reserved)}:${JSON.stringify(poison)}`);
        // The alert parser reads JSON itself: its name rule refuses every reserved name, never assigning it.
        await expectRejected(
          { body: `{${members.join(',')}}`, contentType: 'application/json' },
          { status: 400, reason: `field ${at + 1} has a reserved name "${reserved}"` },
        );
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 20 },
    );
    await expectRelayUnharmed();
  });

  it('rejects an alert for bob with NUL or another control character anywhere, naming it and where it is', async () => {
    const text = entry('A');
    await fc.assert(
      fc.asyncProperty(controlCode, fc.nat(text.length), fc.constantFrom(...TEXTISH_CONTENT_TYPES), async (code, at, contentType) => {
        const body = `${text.slice(0, at)}${String.fromCharCode(code)}${text.slice(at)}`;
        await expectRejected({ body, contentType }, { status: 400, reason: controlReason(code, at) });
      }),
      { numRuns: 20 },
    );
    await expectRelayUnharmed();
  });

  it('rejects a JSON alert for bob with an escaped control character in a value', async () => {
    await fc.assert(
      fc.asyncProperty(controlCode, fc.nat(ENTRY_FIELDS.length - 1), fc.nat(), async (code, field, at) => {
        const entries = ENTRY_FIELDS.map(([name, value], i): [string, string] => {
          if (i !== field) return [name, value];
          const cut = at % (value.length + 1);
          return [name, `${value.slice(0, cut)}${String.fromCharCode(code)}${value.slice(cut)}`];
        });
        const rendered = renderJson(entries);
        const position = rendered.split('').findIndex((char) => isControl(char.charCodeAt(0)));
        // JSON.stringify writes controls as \u escapes: the body itself is valid JSON.
        await expectRejected(
          { body: JSON.stringify(Object.fromEntries(entries)), contentType: 'application/json' },
          { status: 400, reason: controlReason(code, position) },
        );
      }),
      { numRuns: 10 },
    );
    await expectRelayUnharmed();
  });

  it('rejects an alert for bob with invalid UTF-8 bytes anywhere', async () => {
    const bytes = Buffer.from(entry('A'));
    await fc.assert(
      fc.asyncProperty(invalidUtf8, fc.nat(bytes.length), fc.constantFrom(...TEXTISH_CONTENT_TYPES), async (bad, at, contentType) => {
        const body = Buffer.concat([bytes.subarray(0, at), Buffer.from(bad), bytes.subarray(at)]);
        await expectRejected({ body, contentType }, { status: 400, reason: NOT_UTF8 });
      }),
      { numRuns: 20 },
    );
    await expectRelayUnharmed();
  });

  it('reads a body by its first character, not its content type: `{`-led non-JSON is not valid JSON under any type, other text labelled JSON is read as text', async () => {
    const braceLed = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.concat([Buffer.from('{'), Buffer.from(bytes), Buffer.from(',,}')])),
      fc.constant(`{${entry('A')}}`),
      fc.constant(`  \n{"relay_user":"bob",`),
    );
    await fc.assert(
      fc.asyncProperty(braceLed, fc.constantFrom<string | null>(...TEXTISH_CONTENT_TYPES, 'application/json'), async (body, contentType) => {
        await expectRejected({ body, contentType }, { status: 400, reason: NOT_JSON });
      }),
      { numRuns: 15 },
    );
    const notBraceLed = fc
      .string({ maxLength: 200 })
      .map((text) => `x${text}`)
      .filter((text) => !/relay_user/i.test(text));
    await fc.assert(
      fc.asyncProperty(notBraceLed, fc.constantFrom('application/json', 'application/json; charset=utf-8'), async (body, contentType) => {
        const reason = await expectRejected({ body, contentType }, { status: 400 });
        // read as key=value text: never the JSON parser's reason
        expect(reason).not.toBe(NOT_JSON);
      }),
      { numRuns: 10 },
    );
    await expectRejected({ body: 'x', contentType: 'application/json' }, { status: 400, reason: "field 1 has no '='" });
    await expectRejected({ body: '', contentType: 'application/json' }, { status: 400, reason: 'alert is empty' });
    await expectRelayUnharmed();
  });

  it('rejects JSON that is an array, null, a number, a boolean or a string', async () => {
    const notAnObject = fc
      .oneof(
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 10 }),
        fc.constant(null),
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.string({ maxLength: 100 }),
        // A JSON string holding a valid text alert for bob is still not an object of fields.
        fc.constant(entry('A')),
        fc.constant([Object.fromEntries(ENTRY_FIELDS)]),
      )
      .map((value) => JSON.stringify(value))
      // Keys Fastify's own JSON guard refuses first are covered above.
      .filter((text) => !text.includes('__proto__') && !text.includes('constructor'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(notAnObject, fc.constant('1e999')), async (body) => {
        await expectRejected({ body, contentType: 'application/json' }, { status: 400, reason: NOT_AN_OBJECT });
      }),
      { numRuns: 15 },
    );
    await expectRelayUnharmed();
  });

  it('rejects a JSON alert for bob with a value that is an object, an array, null or too big a number', async () => {
    const badValue = fc.oneof(
      fc.constantFrom('null', '[]', '{}', '1e999', '-1e999', '{"a":{"b":[1,2,{"c":null}]}}', '["PLACE"]'),
      fc
        .jsonValue({ maxDepth: 2 })
        .filter((value) => typeof value === 'object')
        .map((value) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(ENTRY_FIELDS.length - 1), badValue, async (field, raw) => {
        fc.pre(!raw.includes('__proto__') && !raw.includes('constructor'));
        const members = ENTRY_FIELDS.map(([name, value], i) => `${JSON.stringify(name)}:${i === field ? raw : JSON.stringify(value)}`);
        const name = ENTRY_FIELDS[field]![0];
        await expectRejected(
          { body: `{${members.join(',')}}`, contentType: 'application/json' },
          { status: 400, reason: `field "${name}" must be a string, a finite number or a boolean` },
        );
      }),
      { numRuns: 15 },
    );
    await expectRelayUnharmed();
  });

  it('does not read an alert for bob wrapped as multipart or form-encoded data', async () => {
    const multipart = `------relayfuzz\r\nContent-Disposition: form-data; name="alert"\r\n\r\n${entry('A')}\r\n------relayfuzz--\r\n`;
    await expectRejected({ body: multipart, contentType: 'multipart/form-data; boundary=----relayfuzz' }, { status: 400, reason: "field 1 has no '='" });
    const form = ENTRY_FIELDS.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
    await expectRejected(
      { body: form, contentType: 'application/x-www-form-urlencoded' },
      { status: 400, reason: 'relay_user must be 1-64 letters, digits or _.@:-' },
    );
    await expectRejected({ body: Buffer.alloc(0), contentType: null }, { status: 400, reason: 'alert is empty' });
    await expectRelayUnharmed();
  });
});

/** Defects found by fuzzing, now fixed: each test keeps them fixed. */
describe('webhook, defects found by fuzzing', () => {
  let rig: TestRig;
  beforeAll(async () => {
    rig = await startTestRig();
  });
  afterAll(async () => {
    await rig.close();
  });

  // JSON allows any run of blanks before the ':'; JSON.parse would silently keep the last value.
  it('rejects a JSON alert for bob that repeats relay_id with 63 blanks before the colon', async () => {
    const members = ENTRY_FIELDS.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
    const answer = await rig.post(`{${members.join(',')},"relay_id"${' '.repeat(63)}:"B"}`, 'application/json');
    expect(rig.sim.received).toHaveLength(0);
    expect(answer).toMatchObject({ status: 400, body: { decision: 'rejected', signal_type: null, reason: 'field relay_id appears more than once' } });
    expect(rig.book()).toEqual([]);
  });
});
