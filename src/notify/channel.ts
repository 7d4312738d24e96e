import type { OutgoingMessage } from './notification.js';

/** One place notifications go. */
export interface Channel {
  /** Names the channel in logs and in notify-test's report: never its URL. */
  name: 'discord' | 'telegram' | 'webhook' | 'email';
  /** Delivers one message; throws ChannelError (its message holds no secret). Stops when `signal` aborts. */
  send(message: OutgoingMessage, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}
