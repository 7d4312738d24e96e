// Pure reading of CrossTrade position answers (docs/external-systems.md §3.3-§3.5).
// The documented shapes disagree, so several are accepted: `{positions, count, success}`,
// `{success, data: {positions}}` and a bare array. Anything else is a bad response: a body we cannot
// read must never be taken for "flat" (docs/external-systems.md §4.3, rule 6).
import type { PositionReading } from '../engine/types.js';
import { parseInstrument } from '../signal/instrument.js';
import { CrossTradeBadResponseError, CrossTradeHttpError, type CrossTradeCallContext } from './errors.js';

export interface ApiPosition {
  account: string;
  instrument: string;
  marketPosition: 'long' | 'short' | 'flat';
  /** Unsigned contract count; the direction is only in marketPosition (docs/external-systems.md §3.5). */
  quantity: number;
}

/**
 * The positions in a 2xx answer body (already JSON-decoded).
 * `requested` names the call: its account fills in positions that carry none (the per-account
 * endpoint's shape is UNCONFIRMED), and it is named in error messages.
 * Throws CrossTradeBadResponseError for a shape it cannot read, and CrossTradeHttpError (with the
 * `error` code) for `success:false` carrying an `error`.
 */
export function parsePositionsBody(body: unknown, requested?: CrossTradeCallContext): ApiPosition[] {
  const list = positionList(body, requested);
  return list.map((item, index) => parsePosition(item, index, requested));
}

/**
 * What the API says about the alert's product on one account. Keys by product root, any expiry:
 * during a roll two expiries of one root can be open (docs/external-systems.md §4.3, rule 3), and the relay stays
 * conservative. Never throws.
 */
export function readingFor(positions: ApiPosition[], account: string, alertInstrument: string, takenAt: number, referenceYear: number): PositionReading {
  const alert = parseInstrument(alertInstrument, referenceYear);
  if (alert === null) return { kind: 'unknown', takenAt, reason: 'instrument-unreadable' };

  const wanted = account.toLowerCase();
  const open: ApiPosition[] = [];
  for (const position of positions) {
    if (position.account.toLowerCase() !== wanted) continue;
    const parsed = parseInstrument(position.instrument, referenceYear);
    if (parsed === null) {
      if (position.marketPosition !== 'flat') return { kind: 'unknown', takenAt, reason: 'instrument-unreadable' };
      continue;
    }
    if (parsed.root !== alert.root || position.marketPosition === 'flat' || position.quantity <= 0) continue;
    open.push(position);
  }
  if (open.length === 0) return { kind: 'flat', takenAt };
  const detail = open.map((p) => `${capitalise(p.marketPosition as 'long' | 'short')} ${p.quantity} ${p.instrument}`).join(', ');
  const net = open.reduce((sum, p) => sum + (p.marketPosition === 'long' ? p.quantity : -p.quantity), 0);
  // Two expiries held in opposite directions (a roll): no one direction describes the account.
  if (open.some((p) => p.marketPosition !== open[0]?.marketPosition)) return { kind: 'unknown', takenAt, reason: `mixed-positions: ${detail}` };
  return { kind: 'open', takenAt, direction: net > 0 ? 'long' : 'short', quantity: Math.abs(net), detail };
}

function positionList(body: unknown, requested: CrossTradeCallContext | undefined): unknown[] {
  if (Array.isArray(body)) return body;
  if (!isRecord(body)) throw new CrossTradeBadResponseError('not an object', requested);
  if (body['success'] === false) {
    const code = body['error'];
    if (typeof code === 'string') throw new CrossTradeHttpError(200, code.slice(0, 100), requested);
    throw new CrossTradeBadResponseError('success is false', requested);
  }
  if (Array.isArray(body['positions'])) return body['positions'];
  const data = body['data'];
  if (Array.isArray(data)) return data;
  if (isRecord(data) && Array.isArray(data['positions'])) return data['positions'];
  throw new CrossTradeBadResponseError('no positions list', requested);
}

function parsePosition(item: unknown, index: number, requested: CrossTradeCallContext | undefined): ApiPosition {
  const bad = (what: string) => new CrossTradeBadResponseError(`position ${index} ${what}`, requested);
  if (!isRecord(item)) throw bad('is not an object');

  const { instrument, marketPosition, quantity } = item;
  const account = item['account'] ?? requested?.account;
  if (typeof account !== 'string' || account === '') throw bad('has no account');
  if (typeof instrument !== 'string' || instrument.trim() === '') throw bad('has no instrument');
  if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity < 0) throw bad('has no valid quantity');
  const side = typeof marketPosition === 'string' ? marketPosition.trim().toLowerCase() : null;
  if (side !== 'long' && side !== 'short' && side !== 'flat') throw bad('has no valid marketPosition');

  return { account, instrument, marketPosition: side, quantity };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function capitalise(side: 'long' | 'short'): string {
  return side === 'long' ? 'Long' : 'Short';
}
