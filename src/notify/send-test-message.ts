import type { Channel } from './channel.js';
import { ChannelError } from './channel-error.js';
import { maskSecrets } from './mask-secrets.js';

/**
 * notify-test: one test message to every channel at once, each tried once (no queue, no retry), each
 * result in safe words: `{ channel, ok: true }` or `{ channel, ok: false, error }`. Closes the channels.
 */
export async function sendTestMessage(
  channels: readonly Channel[],
  secrets: readonly string[],
  now: number,
): Promise<{ channel: Channel['name']; ok: boolean; error?: string }[]> {
  const stop = new AbortController();
  try {
    return await Promise.all(
      channels.map(async (channel) => {
        try {
          await channel.send(
            {
              notification: {
                event: 'test',
                time: now,
                relayUser: null,
                relayId: null,
                account: null,
                instrument: null,
                signalType: null,
                decision: null,
                reason: 'a test message from `npx trade-relay notify-test`: this channel works',
              },
              count: 1,
              dropped: 0,
            },
            stop.signal,
          );
          return { channel: channel.name, ok: true };
        } catch (error) {
          const words = error instanceof ChannelError ? error.message : `${channel.name}: unexpected error`;
          return { channel: channel.name, ok: false, error: maskSecrets(words, secrets) };
        }
      }),
    );
  } finally {
    await Promise.all(channels.map((channel) => channel.close().catch(() => undefined)));
  }
}
