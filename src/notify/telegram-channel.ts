import type { Channel } from './channel.js';
import { formatMessage } from './format-message.js';
import { postJson } from './post-json.js';

/** Telegram refuses a message over 4,096 characters. */
const TELEGRAM_MAX = 4096;

export interface TelegramChannelOptions {
  /** The bot's token (RELAY_NOTIFY_TELEGRAM_TOKEN): part of every request URL, so never in a message. */
  token: string;
  /** The chat id, or @channelname (RELAY_NOTIFY_TELEGRAM_CHAT). */
  chatId: string;
  /** RELAY_NOTIFY_TELEGRAM_API, default https://api.telegram.org. */
  apiBaseUrl: string;
  timeoutMs: number;
}

/** Sends the human message with the Bot API's sendMessage, as plain text (no parse_mode: nothing in an alert is read as markup). */
export function createTelegramChannel(options: TelegramChannelOptions): Channel {
  const url = `${options.apiBaseUrl.replace(/\/+$/, '')}/bot${options.token}/sendMessage`;
  return {
    name: 'telegram',
    async send(message, signal) {
      const { text } = formatMessage(message);
      await postJson(
        url,
        { chat_id: options.chatId, text: text.slice(0, TELEGRAM_MAX), disable_web_page_preview: true },
        {
          channel: 'telegram',
          timeoutMs: options.timeoutMs,
          signal,
          describe: (body) => {
            const description = (body as { description?: unknown }).description;
            return typeof description === 'string' ? description : null;
          },
          retryAfter: (body) => {
            const seconds = (body as { parameters?: { retry_after?: unknown } }).parameters?.retry_after;
            return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : null;
          },
        },
      );
    },
    close: async () => undefined,
  };
}
