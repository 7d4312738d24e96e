import { describe, expect, it } from 'vitest';
import { configWarnings, loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/config/config-error.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const DISCORD = 'https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_jkl';
const TOKEN = '123456:ABCdefGHIjklMNOpqrSTUvwx';

describe('notification settings', () => {
  it('reads every channel', () => {
    const config = loadConfig({
      RELAY_NOTIFY_DISCORD_URL: DISCORD,
      RELAY_NOTIFY_TELEGRAM_TOKEN: TOKEN,
      RELAY_NOTIFY_TELEGRAM_CHAT: '-100123',
      RELAY_NOTIFY_WEBHOOK_URL: 'https://hooks.example.com/relay',
      RELAY_NOTIFY_SMTP_URL: 'smtps://me%40example.com:pw@smtp.example.com:465',
      RELAY_NOTIFY_EMAIL_TO: 'a@example.com,b@example.com',
      RELAY_NOTIFY_EVENTS: 'Blocked, failed ,crosstrade_unreachable,blocked',
    });
    expect(config).toMatchObject({
      notifyDiscordUrl: DISCORD,
      notifyTelegramToken: TOKEN,
      notifyTelegramChat: '-100123',
      notifyWebhookUrl: 'https://hooks.example.com/relay',
      notifyEmailTo: 'a@example.com,b@example.com',
      notifyEvents: ['blocked', 'failed', 'crosstrade_unreachable'],
    });
  });

  it('lists unknown events with the other problems, never a secret value', () => {
    const secretUrl = 'https://example.com/api/webhooks/1/very-secret-token';
    const problems = problemsOf({
      RELAY_NOTIFY_EVENTS: 'blocked,blokked,owner_changed',
      RELAY_NOTIFY_DISCORD_URL: secretUrl,
      RELAY_NOTIFY_TELEGRAM_TOKEN: 'not-a-token-secret',
      RELAY_NOTIFY_SMTP_URL: 'http://user:pw-secret@smtp.example.com',
      RELAY_PORT: 'eighty',
    });
    expect(problems).toEqual([
      'RELAY_PORT: must be a whole number from 0 to 65535',
      'RELAY_NOTIFY_DISCORD_URL: must be a Discord webhook URL, https://discord.com/api/webhooks/<id>/<token>',
      'RELAY_NOTIFY_TELEGRAM_TOKEN: must be a bot token as @BotFather gives it, <digits>:<letters and digits>',
      'RELAY_NOTIFY_SMTP_URL: must be an smtp:// or smtps:// URL, e.g. smtps://user:password@smtp.example.com:465',
      'RELAY_NOTIFY_EVENTS: unknown events "blokked", "owner_changed" (the events: forwarded, blocked, dropped, failed, rejected, stale_owner_cleared, reconcile_needed, crosstrade_unreachable, relay_started, relay_stopped)',
    ]);
    expect(problems.join('\n')).not.toMatch(/very-secret-token|not-a-token-secret|pw-secret/);
  });

  it('needs the Telegram token with the chat, the SMTP URL with the recipients', () => {
    expect(problemsOf({ RELAY_NOTIFY_TELEGRAM_TOKEN: TOKEN })).toEqual([
      'RELAY_NOTIFY_TELEGRAM_TOKEN and RELAY_NOTIFY_TELEGRAM_CHAT go together: set both or neither',
    ]);
    expect(problemsOf({ RELAY_NOTIFY_EMAIL_TO: 'a@example.com' })).toEqual([
      'RELAY_NOTIFY_SMTP_URL and RELAY_NOTIFY_EMAIL_TO go together: set both or neither',
    ]);
    expect(problemsOf({ RELAY_NOTIFY_SMTP_URL: 'smtp://h', RELAY_NOTIFY_EMAIL_TO: 'nobody' })).toEqual([
      'RELAY_NOTIFY_EMAIL_TO: must be e-mail addresses, separated by commas',
    ]);
  });

  it('refuses a Discord or Telegram API base in clear off this machine: every message carries the token', () => {
    expect(problemsOf({ RELAY_NOTIFY_TELEGRAM_API: 'http://telegram.example.com' })).toEqual([
      'RELAY_NOTIFY_TELEGRAM_API must use https unless it is on this machine (localhost, 127.0.0.0/8, ::1): every message sends the token',
    ]);
    expect(loadConfig({ RELAY_NOTIFY_DISCORD_API: 'http://127.0.0.1:9999' }).notifyDiscordApi).toBe('http://127.0.0.1:9999');
  });

  it('warns about a generic webhook in clear off this machine', () => {
    expect(configWarnings(loadConfig({ RELAY_NOTIFY_WEBHOOK_URL: 'http://hooks.example.com/x' }))).toEqual([
      'RELAY_NOTIFY_WEBHOOK_URL is plain http off this machine: notifications (and any token in that URL) travel in clear',
    ]);
    expect(configWarnings(loadConfig({ RELAY_NOTIFY_WEBHOOK_URL: 'http://127.0.0.1:9000/x' }))).toEqual([]);
  });
});
