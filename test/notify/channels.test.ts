import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createChannels } from '../../src/notify/create-channels.js';
import { createNotifier, type Notifier } from '../../src/notify/create-notifier.js';
import type { AlertNotice } from '../../src/notify/notification.js';
import { startNotifyStandIn, type NotifyStandIn } from '../helpers/start-notify-stand-in.js';
import { startSmtpStandIn, type SmtpStandIn } from '../helpers/start-smtp-stand-in.js';
import { notifyLog } from './notify-log.js';

const DISCORD_PATH = '/api/webhooks/123456789012345678/discord-token-abcdefghijklmnop';
const TELEGRAM_TOKEN = '123456:telegram-token-ABCDEFGHIJKLMNOP';
const TELEGRAM_CHAT = '-1001234567890';
const WEBHOOK_PATH = '/hooks/relay?token=webhook-secret-0123456789';

const NOTICE: AlertNotice = {
  time: Date.UTC(2026, 10, 30, 14, 30, 1),
  relayUser: 'bob',
  relayId: 'B',
  account: 'Sim101',
  instrument: 'ES 03-26',
  signalType: 'entry',
  decision: 'blocked',
  reason: 'not-owner: owned by A, an add would stack exposure',
};

const HUMAN = [
  'Trade Relay: alert blocked: bob/B on Sim101 ES 03-26',
  'decision: blocked (entry)',
  'reason: not-owner: owned by A, an add would stack exposure',
  'at 2026-11-30T14:30:01.000Z',
].join('\n');

describe('notification channels', () => {
  let discord: NotifyStandIn;
  let telegram: NotifyStandIn;
  let webhook: NotifyStandIn;
  let smtp: SmtpStandIn;
  let notifier: Notifier | null = null;

  const start = async () => {
    discord = await startNotifyStandIn('discord', { path: DISCORD_PATH });
    telegram = await startNotifyStandIn('telegram', { token: TELEGRAM_TOKEN, chat: TELEGRAM_CHAT });
    webhook = await startNotifyStandIn('webhook');
    smtp = await startSmtpStandIn();
    const config = loadConfig({
      RELAY_NOTIFY_DISCORD_URL: `https://discord.com${DISCORD_PATH}`,
      RELAY_NOTIFY_DISCORD_API: discord.url,
      RELAY_NOTIFY_TELEGRAM_TOKEN: TELEGRAM_TOKEN,
      RELAY_NOTIFY_TELEGRAM_CHAT: TELEGRAM_CHAT,
      RELAY_NOTIFY_TELEGRAM_API: telegram.url,
      RELAY_NOTIFY_WEBHOOK_URL: `${webhook.url}${WEBHOOK_PATH}`,
      RELAY_NOTIFY_SMTP_URL: smtp.url,
      RELAY_NOTIFY_EMAIL_TO: 'trader@example.test, partner@example.test',
    });
    const log = notifyLog();
    notifier = createNotifier({ ...createChannels(config), events: config.notifyEvents, logger: log.logger });
    return { config, log };
  };

  afterEach(async () => {
    await notifier?.close();
    notifier = null;
    await Promise.all([discord.close(), telegram.close(), webhook.close(), smtp.close()]);
  });

  it('delivers one alert to every channel, each in its own format', async () => {
    await start();
    notifier?.alertDecided(NOTICE);
    await Promise.all([discord.waitFor(1), telegram.waitFor(1), webhook.waitFor(1), smtp.waitFor(1)]);

    expect(discord.received[0]?.path).toBe(DISCORD_PATH);
    // Mentions off: a relay_id reading @everyone pings nobody; a code block: nothing is read as markdown.
    expect(discord.received[0]?.json).toEqual({ content: `\`\`\`\n${HUMAN}\n\`\`\``, allowed_mentions: { parse: [] } });

    expect(telegram.received[0]?.path).toBe(`/bot${TELEGRAM_TOKEN}/sendMessage`);
    expect(telegram.received[0]?.json).toEqual({ chat_id: TELEGRAM_CHAT, text: HUMAN, disable_web_page_preview: true });

    expect(webhook.received[0]?.path).toBe(WEBHOOK_PATH);
    expect(webhook.received[0]?.json).toEqual({
      event: 'blocked',
      time: '2026-11-30T14:30:01.000Z',
      relay_user: 'bob',
      relay_id: 'B',
      account: 'Sim101',
      instrument: 'ES 03-26',
      signal_type: 'entry',
      decision: 'blocked',
      reason: 'not-owner: owned by A, an add would stack exposure',
      count: 1,
      dropped: 0,
    });

    const mail = smtp.received[0];
    expect(mail?.from).toBe('relay@example.test');
    expect(mail?.to).toEqual(['trader@example.test', 'partner@example.test']);
    expect(mail?.raw).toContain('Subject: Trade Relay: alert blocked: bob/B on Sim101 ES 03-26');
    expect(mail?.raw.replace(/\r\n/g, '\n')).toContain(HUMAN);
  });

  it('shows Discord what an alert carries as text: no masked link, heading or fence of its own', async () => {
    await start();
    // What anyone may send: a refused alert's account and instrument reach the message.
    notifier?.alertDecided({ ...NOTICE, account: '[Log in again](https://evil.example/login)', instrument: '```\n# URGENT', decision: 'rejected' });
    await discord.waitFor(1);
    const content = (discord.received[0]!.json as { content: string }).content;
    expect(content.startsWith('```\n')).toBe(true);
    expect(content.endsWith('\n```')).toBe(true);
    // The one fence is the message's own: the alert's backticks cannot close it.
    expect(content.slice(4, -4)).not.toContain('```');
    expect(content).toContain('[Log in again](https://evil.example/login)');
  });

  it('tells the relay’s own events without alert fields', async () => {
    await start();
    notifier?.relayEvent('relay_started', 'listening on port 8080');
    await webhook.waitFor(1);
    expect(webhook.received[0]?.json).toMatchObject({
      event: 'relay_started',
      relay_user: null,
      relay_id: null,
      account: null,
      instrument: null,
      signal_type: null,
      decision: null,
      reason: 'listening on port 8080',
    });
    await discord.waitFor(1);
    expect((discord.received[0]!.json as { content: string }).content).toMatch(/^```\nTrade Relay: relay started\nreason: listening on port 8080\nat \d{4}-/);
  });

  it('logs a refusal of the service in its own words, never the token or the URL', async () => {
    const { log } = await start();
    // The chat the stand-in knows is another one: Telegram answers 400 "chat not found", final.
    await telegram.close();
    telegram = await startNotifyStandIn('telegram', { token: TELEGRAM_TOKEN, chat: '42' });
    await discord.close();
    discord = await startNotifyStandIn('discord', { path: '/api/webhooks/1/another-token' });
    const config = loadConfig({
      RELAY_NOTIFY_DISCORD_URL: `https://discord.com${DISCORD_PATH}`,
      RELAY_NOTIFY_DISCORD_API: discord.url,
      RELAY_NOTIFY_TELEGRAM_TOKEN: TELEGRAM_TOKEN,
      RELAY_NOTIFY_TELEGRAM_CHAT: TELEGRAM_CHAT,
      RELAY_NOTIFY_TELEGRAM_API: telegram.url,
    });
    await notifier?.close();
    notifier = createNotifier({ ...createChannels(config), events: config.notifyEvents, logger: log.logger });
    notifier.alertDecided(NOTICE);
    await Promise.all([telegram.waitFor(1), discord.waitFor(1)]);
    await notifier.close();
    const errors = log.lines.filter((line) => line.msg?.toString().startsWith('notification not sent'));
    expect(errors.map((line) => line.msg).sort()).toEqual([
      'notification not sent: discord: HTTP 404 (Unknown Webhook)',
      'notification not sent: telegram: HTTP 400 (Bad Request: chat not found)',
    ]);
    // Refusals are final: tried once each.
    expect(telegram.received).toHaveLength(1);
    expect(discord.received).toHaveLength(1);
    for (const secret of [TELEGRAM_TOKEN, 'discord-token-abcdefghijklmnop', discord.url, telegram.url]) expect(log.text()).not.toContain(secret);
  });

  it('sends an e-mail only with the right SMTP login, and says so in safe words when refused', async () => {
    const { log } = await start();
    const config = loadConfig({
      RELAY_NOTIFY_SMTP_URL: `smtp://relay%40example.test:wrong-password-123@127.0.0.1:${smtp.port}`,
      RELAY_NOTIFY_EMAIL_TO: 'trader@example.test',
    });
    await notifier?.close();
    notifier = createNotifier({ ...createChannels(config), events: config.notifyEvents, logger: log.logger });
    notifier.alertDecided(NOTICE);
    await notifier.close();
    expect(smtp.received).toHaveLength(0);
    expect(log.lines.map((line) => line.msg)).toContain('notification not sent: email: not sent (EAUTH, SMTP 535)');
    expect(log.text()).not.toContain('wrong-password-123');
  });
});
