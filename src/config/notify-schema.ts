import { z } from 'zod';
import { NOTIFY_EVENTS, type NotifyEvent } from '../notify/notify-events.js';
import { isSecureOrLocalUrl } from './is-secure-or-local-url.js';

// Notifications (issue 11, README "Notifications"). No reason echoes a value: the URLs and the bot
// token are secrets (anyone holding a Discord webhook URL can post to the channel).

/** Every event but `forwarded`: a trader wants to hear what went wrong, not every order. */
const DEFAULT_EVENTS: readonly NotifyEvent[] = NOTIFY_EVENTS.filter((event) => event !== 'forwarded');
// discord.com, discordapp.com and their ptb/canary hosts; an optional API version.
const DISCORD_WEBHOOK = /^https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/api\/(?:v\d+\/)?webhooks\/\d+\/[\w-]+\/?$/;
// An address as a person writes it; the SMTP server is the judge of the rest.
const ADDRESS = /^[^\s@,<>]+@[^\s@,<>]+$/;

const apiBase = (name: string, fallback: string) =>
  z
    .url({ protocol: /^https?$/, error: `must be an http(s) URL, e.g. ${fallback}` })
    .default(fallback)
    .refine(isSecureOrLocalUrl, `${name} must use https unless it is on this machine (localhost, 127.0.0.0/8, ::1): every message sends the token`);

/** The notification settings' part of the configuration schema (config/config.ts spreads it in). */
export const notifySchemaShape = {
  notifyDiscordUrl: z
    .string()
    .refine((url) => DISCORD_WEBHOOK.test(url), 'must be a Discord webhook URL, https://discord.com/api/webhooks/<id>/<token>')
    .optional(),
  // Tests and proxies: where Discord is; the webhook URL's path is sent there.
  notifyDiscordApi: apiBase('RELAY_NOTIFY_DISCORD_API', 'https://discord.com'),
  notifyTelegramToken: z
    .string()
    .regex(/^\d+:[\w-]{20,}$/, 'must be a bot token as @BotFather gives it, <digits>:<letters and digits>')
    .optional(),
  notifyTelegramChat: z
    .string()
    .regex(/^(?:-?\d+|@\w{4,})$/, 'must be a chat id (a number, negative for a group) or @channelname')
    .optional(),
  notifyTelegramApi: apiBase('RELAY_NOTIFY_TELEGRAM_API', 'https://api.telegram.org'),
  notifyWebhookUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  notifySmtpUrl: z.string().refine(isSmtpUrl, 'must be an smtp:// or smtps:// URL, e.g. smtps://user:password@smtp.example.com:465').optional(),
  notifyEmailTo: z
    .string()
    .refine((list) => list.split(',').every((address) => ADDRESS.test(address.trim())), 'must be e-mail addresses, separated by commas')
    .optional(),
  notifyEmailFrom: z
    .string()
    .refine((address) => ADDRESS.test(address), 'must be one e-mail address')
    .optional(),
  notifyEvents: z
    .string()
    .transform((list, ctx): NotifyEvent[] => {
      const names = [...new Set(list.split(',').map((name) => name.trim().toLowerCase()))].filter((name) => name !== '');
      const unknown = names.filter((name) => !(NOTIFY_EVENTS as readonly string[]).includes(name));
      if (unknown.length > 0) {
        const which = unknown.map((name) => `"${name}"`).join(', ');
        ctx.addIssue({ code: 'custom', message: `unknown event${unknown.length > 1 ? 's' : ''} ${which} (the events: ${NOTIFY_EVENTS.join(', ')})` });
        return z.NEVER;
      }
      return names as NotifyEvent[];
    })
    .default([...DEFAULT_EVENTS]),
};

function isSmtpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
  } catch {
    return false;
  }
}
