// What `trade-relay crosstrade-sim` prints for each message it takes: the order in one line, the book
// after it in a second. Never the key (the event carries none); values are shown printable only.
import { contractName } from './create-book.js';
import type { WebhookEvent } from './create-simulator.js';

/** Two lines: `09:30:01  PLACE BUY 2 MARKET RTY 06-26 on Sim101: accepted` and `          book: ...`. */
export function describeWebhook(event: WebhookEvent): [string, string] {
  const f = (name: string) => printable(event.fields.get(name) ?? '');
  const command = f('command').toUpperCase() || '(no command)';
  const instrument = f('instrument');
  const contract = instrument === '' ? null : contractName(instrument, event.at);
  const shownInstrument = contract === null || contract === instrument ? instrument : `${instrument} (${contract})`;
  const order = ['PLACE', 'FLATPLACE', 'REVERSEPOSITION'].includes(command)
    ? [f('action').toUpperCase(), f('qty') || f('quantity'), (f('order_type') || 'MARKET').toUpperCase(), priceOf(f('limit_price'), f('stop_price')).trim()]
    : command === 'CLOSEPOSITION'
      ? [f('qty') || f('quantity')]
      : [];
  const what = [command, ...order, shownInstrument].filter((part) => part !== '').join(' ');
  const account = f('account');
  const outcome =
    event.status === 200 ? 'accepted' : `${event.status === 0 ? 'no answer' : `refused ${event.status}`}${event.error ? ` (${printable(event.error)})` : ''}`;
  const time = clock(event.at);
  return [`${time}  ${what}${account === '' ? '' : ` on ${account}`}: ${outcome}`, `${' '.repeat(time.length)}  book: ${describeBook(event)}`];
}

function describeBook(event: WebhookEvent): string {
  const positions = event.positions.map((p) => `${p.account} ${p.instrument} ${p.marketPosition} ${p.quantity}`);
  const working = event.workingOrders.map(
    (o) => `${o.account} ${o.instrument} ${o.action} ${o.orderType} ${o.quantity}${priceOf(o.limitPrice?.toString() ?? '', o.stopPrice?.toString() ?? '')}`,
  );
  const open = positions.length === 0 ? 'flat' : positions.join(', ');
  return working.length === 0 ? open : `${open}; working: ${working.join(', ')}`;
}

function priceOf(limit: string, stop: string): string {
  const parts = [limit === '' ? '' : `@ ${limit}`, stop === '' ? '' : `stop ${stop}`].filter((p) => p !== '');
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

function clock(at: number): string {
  const d = new Date(at);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** One line of plain text: control characters shown as `?`, at most 80 characters. */
function printable(text: string): string {
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}
