import type { Config } from '../config/config.js';
import type { Channel } from './channel.js';
import { createDiscordChannel } from './discord-channel.js';
import { createEmailChannel } from './email-channel.js';
import { createTelegramChannel } from './telegram-channel.js';
import { createWebhookChannel } from './webhook-channel.js';

type NotifyConfig = Pick<
  Config,
  | 'notifyDiscordUrl'
  | 'notifyDiscordApi'
  | 'notifyTelegramToken'
  | 'notifyTelegramChat'
  | 'notifyTelegramApi'
  | 'notifyWebhookUrl'
  | 'notifySmtpUrl'
  | 'notifyEmailTo'
  | 'notifyEmailFrom'
>;

/** One request to a channel gives up after this long (ms); the queue then retries. */
const REQUEST_TIMEOUT_MS = 5000;

/**
 * The channels the settings configure (none: an empty list), and their secrets: the URLs, the
 * token and the SMTP password, each masked wherever it could surface.
 */
export function createChannels(config: NotifyConfig, timeoutMs = REQUEST_TIMEOUT_MS): { channels: Channel[]; secrets: string[] } {
  const channels: Channel[] = [];
  const secrets: string[] = [];
  if (config.notifyDiscordUrl !== undefined) {
    channels.push(createDiscordChannel({ webhookUrl: config.notifyDiscordUrl, apiBaseUrl: config.notifyDiscordApi, timeoutMs }));
    secrets.push(config.notifyDiscordUrl, new URL(config.notifyDiscordUrl).pathname);
  }
  if (config.notifyTelegramToken !== undefined && config.notifyTelegramChat !== undefined) {
    channels.push(
      createTelegramChannel({ token: config.notifyTelegramToken, chatId: config.notifyTelegramChat, apiBaseUrl: config.notifyTelegramApi, timeoutMs }),
    );
    secrets.push(config.notifyTelegramToken);
  }
  if (config.notifyWebhookUrl !== undefined) {
    channels.push(createWebhookChannel({ url: config.notifyWebhookUrl, timeoutMs }));
    secrets.push(config.notifyWebhookUrl);
  }
  if (config.notifySmtpUrl !== undefined && config.notifyEmailTo !== undefined) {
    channels.push(
      createEmailChannel({
        smtpUrl: config.notifySmtpUrl,
        to: config.notifyEmailTo,
        ...(config.notifyEmailFrom === undefined ? {} : { from: config.notifyEmailFrom }),
        timeoutMs,
      }),
    );
    const password = decodeURIComponent(new URL(config.notifySmtpUrl).password);
    secrets.push(config.notifySmtpUrl, ...(password === '' ? [] : [password]));
  }
  return { channels, secrets };
}
