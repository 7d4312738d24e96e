import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCrossTradeClient, type CrossTradeClient } from '../../src/crosstrade/client.js';
import { CrossTradeHttpError } from '../../src/crosstrade/errors.js';
import { isCrossTradeError, isCrossTradeTimeoutError } from '../../src/crosstrade/is-crosstrade-error.js';
import { startSimulator, type Simulator } from '../../src/simulator/create-simulator.js';

const KEY = 'sim-key-5f0c2a';
const OTHER_KEY = 'other-key-91bd';
const API_TIMEOUT = 300;
const FORWARD_TIMEOUT = 300;
const SLACK = 700;
const START = Date.UTC(2026, 0, 15);

let sim: Simulator;
let client: CrossTradeClient;
let clock: number;

beforeEach(async () => {
  sim = await startSimulator({ keys: [KEY, OTHER_KEY] });
  clock = START;
  client = createCrossTradeClient({
    apiBaseUrl: sim.url,
    apiTimeoutMs: API_TIMEOUT,
    forwardTimeoutMs: FORWARD_TIMEOUT,
    positionCacheMs: 1000,
    now: () => clock,
  });
});

afterEach(async () => {
  await sim.close();
  await client.close();
});

/** A URL on 127.0.0.1 where nothing listens. */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

async function elapsed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await fn();
  return [result, performance.now() - started];
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('getPositions', () => {
  it('reads the open positions of one account and nothing flat', async () => {
    sim.setPosition('Sim101', 'RTY 03-26', 'Long', 2);
    sim.setPosition('Sim101', 'ES 06-26', 'Flat', 0);
    sim.setPosition('Sim102', 'NQ 06-26', 'Short', 1);

    expect(await client.getPositions('sim101', KEY)).toEqual([{ account: 'Sim101', instrument: 'RTY 03-26', marketPosition: 'long', quantity: 2 }]);
  });

  it('encodes the account name into the path', async () => {
    sim.setPosition('Sim 101/a?b', 'RTYH26', 'Short', 3);
    expect(await client.getPositions('Sim 101/a?b', KEY)).toEqual([{ account: 'Sim 101/a?b', instrument: 'RTY 03-26', marketPosition: 'short', quantity: 3 }]);
  });

  it('throws an HTTP error with the body code and a message naming only origin and account', async () => {
    sim.failApi({ kind: 'status', status: 408 });
    const error = await caught(client.getPositions('Sim101', KEY));
    expect(error).toBeInstanceOf(CrossTradeHttpError);
    expect((error as CrossTradeHttpError).code).toBe('not_connected');
    expect(error.message).toBe(`CrossTrade API answered HTTP 408 (not_connected) for account Sim101 at ${sim.url}`);
  });

  it('throws a timeout error when the API hangs', async () => {
    sim.failApi({ kind: 'hang' });
    const error = await caught(client.getPositions('Sim101', KEY));
    expect(isCrossTradeTimeoutError(error)).toBe(true);
    expect(error.message).toBe(`CrossTrade API did not answer within ${API_TIMEOUT} ms for account Sim101 at ${sim.url}`);
  });

  it('never puts the key or a request path in an error message', async () => {
    const faults = [
      { kind: 'status', status: 401, body: JSON.stringify({ success: false, error: `bad token ${KEY}` }) },
      { kind: 'status', status: 408 },
      { kind: 'status', status: 429 },
      { kind: 'status', status: 500 },
      { kind: 'hang' },
      { kind: 'garbage' },
    ] as const;
    const messages: string[] = [];
    for (const fault of faults) {
      sim.failApi(fault);
      messages.push((await caught(client.getPositions('Sim101', KEY))).message);
    }
    messages.push(
      (await caught(createCrossTradeClient({ apiBaseUrl: await closedPortUrl(), apiTimeoutMs: 300, forwardTimeoutMs: 300 }).getPositions('Sim101', KEY)))
        .message,
    );
    expect(messages).toHaveLength(7);
    for (const message of messages) {
      expect(message).not.toContain(KEY);
      expect(message).not.toContain('/v1/');
      expect(message).toContain('Sim101');
    }
    expect(messages[0]).toBe(`CrossTrade API answered HTTP 401 (bad token ***) for account Sim101 at ${sim.url}`);
  });
});

describe('readPosition', () => {
  it('reads open with the position as detail and the arrival time', async () => {
    sim.setPosition('Sim101', 'RTY 03-26', 'Long', 2);
    expect(await client.readPosition('Sim101', 'RTYH2026', KEY)).toEqual({
      kind: 'open',
      takenAt: START,
      direction: 'long',
      quantity: 2,
      detail: 'Long 2 RTY 03-26',
    });
  });

  it('reads flat when the product is absent from the list', async () => {
    sim.setPosition('Sim101', 'MES 03-26', 'Long', 1);
    expect(await client.readPosition('Sim101', 'ES1!', KEY)).toEqual({ kind: 'flat', takenAt: START });
  });

  it('reads unknown for an alert instrument it cannot read, without calling the API', async () => {
    expect(await client.readPosition('Sim101', 'R T Y', KEY)).toEqual({ kind: 'unknown', takenAt: START, reason: 'instrument-unreadable' });
    expect(sim.apiCalls).toBe(0);
  });

  it('coalesces 20 concurrent reads of one account into one API call', async () => {
    sim.setPosition('Sim101', 'RTY 03-26', 'Short', 1);
    const readings = await Promise.all(Array.from({ length: 20 }, (_, i) => client.readPosition(i % 2 === 0 ? 'Sim101' : 'SIM101', 'RTY1!', KEY)));
    expect(sim.apiCalls).toBe(1);
    for (const reading of readings) expect(reading).toEqual({ kind: 'open', takenAt: START, direction: 'short', quantity: 1, detail: 'Short 1 RTY 03-26' });
  });

  it('keeps separate calls per key and per account', async () => {
    await Promise.all([client.readPosition('Sim101', 'RTY', KEY), client.readPosition('Sim102', 'RTY', KEY), client.readPosition('Sim101', 'RTY', OTHER_KEY)]);
    expect(sim.apiCalls).toBe(3);
  });

  it('reuses an answer for the cache time, then asks again', async () => {
    sim.setPosition('Sim101', 'RTY 03-26', 'Long', 2);
    await client.readPosition('Sim101', 'RTY', KEY);
    sim.setPosition('Sim101', 'RTY 03-26', 'Flat', 0);

    clock = START + 999;
    expect(await client.readPosition('Sim101', 'ES', KEY)).toEqual({ kind: 'flat', takenAt: START });
    expect(await client.readPosition('Sim101', 'RTY', KEY)).toEqual({
      kind: 'open',
      takenAt: START,
      direction: 'long',
      quantity: 2,
      detail: 'Long 2 RTY 03-26',
    });
    expect(sim.apiCalls).toBe(1);

    clock = START + 1000;
    expect(await client.readPosition('Sim101', 'RTY', KEY)).toEqual({ kind: 'flat', takenAt: START + 1000 });
    expect(sim.apiCalls).toBe(2);
  });

  it('never caches a failure', async () => {
    sim.setPosition('Sim101', 'RTY 03-26', 'Long', 2);
    sim.failApi({ kind: 'status', status: 408 });
    expect(await client.readPosition('Sim101', 'RTY', KEY)).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-not-connected-408' });
    sim.failApi(null);
    expect(await client.readPosition('Sim101', 'RTY', KEY)).toEqual({
      kind: 'open',
      takenAt: START,
      direction: 'long',
      quantity: 2,
      detail: 'Long 2 RTY 03-26',
    });
    expect(sim.apiCalls).toBe(2);
  });

  it.each([
    ['not connected (408)', { kind: 'status', status: 408 }, 'api-not-connected-408'],
    ['rate limited (429)', { kind: 'status', status: 429 }, 'api-rate-limited-429'],
    ['a server error (500)', { kind: 'status', status: 500 }, 'api-http-500'],
    ['a gateway error (503)', { kind: 'status', status: 503 }, 'api-http-503'],
    ['a non-JSON body', { kind: 'garbage' }, 'api-bad-response'],
    ['a JSON body without positions', { kind: 'status', status: 200, body: '{"success":true}' }, 'api-bad-response'],
    [
      'a malformed position',
      { kind: 'status', status: 200, body: '{"positions":[{"instrument":"RTY 03-26","quantity":1}],"success":true}' },
      'api-bad-response',
    ],
    ['success:false with an error code', { kind: 'status', status: 200, body: '{"success":false,"error":"not_connected"}' }, 'api-http-200'],
  ] as const)('reads unknown on %s', async (_, fault, reason) => {
    sim.setPosition('Sim101', 'RTY 03-26', 'Long', 2);
    sim.failApi(fault);
    expect(await client.readPosition('Sim101', 'RTY', KEY)).toEqual({ kind: 'unknown', takenAt: START, reason });
  });

  it('reads unknown api-http-401 for a key the API refuses', async () => {
    expect(await client.readPosition('Sim101', 'RTY', 'wrong-key')).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-http-401' });
  });

  it('reads unknown api-timeout when the API hangs, within the timeout', async () => {
    sim.failApi({ kind: 'hang' });
    const [reading, ms] = await elapsed(() => client.readPosition('Sim101', 'RTY', KEY));
    expect(reading).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-timeout' });
    expect(ms).toBeGreaterThanOrEqual(API_TIMEOUT - 20);
    expect(ms).toBeLessThan(API_TIMEOUT + SLACK);
  });

  it('reads unknown api-network-error when nothing listens', async () => {
    const offline = createCrossTradeClient({ apiBaseUrl: await closedPortUrl(), apiTimeoutMs: 300, forwardTimeoutMs: 300, now: () => START });
    const [reading, ms] = await elapsed(() => offline.readPosition('Sim101', 'RTY', KEY));
    await offline.close();
    expect(reading).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-network-error' });
    expect(ms).toBeLessThan(300);
  });

  it('reads unknown while the simulator has any unreadable open instrument on the account', async () => {
    sim.failApi({
      kind: 'status',
      status: 200,
      body: JSON.stringify({ positions: [{ account: 'Sim101', instrument: 'EURUSD.FX', marketPosition: 'Long', quantity: 1 }], success: true }),
    });
    expect(await client.readPosition('Sim101', 'RTY', KEY)).toEqual({ kind: 'unknown', takenAt: START, reason: 'instrument-unreadable' });
  });
});

/** A positions API that answers after `delayMs`, counting its calls. */
async function slowApi(delayMs: number, positions: unknown[]): Promise<{ url: string; calls: () => number; close: () => Promise<void> }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls += 1;
    req.resume();
    const timer = setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ positions, count: positions.length, success: true }));
    }, delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('readPosition within an API budget (spendApiCall)', () => {
  it('spends one call per read that goes out, none for a shared or cached answer, and reads api-budget-spent without calling once spent', async () => {
    const spent: string[] = [];
    let left = 2;
    const budgeted = createCrossTradeClient({
      apiBaseUrl: sim.url,
      apiTimeoutMs: API_TIMEOUT,
      forwardTimeoutMs: FORWARD_TIMEOUT,
      positionCacheMs: 1000,
      now: () => clock,
      spendApiCall: async (apiKey) => {
        spent.push(apiKey);
        return left-- > 0;
      },
    });
    try {
      await Promise.all(Array.from({ length: 5 }, () => budgeted.readPosition('Sim101', 'RTY', KEY)));
      await budgeted.readPosition('Sim101', 'RTY', KEY);
      expect([spent.length, sim.apiCalls]).toEqual([1, 1]);
      expect(await budgeted.readPosition('Sim102', 'RTY', KEY)).toEqual({ kind: 'flat', takenAt: START });
      const refused = await Promise.all([budgeted.readPosition('Sim103', 'RTY', KEY), budgeted.readPosition('Sim103', 'ES', KEY)]);
      expect(refused).toEqual([
        { kind: 'unknown', takenAt: START, reason: 'api-budget-spent' },
        { kind: 'unknown', takenAt: START, reason: 'api-budget-spent' },
      ]);
      expect([spent.length, sim.apiCalls]).toEqual([3, 2]);
    } finally {
      await budgeted.close();
    }
  });
});

describe('readPosition with a deadline of its own (timeoutMs)', () => {
  const LONG_2 = { kind: 'open', takenAt: START, direction: 'long', quantity: 2, detail: 'Long 2 RTY 03-26' } as const;
  const book = [{ account: 'Sim101', instrument: 'RTY 03-26', marketPosition: 'Long', quantity: 2 }];
  let api: Awaited<ReturnType<typeof slowApi>>;
  let slow: CrossTradeClient;
  const API_DELAY = 200;

  beforeEach(async () => {
    api = await slowApi(API_DELAY, book);
    slow = createCrossTradeClient({ apiBaseUrl: api.url, apiTimeoutMs: 1000, forwardTimeoutMs: 300, positionCacheMs: 10_000, now: () => clock });
  });
  afterEach(async () => {
    await slow.close();
    await api.close();
  });

  it('answers unknown api-timeout by its own shorter deadline, while the shared call goes on for the others', async () => {
    const [[short, shortMs], [full, fullMs]] = await Promise.all([
      elapsed(() => slow.readPosition('Sim101', 'RTY', KEY, 50)),
      elapsed(() => slow.readPosition('SIM101', 'RTY1!', KEY)),
    ]);
    expect(short).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-timeout' });
    expect(shortMs).toBeGreaterThanOrEqual(45);
    expect(shortMs).toBeLessThan(API_DELAY - 50);
    expect(full).toEqual(LONG_2);
    expect(fullMs).toBeGreaterThanOrEqual(API_DELAY - 20);
    expect(api.calls()).toBe(1);
  });

  it('lets the call a short deadline gave up on finish and fill the cache', async () => {
    expect(await slow.readPosition('Sim101', 'RTY', KEY, 30)).toMatchObject({ kind: 'unknown', reason: 'api-timeout' });
    await new Promise((resolve) => setTimeout(resolve, API_DELAY + 100));
    clock = START + 50;
    const [reading, ms] = await elapsed(() => slow.readPosition('Sim101', 'RTY', KEY, 1));
    expect(reading).toEqual(LONG_2); // stamped when asked
    expect(ms).toBeLessThan(50);
    expect(api.calls()).toBe(1);
  });

  it('reads the answer when it comes before the deadline', async () => {
    const [reading, ms] = await elapsed(() => slow.readPosition('Sim101', 'RTY', KEY, API_DELAY + 300));
    expect(reading).toEqual(LONG_2);
    expect(ms).toBeLessThan(API_DELAY + 200);
  });

  it('answers unknown at once for a deadline already passed', async () => {
    const [reading, ms] = await elapsed(() => slow.readPosition('Sim101', 'RTY', KEY, -5));
    expect(reading).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-timeout' });
    expect(ms).toBeLessThan(50);
  });

  it('never waits past the API timeout, whatever longer deadline is given', async () => {
    sim.failApi({ kind: 'hang' });
    const [reading, ms] = await elapsed(() => client.readPosition('Sim101', 'RTY', KEY, 5_000));
    expect(reading).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-timeout' });
    expect(ms).toBeLessThan(API_TIMEOUT + SLACK);
  });

  it('leaves no rejection unhandled when the shared call fails after a short deadline gave up on it', async () => {
    sim.failApi({ kind: 'hang' });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const [reading, ms] = await elapsed(() => client.readPosition('Sim101', 'RTY', KEY, 40));
      expect(reading).toEqual({ kind: 'unknown', takenAt: START, reason: 'api-timeout' });
      expect(ms).toBeLessThan(API_TIMEOUT - 100);
      await new Promise((resolve) => setTimeout(resolve, API_TIMEOUT + 100));
      expect(unhandled).toEqual([]);
      // the failure was not cached: the next read asks again
      sim.failApi(null);
      expect(await client.readPosition('Sim101', 'RTY', KEY, 200)).toEqual({ kind: 'flat', takenAt: START });
      expect(sim.apiCalls).toBe(2);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('forward', () => {
  const order = (key = KEY) => `key=${key};command=PLACE;account=Sim101;instrument=RTY 03-26;action=BUY;qty=1;order_type=MARKET;tif=DAY;`;

  it('sends the text once as text/plain and reports acceptance', async () => {
    const outcome = await client.forward(sim.webhookUrl(KEY), order());
    expect(outcome).toEqual({ ok: true, status: 200, body: '{"success":true}' });
    expect(sim.received).toHaveLength(1);
    expect(sim.received[0]).toMatchObject({ body: order(), contentType: 'text/plain; charset=utf-8', status: 200 });
    expect(sim.positions('Sim101')).toMatchObject([{ instrument: 'RTY 03-26', marketPosition: 'Long', quantity: 1 }]);
  });

  it('reports a 4xx as definite: a refused key', async () => {
    const outcome = await client.forward(sim.webhookUrl(KEY), order('not-the-key'));
    expect(outcome).toEqual({ ok: false, ambiguous: false, reason: 'upstream-http-401', status: 401, body: '{"success":false,"error":"invalid_key"}' });
    expect(sim.positions()).toEqual([]);
  });

  it('reports an injected 400 as definite', async () => {
    sim.failWebhook({ kind: 'status', status: 400 });
    expect(await client.forward(sim.webhookUrl(), order())).toMatchObject({ ok: false, ambiguous: false, reason: 'upstream-http-400', status: 400 });
  });

  it('reports a 5xx as ambiguous and does not retry it', async () => {
    sim.failWebhook({ kind: 'status', status: 502 });
    expect(await client.forward(sim.webhookUrl(), order())).toMatchObject({ ok: false, ambiguous: true, reason: 'upstream-http-502', status: 502 });
    expect(sim.received).toHaveLength(1);
  });

  it('reports a hang as an ambiguous timeout within the forward timeout', async () => {
    sim.failWebhook({ kind: 'hang' });
    const [outcome, ms] = await elapsed(() => client.forward(sim.webhookUrl(), order()));
    expect(outcome).toEqual({ ok: false, ambiguous: true, reason: 'upstream-timeout', status: null });
    expect(ms).toBeGreaterThanOrEqual(FORWARD_TIMEOUT - 20);
    expect(ms).toBeLessThan(FORWARD_TIMEOUT + SLACK);
    expect(sim.received).toHaveLength(1);
  });

  it('reports a dropped connection after the request as ambiguous, once', async () => {
    sim.failWebhook({ kind: 'drop' });
    expect(await client.forward(sim.webhookUrl(), order())).toEqual({ ok: false, ambiguous: true, reason: 'upstream-connection-lost', status: null });
    expect(sim.received).toHaveLength(1);
  });

  it('reports a refused connection as definite', async () => {
    const url = `${await closedPortUrl()}/v1/send/abc/def`;
    expect(await client.forward(url, order())).toEqual({ ok: false, ambiguous: false, reason: 'upstream-connection-refused', status: null });
  });

  it.each(['not a url', 'ftp://example.com/v1/send/a/b', ''])('reports the invalid URL %j as a definite network error', async (url) => {
    expect(await client.forward(url, order())).toEqual({ ok: false, ambiguous: false, reason: 'upstream-network-error', status: null });
  });

  it('reports a forward after close() as definite, and reads unknown', async () => {
    await client.close();
    expect(await client.forward(sim.webhookUrl(), order())).toEqual({ ok: false, ambiguous: false, reason: 'upstream-network-error', status: null });
    expect(await client.readPosition('Sim101', 'RTY', KEY)).toMatchObject({ kind: 'unknown', reason: 'api-network-error' });
    expect(sim.received).toHaveLength(0);
  });

  it('never carries the key or the webhook path in an outcome', async () => {
    const url = sim.webhookUrl();
    const path = new URL(url).pathname;
    const outcomes = [await client.forward(url, order())];
    for (const fault of [{ kind: 'status', status: 500 }, { kind: 'hang' }, { kind: 'drop' }] as const) {
      sim.failWebhook(fault);
      outcomes.push(await client.forward(url, order()));
    }
    for (const outcome of outcomes) {
      const text = JSON.stringify(outcome);
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(path.split('/')[3]!);
      expect(text).not.toContain(path.split('/')[4]!);
    }
  });

  it('returns at most 4 KB of a large answer and still reuses the socket', async () => {
    let connections = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('x'.repeat(20_000)));
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/send/a/b`;
    try {
      const outcomes = [];
      for (let i = 0; i < 6; i++) outcomes.push(await client.forward(url, order()));
      for (const outcome of outcomes) expect(outcome).toEqual({ ok: true, status: 200, body: 'x'.repeat(4096) });
      // undici may open a second socket while the first is being released; an undrained body would need six.
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('errors from readPosition are typed CrossTrade errors underneath', () => {
  it('exposes the same reason on the thrown error as in the reading', async () => {
    sim.failApi({ kind: 'status', status: 429 });
    const error = await caught(client.getPositions('Sim101', KEY));
    expect(isCrossTradeError(error) && error.reason).toBe('api-rate-limited-429');
    expect((error as CrossTradeHttpError).code).toBe('Rate limit exceeded');
  });
});
