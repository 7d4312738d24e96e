import { explainReason } from '../crosstrade/explain-reason.js';
import type { OutgoingMessage } from './notification.js';

const TITLES: Record<string, string> = {
  forwarded: 'order forwarded',
  blocked: 'alert blocked',
  dropped: 'alert dropped',
  failed: 'forward failed',
  rejected: 'alert rejected',
  stale_owner_cleared: 'stale owner cleared',
  reconcile_needed: 'check the position in NinjaTrader',
  crosstrade_unreachable: 'CrossTrade unreachable',
  relay_started: 'relay started',
  relay_stopped: 'relay stopped',
  test: 'test message',
};

/**
 * The short human message of Discord, Telegram and e-mail: a subject line and a few lines of
 * text with the facts the generic webhook gets as JSON. Plain text only: relay_ids and reasons
 * come from alerts, so no channel is asked to read markup in them.
 */
export function formatMessage(message: OutgoingMessage): { subject: string; text: string } {
  const n = message.notification;
  const who = [n.relayUser, n.relayId].filter((part) => part !== null).join('/');
  const where = [n.account, n.instrument].filter((part) => part !== null).join(' ');
  const about = [who, where === '' ? '' : `on ${where}`].filter((part) => part !== '').join(' ');
  const times = message.count > 1 ? ` (${message.count} times)` : '';
  const subject = `Trade Relay: ${TITLES[n.event] ?? n.event}${times}${about === '' ? '' : `: ${about}`}`;
  const lines = [subject];
  if (n.decision !== null || n.signalType !== null) {
    lines.push(`decision: ${n.decision ?? '-'}${n.signalType === null ? '' : ` (${n.signalType})`}`);
  }
  lines.push(`reason: ${n.reason}`);
  // CrossTrade's codes in words a trader acts on (issue 8, case 8), as the application log shows them.
  const words = explainReason(n.reason);
  if (words !== null) lines.push(`meaning: ${words}`);
  lines.push(message.count > 1 ? `${message.count} times since the last message; the last at ${isoTime(n.time)}` : `at ${isoTime(n.time)}`);
  if (message.dropped > 0)
    lines.push(`(${message.dropped} earlier notification${message.dropped === 1 ? ' was' : 's were'} dropped: the queue was full or the channel kept failing)`);
  return { subject, text: lines.join('\n') };
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
