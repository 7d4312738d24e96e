import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback, type Simulator } from '../../src/simulator/create-simulator.js';
import { runSimulator } from '../../src/simulator/run-simulator.js';

// A simulator a trader can watch (issue 8): each order it receives and the book after it, the book
// at GET /book; never the key.

const KEY = 'watch-key-5f2a9c';
const TIME = /^\d{2}:\d{2}:\d{2} {2}/;

let sim: Simulator;
let lines: string[];

afterEach(async () => {
  await sim.close();
});

async function start(quiet = false, notConnected = false): Promise<void> {
  lines = [];
  sim = await runSimulator({ host: '127.0.0.1', port: 0, key: KEY, quiet, notConnected, print: (line) => lines.push(line) });
  lines.length = 0; // the start-up lines are tested in simulator.test.ts
}

async function send(fields: string, key = KEY): Promise<number> {
  const response = await fetch(sim.webhookUrl(KEY), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `key=${key}; ${fields}` });
  await response.text();
  return response.status;
}

describe('crosstrade-sim output', () => {
  it('prints each order (account, instrument, action, qty, type) and the book after it, never the key', async () => {
    await start();
    await send('command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=2; order_type=MARKET; tif=DAY;');
    await send('command=PLACE; account=Sim101; instrument=NQ 03-26; action=SELL; qty=1; order_type=LIMIT; limit_price=21000; tif=DAY;');
    await send('command=CLOSEPOSITION; account=Sim101; instrument=ES 03-26; qty=1;');
    expect(lines.map((l) => l.replace(TIME, 'HH:MM:SS  '))).toEqual([
      'HH:MM:SS  PLACE BUY 2 MARKET ES 03-26 on Sim101: accepted',
      '          book: Sim101 ES 03-26 Long 2',
      'HH:MM:SS  PLACE SELL 1 LIMIT @ 21000 NQ 03-26 on Sim101: accepted',
      '          book: Sim101 ES 03-26 Long 2; working: Sim101 NQ 03-26 Sell Limit 1 @ 21000',
      'HH:MM:SS  CLOSEPOSITION 1 ES 03-26 on Sim101: accepted',
      '          book: Sim101 ES 03-26 Long 1; working: Sim101 NQ 03-26 Sell Limit 1 @ 21000',
    ]);
    expect(lines.join('\n')).not.toContain(KEY);
  });

  it('shows the contract a continuous name was mapped to, and a refusal with its reason, without the wrong key', async () => {
    await start();
    expect(await send('command=FLATTEN; account=Sim101; instrument=ES1!;', 'wrong-key-77aa')).toBe(401);
    expect(lines[0]).toMatch(/^\d{2}:\d{2}:\d{2} {2}FLATTEN ES1! \(ES \d{2}-\d{2}\) on Sim101: refused 401 \(invalid_key\)$/);
    expect(lines[1]).toMatch(/^ {10}book: flat$/);
    expect(await send('command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; tif=DAY;')).toBe(400);
    expect(lines[2]).toMatch(/PLACE BUY MARKET ES 03-26 on Sim101: refused 400 \(Check message format, missing required field: QTY\)$/);
    expect(lines.join('\n')).not.toMatch(/wrong-key-77aa|watch-key/);
  });

  it('prints nothing per order when quiet', async () => {
    await start(true);
    await send('command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY;');
    expect(lines).toEqual([]);
  });

  it('shows the whole book at GET /book, to this machine, without a key', async () => {
    await start(true);
    await send('command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=3; order_type=MARKET; tif=DAY;');
    await send('command=PLACE; account=Sim202; instrument=NQ 03-26; action=BUY; qty=1; order_type=STOP; stop_price=20000; tif=DAY;');
    const response = await fetch(`${sim.url}/book`);
    expect(response.status).toBe(200);
    const book = (await response.json()) as { positions: unknown[]; working_orders: unknown[] };
    expect(book.positions).toEqual([expect.objectContaining({ account: 'Sim101', instrument: 'ES 03-26', marketPosition: 'Long', quantity: 3 })]);
    expect(book.working_orders).toEqual([
      expect.objectContaining({ account: 'Sim202', instrument: 'NQ 03-26', action: 'Buy', orderType: 'StopMarket', stopPrice: 20000 }),
    ]);
  });

  it("keeps a key's webhook URL when restarted (a saved user still reaches it), another key gets another", async () => {
    await start(true);
    const first = new URL(sim.webhookUrl(KEY)).pathname;
    await sim.close();
    await start(true);
    expect(new URL(sim.webhookUrl(KEY)).pathname).toBe(first);
    const other = await runSimulator({ host: '127.0.0.1', port: 0, key: 'another-key-81c2', quiet: true, print: () => undefined });
    try {
      expect(new URL(other.webhookUrl('another-key-81c2')).pathname).not.toBe(first);
    } finally {
      await other.close();
    }
  });

  it('answers 408 on the API and the webhook with --not-connected, as CrossTrade does while NinjaTrader is not connected', async () => {
    lines = [];
    sim = await runSimulator({ host: '127.0.0.1', port: 0, key: KEY, notConnected: true, print: (line) => lines.push(line) });
    expect(lines.at(-1)).toBe('NinjaTrader is not connected (--not-connected): the API and the webhook answer 408 until the simulator is restarted without it');
    lines.length = 0;
    const api = await fetch(`${sim.url}/v1/api/accounts/Sim101/positions`, { headers: { authorization: `Bearer ${KEY}` } });
    expect([api.status, await api.json()]).toEqual([408, { success: false, error: 'not_connected' }]);
    expect(await send('command=PLACE; account=Sim101; instrument=ES 03-26; action=BUY; qty=1; order_type=MARKET; tif=DAY;')).toBe(408);
    expect(lines.map((l) => l.replace(TIME, 'HH:MM:SS  '))).toEqual([
      'HH:MM:SS  PLACE BUY 1 MARKET ES 03-26 on Sim101: refused 408 (NinjaTrader not connected)',
      '          book: flat',
    ]);
    expect(sim.positions()).toEqual([]);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['::ffff:192.168.1.4', false],
    ['fe80::1', false],
    [undefined, false],
  ])('counts %s as this machine: %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback);
  });
});
