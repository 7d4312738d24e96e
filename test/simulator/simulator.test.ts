import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/create-simulator.js';
import { runSimulator } from '../../src/simulator/run-simulator.js';

const KEY = 'sim-key';
const APRIL_2026 = Date.UTC(2026, 3, 10, 14, 30);

let sim: Simulator;
let agent: Agent;
let clock: number;

beforeEach(async () => {
  clock = APRIL_2026;
  sim = await startSimulator({ keys: [KEY, 'second-key'], now: () => clock });
  agent = new Agent();
});

afterEach(async () => {
  await sim.close();
  await agent.close();
});

async function post(body: string, url = sim.webhookUrl(), contentType = 'text/plain'): Promise<{ status: number; json: unknown }> {
  const response = await request(url, { dispatcher: agent, method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: response.statusCode, json: await response.body.json() };
}

async function get(path: string, key: string | null = KEY): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = key === null ? {} : { authorization: `Bearer ${key}` };
  const response = await request(`${sim.url}${path}`, { dispatcher: agent, headers });
  return { status: response.statusCode, text: await response.body.text() };
}

function msg(fields: Record<string, string | number>, key = KEY): string {
  return `key=${key};${Object.entries(fields)
    .map(([k, v]) => `${k}=${v};`)
    .join('')}`;
}

function place(action: 'BUY' | 'SELL', qty: number, extra: Record<string, string | number> = {}): string {
  return msg({ command: 'PLACE', account: 'Sim101', instrument: 'RTY 06-26', action, qty, order_type: 'MARKET', tif: 'DAY', ...extra });
}

/** [marketPosition, quantity] per instrument of the account, as the API shows them. */
function book(account = 'Sim101'): Array<[string, string, number]> {
  return sim.positions(account).map((p) => {
    const { instrument, marketPosition, quantity } = p as { instrument: string; marketPosition: string; quantity: number };
    return [instrument, marketPosition, quantity];
  });
}

describe('webhook', () => {
  it('fills a MARKET order at once and answers success', async () => {
    expect(await post(place('BUY', 2))).toEqual({ status: 200, json: { success: true } });
    expect(book()).toEqual([['RTY 06-26', 'Long', 2]]);
  });

  it('nets buys and sells into one position per contract, through flat to the other side', async () => {
    await post(place('BUY', 2));
    await post(place('BUY', 1));
    expect(book()).toEqual([['RTY 06-26', 'Long', 3]]);
    await post(place('SELL', 3));
    expect(book()).toEqual([]);
    await post(place('SELL', 1));
    expect(book()).toEqual([['RTY 06-26', 'Short', 1]]);
  });

  it('reads field names in any case, one per line or on one line', async () => {
    await post(`KEY=${KEY};\nCommand=place;\nACCOUNT=Sim101;\nInstrument=rty 06-26;\nAction=buy;\nQTY=1;\nORDER_TYPE=market;\nTIF=DAY;\n`);
    expect(book()).toEqual([['RTY 06-26', 'Long', 1]]);
  });

  it.each([
    ['RTYH2026', 'RTY 03-26'],
    ['RTYH26', 'RTY 03-26'],
    ['RTYH6', 'RTY 03-26'],
    ['CME_MINI:RTYM2026', 'RTY 06-26'],
    ['ES SEP25', 'ES 09-25'],
    ['RTY1!', 'RTY 06-26'],
    ['RTY', 'RTY 06-26'],
    ['M2K', 'M2K 06-26'],
  ])('books %s as %s (front quarterly month from April)', async (instrument, contract) => {
    await post(place('BUY', 1, { instrument }));
    expect(book()).toEqual([[contract, 'Long', 1]]);
  });

  it.each([
    [Date.UTC(2026, 0, 5), 'RTY 03-26'],
    [Date.UTC(2026, 2, 31), 'RTY 03-26'],
    [Date.UTC(2026, 11, 1), 'RTY 12-26'],
  ])('maps a continuous name to the front quarterly month at or after the current one (%i)', async (at, contract) => {
    clock = at;
    await post(place('BUY', 1, { instrument: 'RTY1!' }));
    expect(book()).toEqual([[contract, 'Long', 1]]);
  });

  it('keeps accounts apart and matches their names case-insensitively, echoing the first spelling', async () => {
    await post(place('BUY', 1, { account: 'Sim101' }));
    await post(place('BUY', 1, { account: 'SIM101' }));
    await post(place('SELL', 1, { account: 'Sim102' }));
    expect(book('sim101')).toEqual([['RTY 06-26', 'Long', 2]]);
    expect(sim.positions('Sim101')).toMatchObject([{ account: 'Sim101' }]);
    expect(book('Sim102')).toEqual([['RTY 06-26', 'Short', 1]]);
  });

  it('clones account=A,B once per account', async () => {
    await post(place('BUY', 2, { account: 'Sim101, Sim102' }));
    expect(book('Sim101')).toEqual([['RTY 06-26', 'Long', 2]]);
    expect(book('Sim102')).toEqual([['RTY 06-26', 'Long', 2]]);
  });

  it('rests LIMIT and STOP orders as working orders until they are filled', async () => {
    await post(place('BUY', 2, { order_type: 'LIMIT', limit_price: 2400.5 }));
    await post(place('SELL', 1, { order_type: 'STOP', stop_price: 2300, account: 'Sim102' }));
    expect(book()).toEqual([]);
    expect(sim.workingOrders('Sim101')).toEqual([
      {
        orderId: 'sim-1',
        account: 'Sim101',
        instrument: 'RTY 06-26',
        action: 'Buy',
        orderType: 'Limit',
        quantity: 2,
        limitPrice: 2400.5,
        stopPrice: null,
        orderState: 'Working',
      },
    ]);
    sim.fillWorkingOrders('Sim101');
    expect(sim.workingOrders('Sim101')).toEqual([]);
    expect(sim.positions('Sim101')).toMatchObject([{ instrument: 'RTY 06-26', marketPosition: 'Long', quantity: 2, averagePrice: 2400.5 }]);
    expect(sim.workingOrders()).toHaveLength(1);
    sim.fillWorkingOrders();
    expect(book('Sim102')).toEqual([['RTY 06-26', 'Short', 1]]);
  });

  it('closes a whole position with CLOSEPOSITION, or part of it with qty', async () => {
    await post(place('BUY', 3));
    await post(msg({ command: 'CLOSEPOSITION', account: 'Sim101', instrument: 'RTY 06-26', qty: 1 }));
    expect(book()).toEqual([['RTY 06-26', 'Long', 2]]);
    await post(msg({ command: 'CLOSEPOSITION', account: 'Sim101', instrument: 'RTY 06-26', qty: 9 }));
    expect(book()).toEqual([]);
    await post(place('SELL', 2));
    await post(msg({ command: 'CLOSEPOSITION', account: 'Sim101', instrument: 'RTYM26' }));
    expect(book()).toEqual([]);
  });

  it('leaves working orders in place on CLOSEPOSITION', async () => {
    await post(place('BUY', 1));
    await post(place('SELL', 1, { order_type: 'STOP', stop_price: 2300 }));
    await post(msg({ command: 'CLOSEPOSITION', account: 'Sim101', instrument: 'RTY 06-26' }));
    expect(book()).toEqual([]);
    expect(sim.workingOrders()).toHaveLength(1);
  });

  it('FLATTEN closes the position and cancels working orders of that instrument only', async () => {
    await post(place('BUY', 2));
    await post(place('SELL', 2, { order_type: 'LIMIT', limit_price: 2500 }));
    await post(place('BUY', 1, { instrument: 'ES 06-26', order_type: 'LIMIT', limit_price: 5000 }));
    await post(msg({ command: 'FLATTEN', account: 'Sim101', instrument: 'RTY1!' }));
    expect(book()).toEqual([]);
    expect(sim.workingOrders()).toMatchObject([{ instrument: 'ES 06-26' }]);
  });

  it('REVERSE turns a position around and does nothing when flat', async () => {
    await post(msg({ command: 'REVERSE', account: 'Sim101', instrument: 'RTY 06-26' }));
    expect(book()).toEqual([]);
    await post(place('BUY', 4));
    await post(msg({ command: 'REVERSE', account: 'Sim101', instrument: 'RTY 06-26' }));
    expect(book()).toEqual([['RTY 06-26', 'Short', 4]]);
  });

  it('refuses a body whose key is missing or is not the key of the URL', async () => {
    const invalid = { status: 401, json: { success: false, error: 'invalid_key' } };
    expect(await post(place('BUY', 1).replace(`key=${KEY};`, ''))).toEqual(invalid);
    expect(await post(place('BUY', 1), sim.webhookUrl('second-key'))).toEqual(invalid);
    expect(await post(place('BUY', 1).replace(KEY, 'second-key'), sim.webhookUrl('second-key'))).toEqual({ status: 200, json: { success: true } });
    expect(await post(place('BUY', 1), `${sim.url}/v1/send/unknown/path`)).toEqual(invalid);
    expect(book()).toEqual([['RTY 06-26', 'Long', 1]]);
  });

  it.each([
    ['command', 'missing_field'],
    ['account', 'missing_field'],
    ['instrument', 'missing_field'],
  ])('answers 400 when %s is missing', async (field, error) => {
    const fields: Record<string, string | number> = { command: 'PLACE', account: 'Sim101', instrument: 'RTY 06-26', action: 'BUY', qty: 1 };
    delete fields[field];
    expect(await post(msg(fields))).toEqual({ status: 400, json: { success: false, error, detail: `missing required field: ${field.toUpperCase()}` } });
  });

  it.each([
    ['an unreadable instrument', { instrument: 'RT Y' }, 'invalid_instrument'],
    ['no qty', { qty: '' }, 'missing_field'],
    ['a fractional qty', { qty: '1.5' }, 'missing_field'],
    ['an unknown action', { action: 'HOLD' }, 'invalid_action'],
    ['an unknown order type', { order_type: 'ICEBERG' }, 'invalid_order_type'],
    ['an unknown command', { command: 'TELEPORT' }, 'unknown_command'],
  ])('answers 400 for %s and changes nothing', async (_, extra, error) => {
    const { status, json } = await post(place('BUY', 1, extra));
    expect(status).toBe(400);
    expect(json).toMatchObject({ success: false, error });
    expect(book()).toEqual([]);
  });

  it('records every webhook POST with its body, content type and answer', async () => {
    await post(place('BUY', 1), sim.webhookUrl(), 'text/plain; charset=utf-8');
    await post('key=wrong;', sim.webhookUrl(), 'application/json');
    expect(sim.received).toEqual([
      { body: place('BUY', 1), contentType: 'text/plain; charset=utf-8', status: 200, at: APRIL_2026 },
      { body: 'key=wrong;', contentType: 'application/json', status: 401, at: APRIL_2026 },
    ]);
  });

  it('gives each key its own opaque webhook URL', () => {
    const a = new URL(sim.webhookUrl(KEY));
    const b = new URL(sim.webhookUrl('second-key'));
    expect(a.pathname).toMatch(/^\/v1\/send\/[0-9a-f]+\/[0-9a-f]+$/);
    expect(a.pathname).not.toBe(b.pathname);
    expect(a.pathname).not.toContain(KEY);
    expect(sim.webhookUrl()).toBe(sim.webhookUrl(KEY));
    expect(() => sim.webhookUrl('nobody')).toThrow('simulator: unknown key');
  });

  it('sets positions by hand, as a stop or a manual trade would', async () => {
    await post(place('BUY', 2));
    sim.setPosition('sim101', 'RTYM6', 'Flat', 0);
    expect(book()).toEqual([]);
    sim.setPosition('Sim101', 'ES1!', 'Short', 3);
    expect(book()).toEqual([['ES 06-26', 'Short', 3]]);
    expect(() => sim.setPosition('Sim101', 'E S', 'Long', 1)).toThrow();
  });
});

describe('positions API', () => {
  it('answers the documented shape for one account, omitting flat positions', async () => {
    await post(place('BUY', 2));
    await post(place('SELL', 1, { instrument: 'ES 06-26' }));
    await post(place('BUY', 1, { instrument: 'ES 06-26' }));
    await post(place('BUY', 1, { account: 'Sim102' }));
    const { status, text } = await get('/v1/api/accounts/sim101/positions');
    expect(status).toBe(200);
    expect(JSON.parse(text)).toEqual({
      positions: [
        {
          type: 'NinjaTrader.Cbi.Position',
          account: 'Sim101',
          instrument: 'RTY 06-26',
          instrumentType: 'Future',
          marketPosition: 'Long',
          quantity: 2,
          averagePrice: 1000,
          marketPrice: 1000,
          unrealizedProfitLoss: 0,
          tag: null,
        },
      ],
      count: 1,
      success: true,
    });
  });

  it('lists every account on /v1/api/positions and flat ones with includeFlat=true', async () => {
    await post(place('BUY', 1));
    await post(place('SELL', 1, { account: 'Sim102' }));
    await post(place('BUY', 1, { account: 'Sim102' }));
    expect(JSON.parse((await get('/v1/api/positions')).text)).toMatchObject({ count: 1, positions: [{ account: 'Sim101' }] });
    expect(JSON.parse((await get('/v1/api/positions?includeFlat=true')).text)).toMatchObject({
      count: 2,
      positions: [{ account: 'Sim101' }, { account: 'Sim102', marketPosition: 'Flat', quantity: 0 }],
    });
  });

  it('refuses a missing or unknown bearer key with 401', async () => {
    expect(await get('/v1/api/positions', null)).toEqual({ status: 401, text: '{"success":false,"error":"unauthorized"}' });
    expect(await get('/v1/api/positions', 'nope')).toEqual({ status: 401, text: '{"success":false,"error":"unauthorized"}' });
    expect(await get('/v1/api/positions', 'second-key')).toMatchObject({ status: 200 });
  });

  it('counts every positions request, answered or failed, and no other', async () => {
    await get('/v1/api/positions');
    await get('/v1/api/accounts/Sim101/positions', null);
    sim.failApi({ kind: 'status', status: 500 });
    await get('/v1/api/accounts/Sim101/positions');
    await get('/v1/api/nothing');
    await post(place('BUY', 1));
    expect(sim.apiCalls).toBe(3);
  });

  it('answers an unknown API route with a structured 404', async () => {
    const { status, text } = await get('/v1/api/accounts/Sim101/position');
    expect(status).toBe(404);
    expect(JSON.parse(text)).toEqual({
      success: false,
      error: 'not_found',
      detail: 'Unknown API route',
      did_you_mean: '/v1/api/accounts/{account}/positions',
    });
  });
});

describe('faults', () => {
  it.each([
    [408, '{"success":false,"error":"not_connected"}'],
    [429, '{"error":"Rate limit exceeded"}'],
    [500, '{"success":false,"error":"simulated_failure"}'],
  ])('makes the API answer %i with CrossTrade’s body', async (status, text) => {
    sim.failApi({ kind: 'status', status });
    expect(await get('/v1/api/positions')).toEqual({ status, text });
  });

  it('makes the API answer a given body, and garbage as a 200 that is not JSON', async () => {
    sim.failApi({ kind: 'status', status: 200, body: '{"success":true}' });
    expect(await get('/v1/api/positions')).toEqual({ status: 200, text: '{"success":true}' });
    sim.failApi({ kind: 'garbage' });
    const garbage = await get('/v1/api/positions');
    expect(garbage.status).toBe(200);
    expect(() => JSON.parse(garbage.text)).toThrow();
    sim.failApi(null);
    expect(JSON.parse((await get('/v1/api/positions')).text)).toEqual({ positions: [], count: 0, success: true });
  });

  it('makes the API hang until close() ends the request', async () => {
    sim.failApi({ kind: 'hang' });
    const pending = request(`${sim.url}/v1/api/positions`, { dispatcher: agent, headers: { authorization: `Bearer ${KEY}` } });
    const outcome = pending.then(
      () => 'answered',
      () => 'ended',
    );
    const early = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 200))]);
    expect(early).toBe('still waiting');
    await sim.close();
    expect(await outcome).toBe('ended');
  });

  it('makes the webhook answer a status without touching the book', async () => {
    sim.failWebhook({ kind: 'status', status: 503 });
    expect(await post(place('BUY', 1))).toEqual({ status: 503, json: { success: false, error: 'simulated_failure' } });
    expect(book()).toEqual([]);
    expect(sim.received).toMatchObject([{ status: 503 }]);
  });

  it('can apply the order and still fail the answer (the order went through)', async () => {
    sim.failWebhook({ kind: 'status', status: 504, apply: true });
    expect((await post(place('BUY', 1))).status).toBe(504);
    expect(book()).toEqual([['RTY 06-26', 'Long', 1]]);
  });

  it('drops the connection after reading the request', async () => {
    sim.failWebhook({ kind: 'drop' });
    await expect(post(place('BUY', 1))).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(sim.received).toMatchObject([{ body: place('BUY', 1), status: 0 }]);
    expect(book()).toEqual([]);
  });

  it('makes the webhook hang until close()', async () => {
    sim.failWebhook({ kind: 'hang', apply: true });
    const outcome = post(place('BUY', 1)).then(
      () => 'answered',
      () => 'ended',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(book()).toEqual([['RTY 06-26', 'Long', 1]]);
    await sim.close();
    expect(await outcome).toBe('ended');
  });

  it('reset() empties the book, the records, the count and the faults', async () => {
    await post(place('BUY', 1));
    await post(place('BUY', 1, { order_type: 'LIMIT', limit_price: 1 }));
    await get('/v1/api/positions');
    sim.failApi({ kind: 'status', status: 500 });
    sim.failWebhook({ kind: 'status', status: 500 });
    sim.reset();
    expect([sim.positions(), sim.workingOrders(), sim.received, sim.apiCalls]).toEqual([[], [], [], 0]);
    expect((await get('/v1/api/positions')).status).toBe(200);
    expect((await post(place('BUY', 1))).status).toBe(200);
  });
});

describe('runSimulator', () => {
  it('starts the simulator and prints the webhook URL, the API URL and the key', async () => {
    const lines: string[] = [];
    const run = await runSimulator({ host: '127.0.0.1', port: 0, key: 'cli-key', print: (line) => lines.push(line) });
    try {
      expect(lines).toEqual([
        `CrossTrade simulator listening on ${run.url}`,
        `Webhook URL (a user's CrossTrade webhook): ${run.webhookUrl('cli-key')}`,
        `API URL (CROSSTRADE_API_URL): ${run.url}`,
        'Key (webhook key and API bearer token): cli-key',
        `The book: ${run.url}/book (from this machine); each order and the book after it are printed below`,
      ]);
      expect(run.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await run.close();
    }
  });
});
