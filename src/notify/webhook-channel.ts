import type { Channel } from './channel.js';
import { postJson } from './post-json.js';
import { webhookPayload } from './webhook-payload.js';

export interface WebhookChannelOptions {
  /** RELAY_NOTIFY_WEBHOOK_URL: may hold a token of its own, so never in a message. */
  url: string;
  timeoutMs: number;
}

/** POSTs the JSON of webhookPayload to any URL. */
export function createWebhookChannel(options: WebhookChannelOptions): Channel {
  return {
    name: 'webhook',
    send: (message, signal) => postJson(options.url, webhookPayload(message), { channel: 'webhook', timeoutMs: options.timeoutMs, signal }),
    close: async () => undefined,
  };
}
