import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closedPort } from '../helpers/closed-port.js';
import { runCli } from '../helpers/run-cli.js';
import { startNotifyStandIn, type NotifyStandIn } from '../helpers/start-notify-stand-in.js';
import { startSmtpStandIn, type SmtpStandIn } from '../helpers/start-smtp-stand-in.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// The built CLI (npm test builds first) against loopback stand-ins.
const DISCORD_PATH = '/api/webhooks/111222333444555666/discord-cli-token-0123456789';
const TELEGRAM_TOKEN = '5150:telegram-cli-token-abcdefghijk';

describe('trade-relay notify-test', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let discord: NotifyStandIn;
  let telegram: NotifyStandIn;
  let webhook: NotifyStandIn;
  let smtp: SmtpStandIn;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    temp = makeTempDir();
    discord = await startNotifyStandIn('discord', { path: DISCORD_PATH });
    telegram = await startNotifyStandIn('telegram', { token: TELEGRAM_TOKEN, chat: '-100200300' });
    webhook = await startNotifyStandIn('webhook');
    smtp = await startSmtpStandIn();
    env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(RELAY_|CROSSTRADE_|LOG_LEVEL$)/.test(name)));
    env.RELAY_HOME = temp.dir;
  });
  afterEach(async () => {
    await Promise.all([discord.close(), telegram.close(), webhook.close(), smtp.close()]);
    temp.cleanup();
  });

  const settings = (lines: Record<string, string>) =>
    fs.writeFileSync(
      temp.file('settings.env'),
      Object.entries(lines)
        .map(([name, value]) => `${name}=${value}\n`)
        .join(''),
    );

  it('sends a test message to every configured channel and reports each', async () => {
    settings({
      RELAY_NOTIFY_DISCORD_URL: `https://discord.com${DISCORD_PATH}`,
      RELAY_NOTIFY_DISCORD_API: discord.url,
      RELAY_NOTIFY_TELEGRAM_TOKEN: TELEGRAM_TOKEN,
      RELAY_NOTIFY_TELEGRAM_CHAT: '-100200300',
      RELAY_NOTIFY_TELEGRAM_API: telegram.url,
      RELAY_NOTIFY_WEBHOOK_URL: `${webhook.url}/hook`,
      RELAY_NOTIFY_SMTP_URL: smtp.url,
      RELAY_NOTIFY_EMAIL_TO: 'trader@example.test',
    });
    const result = await runCli(['notify-test'], { env });
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(['discord: sent', 'telegram: sent', 'webhook: sent', 'email: sent']);
    expect(result.code).toBe(0);
    expect(webhook.received[0]?.json).toMatchObject({ event: 'test', reason: 'a test message from `npx trade-relay notify-test`: this channel works' });
    expect((discord.received[0]?.json as { content?: string } | undefined)?.content).toMatch(/^```\nTrade Relay: test message\n/);
    expect(telegram.received).toHaveLength(1);
    expect(smtp.received[0]?.raw).toContain('Subject: Trade Relay: test message');
  });

  it('reports each failure in safe words and exits 1', async () => {
    settings({
      RELAY_NOTIFY_TELEGRAM_TOKEN: TELEGRAM_TOKEN,
      RELAY_NOTIFY_TELEGRAM_CHAT: '-999',
      RELAY_NOTIFY_TELEGRAM_API: telegram.url,
      RELAY_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${await closedPort()}/hook/secret-hook-token`,
      RELAY_NOTIFY_DISCORD_URL: `https://discord.com${DISCORD_PATH}`,
      RELAY_NOTIFY_DISCORD_API: discord.url,
    });
    const result = await runCli(['notify-test'], { env });
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      'discord: sent',
      'telegram: NOT SENT: HTTP 400 (Bad Request: chat not found)',
      'webhook: NOT SENT: could not connect (ECONNREFUSED)',
    ]);
    expect(result.stderr).toBe('error: 2 of 3 notification channels failed\n');
    expect(result.code).toBe(1);
    for (const secret of [TELEGRAM_TOKEN, 'secret-hook-token', 'discord-cli-token']) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('says when no channel is configured', async () => {
    const result = await runCli(['notify-test'], { env });
    expect(result.stderr).toBe(
      `error: no notification channel is configured: set RELAY_NOTIFY_DISCORD_URL, RELAY_NOTIFY_TELEGRAM_TOKEN + RELAY_NOTIFY_TELEGRAM_CHAT, RELAY_NOTIFY_WEBHOOK_URL, RELAY_NOTIFY_SMTP_URL + RELAY_NOTIFY_EMAIL_TO in ${temp.file('settings.env')} or the environment\n`,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
  });

  it('refuses a bad setting without echoing it', async () => {
    settings({ RELAY_NOTIFY_EVENTS: 'blocked,nope', RELAY_NOTIFY_DISCORD_URL: 'https://evil.example/secret-path-123' });
    const result = await runCli(['notify-test'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `RELAY_NOTIFY_DISCORD_URL (${temp.file('settings.env')} line 2): must be a Discord webhook URL, https://discord.com/api/webhooks/<id>/<token>`,
    );
    expect(result.stderr).toContain('unknown event "nope"');
    expect(result.stderr).not.toContain('secret-path-123');
  });
});
