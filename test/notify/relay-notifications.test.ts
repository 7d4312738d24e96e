import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { NOTIFY_EVENTS } from '../../src/notify/notify-events.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { startNotifyStandIn, type NotifyStandIn } from '../helpers/start-notify-stand-in.js';
import { startSmtpStandIn, type SmtpStandIn } from '../helpers/start-smtp-stand-in.js';
import { alertText, entry, exit, startTestRig, type TestRig, USER_KEY } from '../helpers/start-test-relay.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// End to end: TradingView's alert over HTTP → the real relay → the CrossTrade simulator; the
// notifications land on loopback stand-ins for Discord, Telegram, the generic webhook and SMTP.
const PAST_GRACE_MS = 10_001;
const DISCORD_TOKEN = 'discord-webhook-token-0123456789';
const DISCORD_PATH = `/api/webhooks/998877665544332211/${DISCORD_TOKEN}`;
const TELEGRAM_TOKEN = '424242:telegram-bot-token-abcdefghij';
const WEBHOOK_TOKEN = 'generic-webhook-token-0123456789';
const RELAY_SECRET = 'bobs-passphrase-0123456789';

type Payload = { event: string; relay_user: string | null; relay_id: string | null; decision: string | null; reason: string; signal_type: string | null };

describe('notifications from a running relay', () => {
  let rig: TestRig | null = null;
  let webhook: NotifyStandIn;
  let discord: NotifyStandIn | null = null;
  let telegram: NotifyStandIn | null = null;
  let smtp: SmtpStandIn | null = null;
  const events = () => webhook.received.map((r) => r.json as Payload);
  /** The alerts' events told so far (without the relay's own). */
  const alertEvents = () => events().filter((p) => p.relay_user !== null);
  const waitForEvent = async (event: string) => {
    for (let i = 0; i < 500 && !events().some((p) => p.event === event); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    const found = events().find((p) => p.event === event);
    if (found === undefined)
      throw new Error(
        `no ${event} notification; got ${events()
          .map((p) => p.event)
          .join(', ')}`,
      );
    return found;
  };

  const start = async (overrides: Partial<Config> = {}, all = false) => {
    webhook = await startNotifyStandIn('webhook');
    rig = await startTestRig({
      notifyWebhookUrl: `${webhook.url}/hook/${WEBHOOK_TOKEN}`,
      ...(all ? { notifyEvents: [...NOTIFY_EVENTS] } : {}),
      ...overrides,
    });
    return rig;
  };

  afterEach(async () => {
    await rig?.close();
    rig = null;
    await webhook.close();
    await discord?.close();
    await telegram?.close();
    await smtp?.close();
    discord = telegram = smtp = null;
  });

  it('tells a blocked entry (and, with forwarded enabled, the forward), and the relay’s start and stop', async () => {
    const r = await start({}, true);
    expect((await r.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await r.post(entry('B'))).body.decision).toBe('blocked');
    const blocked = await waitForEvent('blocked');
    expect(blocked).toMatchObject({ relay_user: 'bob', relay_id: 'B', decision: 'blocked', signal_type: 'entry' });
    expect(blocked.reason).toMatch(/^owner-order-pending: owned by A/);
    expect((await waitForEvent('forwarded')).relay_id).toBe('A');
    await r.close();
    expect(events()[0]?.event).toBe('relay_started');
    expect(events().at(-1)).toMatchObject({ event: 'relay_stopped', reason: 'the relay was stopped' });
  });

  it('does not tell forwards by default', async () => {
    const r = await start();
    await r.post(entry('A'));
    await r.post(exit('A'));
    await r.post(entry('B', { account: 'Sim102' }));
    await r.post(entry('C', { account: 'Sim102' }));
    await waitForEvent('blocked');
    expect(alertEvents().map((p) => [p.event, p.relay_id])).toEqual([['blocked', 'C']]);
  });

  it('tells a forward CrossTrade refused as failed', async () => {
    const r = await start();
    r.sim.failWebhook({ kind: 'status', status: 400, times: 1 });
    expect((await r.post(entry('A'))).body.decision).toBe('failed');
    expect(await waitForEvent('failed')).toMatchObject({
      relay_id: 'A',
      decision: 'failed',
      reason: 'forward-failed: upstream-http-400; nothing was placed',
    });
  });

  it('tells crosstrade_unreachable when NinjaTrader is not connected (API 408)', async () => {
    const r = await start();
    await r.post(entry('A'));
    r.advance(PAST_GRACE_MS);
    r.sim.failApi({ kind: 'status', status: 408 });
    expect((await r.post(entry('B'))).body.decision).toBe('blocked');
    expect(await waitForEvent('crosstrade_unreachable')).toMatchObject({
      relay_id: 'B',
      decision: 'blocked',
      reason: 'position-check-failed: owned by A, CrossTrade check failed (api-not-connected-408)',
    });
  });

  it('tells crosstrade_unreachable when CrossTrade’s webhook cannot be reached', async () => {
    const r = await start();
    r.sim.failWebhook({ kind: 'status', status: 503, times: 1 });
    expect((await r.post(entry('A'))).body.decision).toBe('unknown');
    expect(await waitForEvent('crosstrade_unreachable')).toMatchObject({ relay_id: 'A', decision: 'unknown' });
  });

  it('tells a stale owner cleared, and a record CrossTrade contradicts', async () => {
    const r = await start();
    await r.post(entry('A'));
    r.sim.setPosition('Sim101', 'ES 03-26', 'Flat', 0); // an ATM stop closed it
    r.advance(PAST_GRACE_MS);
    expect((await r.post(entry('B'))).body.decision).toBe('forwarded');
    expect(await waitForEvent('stale_owner_cleared')).toMatchObject({ relay_id: 'B', decision: 'forwarded' });
    // A still believes it is long; the record gave the key to B and CrossTrade holds B's long.
    r.advance(PAST_GRACE_MS);
    expect((await r.post(exit('B', { extra: 'market_position_size=0; prev_market_position_size=3' }))).body.decision).toBe('dropped');
    expect((await waitForEvent('reconcile_needed')).reason).toMatch(/^position-mismatch: /);
  });

  it('tells reconcile_needed at start when orders were in flight as the relay last stopped', async () => {
    const temp = makeTempDir();
    try {
      const dbPath = temp.file('relay.db');
      const store = createSqliteStore(dbPath);
      await store.appendLog({
        time: Date.now(),
        relayUser: 'bob',
        relayId: 'A',
        account: 'Sim101',
        instrument: 'ES 03-26',
        signalType: 'entry',
        decision: 'pending',
        reason: 'entry: nobody owns the position',
        apiCheck: null,
        upstreamStatus: null,
        latencyMs: null,
        alert: entry('A'),
      });
      await store.close();
      await start({ dbPath });
      expect(await waitForEvent('reconcile_needed')).toMatchObject({
        relay_user: null,
        reason: '1 alert(s) were being forwarded when the relay last stopped: their orders may have been placed; check the positions in NinjaTrader',
      });
      await rig?.close();
      rig = null;
    } finally {
      temp.cleanup();
    }
  });

  it('tells an alert refused at the gate (allow-list) as rejected', async () => {
    const r = await start({ webhookAllow: '203.0.113.9' });
    expect((await r.post(entry('A'))).status).toBe(403);
    expect(await waitForEvent('rejected')).toMatchObject({
      relay_user: null,
      decision: 'rejected',
      reason: 'source address 127.0.0.1 is not allowed to send alerts (RELAY_WEBHOOK_ALLOW)',
    });
  });

  it('answers TradingView while a channel hangs, and stops within its bound', async () => {
    webhook = await startNotifyStandIn('webhook');
    webhook.hold();
    rig = await startTestRig({ notifyWebhookUrl: `${webhook.url}/hook`, notifyEvents: [...NOTIFY_EVENTS] });
    await webhook.waitFor(1); // relay_started, held unanswered
    expect((await rig.post(entry('A'))).body.decision).toBe('forwarded');
    expect((await rig.post(entry('B'))).body.decision).toBe('blocked');
    // Both answers came while the channel had not answered its first message: the alerts' messages wait behind it.
    expect(webhook.pending).toBe(1);
    expect(webhook.received).toHaveLength(1);
    await rig.relay.close();
    // Closed with the channel still hanging.
    expect(webhook.pending).toBe(1);
    expect(rig.logFileText()).toContain('notifications not sent: the relay stopped before the channel took them');
  });

  it('does not quote a key pasted into another field: not in the answer, the signal log or the message', async () => {
    const r = await start({}, true);
    const longKey = `ct-${'k'.repeat(60)}`;
    await r.relay.store.saveUser({ relayUser: 'carol', crosstradeKey: longKey, webhookUrl: r.sim.webhookUrl(USER_KEY) });
    const answers = [
      await r.post(alertText({ relayId: 'A', prev: 'flat', now: USER_KEY })),
      // A key longer than a quote shows is cut: its first characters are the secret too.
      await r.post(alertText({ relayId: 'A', prev: 'flat', now: longKey }).replace('relay_user=bob', 'relay_user=carol')),
    ];
    expect(answers.map((a) => [a.status, a.body.reason])).toEqual([
      [400, 'market_position must be long, short or flat (got "[removed]")'],
      [400, 'market_position must be long, short or flat (got "[removed]")'],
    ]);
    const logged = (await r.relay.store.listLogs({ limit: 10 })).map((row) => row.reason).join('\n');
    await r.relay.close();
    const told = webhook.received.map((req) => req.body).join('\n');
    expect(told).toContain('market_position must be long, short or flat');
    for (const text of [told, logged, r.logFileText()]) {
      expect(text).not.toContain(USER_KEY);
      expect(text).not.toContain(longKey.slice(0, 30));
    }
  });

  it('puts no key, secret, token or webhook URL in any message or log line', async () => {
    webhook = await startNotifyStandIn('webhook');
    discord = await startNotifyStandIn('discord', { path: DISCORD_PATH });
    telegram = await startNotifyStandIn('telegram', { token: TELEGRAM_TOKEN, chat: '777' });
    smtp = await startSmtpStandIn();
    rig = await startTestRig({
      notifyEvents: [...NOTIFY_EVENTS],
      notifyWebhookUrl: `${webhook.url}/hook/${WEBHOOK_TOKEN}`,
      notifyDiscordUrl: `https://discord.com${DISCORD_PATH}`,
      notifyDiscordApi: discord.url,
      notifyTelegramToken: TELEGRAM_TOKEN,
      notifyTelegramChat: '777',
      notifyTelegramApi: telegram.url,
      notifySmtpUrl: smtp.url,
      notifyEmailTo: 'trader@example.test',
    });
    expect(
      (
        await rig.admin('POST', '/users', {
          relay_user: 'bob',
          crosstrade_key: USER_KEY,
          webhook_url: rig.sim.webhookUrl(USER_KEY),
          relay_secret: RELAY_SECRET,
        })
      ).status,
    ).toBe(200);
    const answers = [
      await rig.post(`${entry('A')} key=${USER_KEY}; relay_secret=${RELAY_SECRET};`),
      await rig.post(`${entry('B')} key=${USER_KEY}; relay_secret=${RELAY_SECRET};`),
      await rig.post(`${entry('C')} relay_secret=${RELAY_SECRET}x;`),
      await rig.post(`${entry('D')} comment=go key=${USER_KEY}; relay_secret=${RELAY_SECRET};`),
    ];
    expect(answers.map((a) => a.body.decision)).toEqual(['forwarded', 'blocked', 'rejected', 'rejected']);
    // relay_started and the first three alerts on every channel; the second rejection on the same key is
    // grouped, told at close with relay_stopped.
    await Promise.all([webhook.waitFor(4), discord.waitFor(4), telegram.waitFor(4), smtp.waitFor(4)]);
    await rig.relay.close();
    const log = rig.logFileText();
    const bodies = [...webhook.received, ...discord.received, ...telegram.received].map((req) => req.body).concat(smtp.received.map((m) => m.raw));
    expect(bodies).toHaveLength(24);
    expect(bodies.filter((body) => body.includes('wrong relay_secret'))).toHaveLength(4);
    expect(bodies.filter((body) => body.includes("field comment has key= in its value: a ';' is missing before key"))).toHaveLength(4);
    for (const secret of [USER_KEY, RELAY_SECRET, DISCORD_TOKEN, TELEGRAM_TOKEN, WEBHOOK_TOKEN, 'smtp-pass-0123456789', webhook.url, discord.url]) {
      for (const body of bodies) expect(body).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
  });
});
