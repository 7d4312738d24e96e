import type { Channel } from './channel.js';
import { formatMessage } from './format-message.js';
import { postJson } from './post-json.js';

/** Discord cuts a message's content at 2,000 characters. */
const DISCORD_MAX = 2000;

export interface DiscordChannelOptions {
  /** The channel's webhook URL, https://discord.com/api/webhooks/<id>/<token> (RELAY_NOTIFY_DISCORD_URL). */
  webhookUrl: string;
  /** Where Discord is (RELAY_NOTIFY_DISCORD_API, default https://discord.com): the webhook URL's path is sent there. */
  apiBaseUrl: string;
  timeoutMs: number;
}

/**
 * Posts the human message to a Discord webhook, in a code block: an account reading
 * `[Log in again](https://...)` or `# URGENT` (a refused alert's fields are anyone's) shows as text,
 * not as a link or a heading. Mentions are turned off as well: `@everyone` pings nobody.
 */
export function createDiscordChannel(options: DiscordChannelOptions): Channel {
  const url = `${options.apiBaseUrl.replace(/\/+$/, '')}${new URL(options.webhookUrl).pathname}`;
  return {
    name: 'discord',
    async send(message, signal) {
      const { text } = formatMessage(message);
      await postJson(
        url,
        { content: codeBlock(text), allowed_mentions: { parse: [] } },
        {
          channel: 'discord',
          timeoutMs: options.timeoutMs,
          signal,
          describe: (body) => stringField(body, 'message'),
          retryAfter: (body) => {
            const seconds = (body as { retry_after?: unknown }).retry_after;
            return typeof seconds === 'number' && seconds > 0 ? seconds * 1000 : null;
          },
        },
      );
    },
    close: async () => undefined,
  };
}

/** `text` as one code block within Discord's limit; a backtick run in it cannot close the block early. */
function codeBlock(text: string): string {
  const inner = text.replace(/`(?=`)/g, '`\u200b');
  return `\`\`\`\n${inner.slice(0, DISCORD_MAX - 8)}\n\`\`\``;
}

function stringField(body: unknown, name: string): string | null {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : null;
}
