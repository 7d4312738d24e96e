import type { NotifyEvent } from './notify-events.js';

/** One alert's outcome as the relay answered it: what handle-alert hands the notifier (never a key or secret). */
export interface AlertNotice {
  /** When the alert arrived (ms since the epoch). */
  time: number;
  relayUser: string | null;
  relayId: string | null;
  account: string | null;
  instrument: string | null;
  signalType: string | null;
  /** The answer's decision: forwarded, blocked, dropped, failed, unknown, rejected. */
  decision: string;
  reason: string;
}

/** What a message is about: an alert's outcome under its event, or an event of the relay itself (`test`: notify-test). */
export interface Notification extends Omit<AlertNotice, 'decision'> {
  event: NotifyEvent | 'test';
  /** The alert's decision; null for an event of the relay itself. */
  decision: string | null;
}

/** A notification on its way to one channel. */
export interface OutgoingMessage {
  notification: Notification;
  /** How many times this event happened on this key since the last message about it (1: once). */
  count: number;
  /** Messages this channel lost before this one (its queue was full, or it kept failing). */
  dropped: number;
}
