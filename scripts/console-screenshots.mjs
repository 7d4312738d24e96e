// `npm run screenshots`: the README's console screenshots (docs/console.png at desktop width,
// docs/console-phone.png at phone width), taken with playwright-core and Debian's Chromium from a
// relay built in dist/ in front of the CrossTrade simulator, with a few alerts of example strategies.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/config/config.js';
import { startSimulator } from '../dist/simulator/create-simulator.js';
import { startRelay } from '../dist/start-relay.js';

const TOKEN = 'screenshot-admin-token-0123456789';
const KEYS = { bob: 'ct-example-key-bob-0001', amy: 'ct-example-key-amy-0002' };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trade-relay-shots-'));
const sim = await startSimulator({ keys: Object.values(KEYS) });
const relay = await startRelay({
  ...loadConfig({}),
  port: 0,
  host: '127.0.0.1',
  dbPath: path.join(dir, 'relay.db'),
  logFile: path.join(dir, 'relay.log'),
  crosstradeApiUrl: sim.url,
  adminToken: TOKEN,
  rateLimitPerMin: 0,
});
const browser = await chromium.launch({ executablePath: process.env.RELAY_TEST_CHROMIUM ?? '/usr/bin/chromium', args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
try {
  for (const [user, key] of Object.entries(KEYS)) await relay.store.saveUser({ relayUser: user, crosstradeKey: key, webhookUrl: sim.webhookUrl(key) });
  const alert = (user, id, fields) =>
    `relay_user=${user}; relay_id=${id}; command=PLACE; account=${fields.account ?? 'Sim101'}; instrument=${fields.instrument}; action=${fields.action}; qty=1; order_type=MARKET; tif=DAY; prev_market_position=${fields.prev}; market_position=${fields.now}; market_position_size=1;`;
  const post = (body) => fetch(`${relay.url}/webhook`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
  await post(alert('bob', 'es-trend', { instrument: 'ES 03-27', action: 'BUY', prev: 'flat', now: 'long' }));
  await post(alert('bob', 'es-breakout', { instrument: 'ES 03-27', action: 'BUY', prev: 'flat', now: 'long' }));
  await post(alert('bob', 'nq-scalp', { instrument: 'NQ 03-27', action: 'SELL', prev: 'flat', now: 'short' }));
  await post(alert('amy', 'rty-meanrev', { account: 'Sim102', instrument: 'RTY 03-27', action: 'BUY', prev: 'flat', now: 'long' }));
  await post(alert('bob', 'es-breakout', { instrument: 'ES 03-27', action: 'SELL', prev: 'long', now: 'flat' }));
  await post('relay_user=bob; relay_id=gold; command=PLACE; account=Sim101; instrument=GC 04-27; action=BUY; qty=1; order_type=MARKET; tif=DAY; market_position');

  for (const [file, viewport, page] of [
    ['docs/console.png', { width: 1280, height: 720 }, '/'],
    ['docs/console-phone.png', { width: 390, height: 844 }, '/console/log'],
  ]) {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    const tab = await context.newPage();
    await tab.goto(`${relay.url}/console/login`);
    await tab.fill('#token', TOKEN);
    await Promise.all([tab.waitForNavigation(), tab.click('#login-form button[type=submit]')]);
    await tab.goto(`${relay.url}${page}`);
    if (page === '/console/log') await tab.click('#log-rows li:nth-child(2) summary');
    await tab.screenshot({ path: file });
    await context.close();
    console.log(`wrote ${file}`);
  }
} finally {
  await browser.close();
  await relay.close();
  await sim.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
