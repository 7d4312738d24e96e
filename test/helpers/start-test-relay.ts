import fs from 'node:fs';
import { loadConfig, type Config } from '../../src/config/config.js';
import { startSimulator, type Simulator } from '../../src/simulator/create-simulator.js';
import { startRelay, type RunningRelay } from '../../src/start-relay.js';
import { makeTempDir } from './temp-dir.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const USER_KEY = 'ct-secret-key-bob-123456';

export interface TestRig {
  relay: RunningRelay;
  sim: Simulator;
  config: Config;
  /** The relay's and the simulator's clock: real time plus what `advance` added. */
  now(): number;
  /** Moves the shared clock forward (ms): the fill grace, TradingView's 5 s resend delay, ... pass at once. */
  advance(ms: number): void;
  /** The simulator's net position on Sim101 (or `account`), as `['Long 1']`; [] when flat: the book a safety test is judged by. */
  book(account?: string): string[];
  /** POST an alert to the relay's /webhook. */
  post(body: string, contentType?: string): Promise<{ status: number; body: AlertAnswer; ms: number }>;
  /** Call a management route with the admin token (or the given Authorization header). */
  admin(
    method: string,
    path: string,
    body?: unknown,
    authorization?: string | null,
  ): // biome-ignore lint/suspicious/noExplicitAny: route answers are asserted field by field in tests
  Promise<{ status: number; body: any; text: string }>;
  logFileText(): string;
  close(): Promise<void>;
}

export interface AlertAnswer {
  decision: string;
  signal_type: string | null;
  reason: string;
}

/**
 * A relay on 127.0.0.1 (free port, temp SQLite file, temp log file) in front of a CrossTrade
 * simulator, with user `bob` whose key is USER_KEY. Close it in afterEach.
 */
export async function startTestRig(overrides: Partial<Config> = {}, options: { addUser?: boolean } = {}): Promise<TestRig> {
  const temp = makeTempDir();
  let offset = 0;
  const now = () => Date.now() + offset;
  const sim = await startSimulator({ keys: [USER_KEY], now });
  const config: Config = {
    ...loadConfig({}),
    port: 0,
    host: '127.0.0.1',
    dbPath: temp.file('relay.db'),
    logFile: temp.file('relay.log'),
    crosstradeApiUrl: sim.url,
    adminToken: ADMIN_TOKEN,
    rateLimitPerMin: 0,
    // Shorter than in production so hanging-webhook tests run fast; the fill grace stays real (10 s)
    // and tests move the clock past it with advance().
    apiTimeoutMs: 400,
    forwardTimeoutMs: 600,
    ...overrides,
  };
  const relay = await startRelay(config, { now });
  if (options.addUser !== false) await relay.store.saveUser({ relayUser: 'bob', crosstradeKey: USER_KEY, webhookUrl: sim.webhookUrl(USER_KEY) });
  return {
    relay,
    sim,
    config,
    now,
    advance(ms) {
      offset += ms;
    },
    book(account = 'Sim101') {
      return sim.positions(account).map((p) => `${p.marketPosition} ${p.quantity}`);
    },
    async post(body, contentType = 'text/plain; charset=utf-8') {
      const started = performance.now();
      const response = await fetch(`${relay.url}/webhook`, { method: 'POST', headers: { 'content-type': contentType }, body });
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text) as AlertAnswer, ms: performance.now() - started };
    },
    async admin(method, path, body, authorization = `Bearer ${ADMIN_TOKEN}`) {
      const headers: Record<string, string> = {};
      if (authorization !== null) headers.authorization = authorization;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${relay.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
      return { status: response.status, body: parsed, text };
    },
    logFileText: () => (fs.existsSync(config.logFile) ? fs.readFileSync(config.logFile, 'utf8') : ''),
    async close() {
      await relay.close();
      await sim.close();
      temp.cleanup();
    },
  };
}

/** A TradingView-style strategy alert for user bob. */
export function alertText(fields: {
  relayId: string;
  prev?: string;
  now?: string;
  account?: string;
  instrument?: string;
  action?: string;
  orderType?: string;
  extra?: string;
}): string {
  const parts = [
    `relay_user=bob`,
    `relay_id=${fields.relayId}`,
    `command=PLACE`,
    `account=${fields.account ?? 'Sim101'}`,
    `instrument=${fields.instrument ?? 'ES 03-26'}`,
    `action=${fields.action ?? 'BUY'}`,
    `qty=1`,
    `order_type=${fields.orderType ?? 'MARKET'}`,
    `tif=DAY`,
  ];
  if (fields.prev !== undefined) parts.push(`prev_market_position=${fields.prev}`);
  if (fields.now !== undefined) parts.push(`market_position=${fields.now}`);
  if (fields.extra) parts.push(fields.extra);
  return parts.map((p) => `${p};`).join(' ');
}

export const entry = (relayId: string, extra: Partial<Parameters<typeof alertText>[0]> = {}) => alertText({ relayId, prev: 'flat', now: 'long', ...extra });
export const exit = (relayId: string, extra: Partial<Parameters<typeof alertText>[0]> = {}) =>
  alertText({ relayId, prev: 'long', now: 'flat', action: 'SELL', ...extra });
