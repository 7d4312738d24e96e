import type { MarketPosition } from '../engine/types.js';
import { AlertParseError, quoteForMessage } from './alert-parse-error.js';
import { fieldValue, type ParsedAlert } from './parse-alert.js';

/** The fields of an alert the relay acts on. Everything else is forwarded untouched. */
export interface RelayAlert {
  relayUser: string;
  relayId: string;
  /** `account=` split on ',' (multi-account placement, docs/external-systems.md §2.5), trimmed, deduplicated; [] if absent. */
  accounts: string[];
  instrument: string | null;
  marketPosition: MarketPosition | null;
  prevMarketPosition: MarketPosition | null;
  action: 'buy' | 'sell' | null;
  orderType: string | null;
  cancelAfterMinutes: number | null;
  marketPositionSize: number | null;
  prevMarketPositionSize: number | null;
  relaySecret: string | null;
}

/** The relay's own fields: stripped before forwarding, CrossTrade has no use for them (docs/external-systems.md §2.2). */
export const RELAY_FIELDS: ReadonlySet<string> = new Set(['relay_user', 'relay_id', 'relay_secret']);

const RELAY_NAME_PATTERN = /^[A-Za-z0-9_.@:-]{1,64}$/;
const MARKET_POSITIONS: readonly MarketPosition[] = ['long', 'short', 'flat'];
const DECIMAL_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/**
 * Reads the relay's view of a parsed alert. Values are compared case-insensitively, as users
 * hand-edit messages (docs/external-systems.md §1.5). Malformed optional numbers and actions read as null.
 * @throws AlertParseError when relay_user / relay_id are missing or malformed, a market
 * position is not long/short/flat, only one of the pair is present, or a position-carrying
 * alert lacks account or instrument.
 */
export function readRelayAlert(alert: ParsedAlert): RelayAlert {
  const relayUser = readRelayName(alert, 'relay_user');
  const relayId = readRelayName(alert, 'relay_id');
  const marketPosition = readMarketPosition(alert, 'market_position');
  const prevMarketPosition = readMarketPosition(alert, 'prev_market_position');
  if (marketPosition === null && prevMarketPosition !== null) {
    throw new AlertParseError(pairReason('market_position'));
  }
  if (marketPosition !== null && prevMarketPosition === null) {
    throw new AlertParseError(pairReason('prev_market_position'));
  }

  const accounts = readAccounts(fieldValue(alert, 'account'));
  const instrument = nonEmpty(fieldValue(alert, 'instrument'));
  // A transition can only be arbitrated for a known (account, instrument) key.
  if (marketPosition !== null && accounts.length === 0) {
    throw new AlertParseError('missing account: the relay arbitrates per account and instrument');
  }
  if (marketPosition !== null && instrument === null) {
    throw new AlertParseError('missing instrument: the relay arbitrates per account and instrument');
  }

  const action = fieldValue(alert, 'action')?.toLowerCase();
  const cancelAfter = readNumber(fieldValue(alert, 'cancel_after'));
  // CrossTrade's limit-order timeout is 1-60 minutes (docs/external-systems.md §2.5); anything else is a typo.
  if (fieldValue(alert, 'cancel_after') !== undefined && (cancelAfter === null || cancelAfter < 1 || cancelAfter > 60)) {
    throw new AlertParseError('cancel_after must be a number of minutes from 1 to 60');
  }
  return {
    relayUser,
    relayId,
    accounts,
    instrument,
    marketPosition,
    prevMarketPosition,
    action: action === 'buy' || action === 'sell' ? action : null,
    orderType: nonEmpty(fieldValue(alert, 'order_type'))?.toUpperCase() ?? null,
    cancelAfterMinutes: cancelAfter !== null && cancelAfter > 0 ? cancelAfter : null,
    marketPositionSize: readSize(fieldValue(alert, 'market_position_size')),
    prevMarketPositionSize: readSize(fieldValue(alert, 'prev_market_position_size')),
    relaySecret: fieldValue(alert, 'relay_secret') ?? null,
  };
}

function readRelayName(alert: ParsedAlert, key: 'relay_user' | 'relay_id'): string {
  const value = fieldValue(alert, key);
  if (value === undefined) {
    throw new AlertParseError(`missing ${key}`);
  }
  if (!RELAY_NAME_PATTERN.test(value)) {
    throw new AlertParseError(`${key} must be 1-64 letters, digits or _.@:-`);
  }
  return value;
}

function readMarketPosition(alert: ParsedAlert, key: string): MarketPosition | null {
  const value = fieldValue(alert, key);
  if (value === undefined) return null;
  const position = MARKET_POSITIONS.find((candidate) => candidate === value.toLowerCase());
  if (position === undefined) {
    throw new AlertParseError(`${key} must be long, short or flat (got ${quoteForMessage(value)})`);
  }
  return position;
}

function pairReason(missing: string): string {
  return `market_position and prev_market_position go together: ${missing} is missing`;
}

function readAccounts(value: string | undefined): string[] {
  if (value === undefined) return [];
  const seen = new Set<string>();
  const accounts: string[] = [];
  for (const part of value.split(',')) {
    const account = part.trim();
    if (account === '') continue;
    // CrossTrade clones the order per listed account: a repeat would double it.
    if (seen.has(account.toLowerCase()))
      throw new AlertParseError(`account ${quoteForMessage(account)} is listed twice: CrossTrade would place the order twice`);
    seen.add(account.toLowerCase());
    accounts.push(account);
  }
  return accounts;
}

function readSize(value: string | undefined): number | null {
  const size = readNumber(value);
  return size !== null && size >= 0 ? size + 0 /* -0 → 0 */ : null;
}

// Number() alone would accept '', '0x10' and 'Infinity'.
function readNumber(value: string | undefined): number | null {
  if (value === undefined || !DECIMAL_PATTERN.test(value)) return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}
