// The simulated NinjaTrader account book: net positions per (account, contract) and resting orders.
// Contracts are kept in NT8 form (`RTY 03-26`); a root-only or continuous name maps to the front
// quarterly month at or after the current month (a simplification of NT8's rollover, docs/external-systems.md §4.4).
import { parseInstrument, toNinjaTraderName } from '../signal/instrument.js';

export type SimMarketPosition = 'Long' | 'Short' | 'Flat';

/** A position as the CrossTrade API shows it (docs/external-systems.md §3.5). */
export interface SimPosition {
  type: 'NinjaTrader.Cbi.Position';
  account: string;
  instrument: string;
  instrumentType: 'Future';
  marketPosition: SimMarketPosition;
  quantity: number;
  averagePrice: number;
  marketPrice: number;
  unrealizedProfitLoss: number;
  tag: null;
}

export interface SimWorkingOrder {
  orderId: string;
  account: string;
  instrument: string;
  action: 'Buy' | 'Sell';
  orderType: 'Limit' | 'StopMarket' | 'StopLimit';
  quantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  orderState: 'Working';
}

export type BookResult = { ok: true } | { ok: false; error: string; detail: string };

export interface Book {
  /** Applies one webhook message (fields already parsed, names lower case). Validates before changing anything. */
  apply(fields: Map<string, string>): BookResult;
  positions(account?: string, includeFlat?: boolean): SimPosition[];
  setPosition(account: string, instrument: string, marketPosition: SimMarketPosition, quantity: number): void;
  workingOrders(account?: string): SimWorkingOrder[];
  fillWorkingOrders(account?: string): void;
  reset(): void;
}

interface Holding {
  account: string;
  instrument: string;
  net: number; // signed: > 0 long, < 0 short
  averagePrice: number;
}

interface Order {
  action: 'BUY' | 'SELL';
  quantity: number;
  orderType: 'MARKET' | 'LIMIT' | 'STOP' | 'STOPLIMIT';
  limitPrice: number | null;
  stopPrice: number | null;
}

const DEFAULT_PRICE = 1000;
const ORDER_TYPES: Record<string, Order['orderType']> = {
  MARKET: 'MARKET',
  LIMIT: 'LIMIT',
  STOP: 'STOP',
  STOPMARKET: 'STOP',
  STOPLIMIT: 'STOPLIMIT',
};
const ORDER_TYPE_NAMES = { LIMIT: 'Limit', STOP: 'StopMarket', STOPLIMIT: 'StopLimit' } as const;
const COMMANDS = new Set(['PLACE', 'FLATPLACE', 'REVERSEPOSITION', 'CLOSEPOSITION', 'CLOSESTRATEGY', 'FLATTEN', 'REVERSE', 'CANCEL', 'CANCELORDERS']);

export function createBook(now: () => number): Book {
  const holdings = new Map<string, Holding>(); // `${account lower}|${contract}`
  const accountNames = new Map<string, string>(); // lower → name as first seen
  let working: Array<SimWorkingOrder & { key: string }> = [];
  let nextOrderId = 1;

  function accountName(account: string): string {
    const lower = account.toLowerCase();
    if (!accountNames.has(lower)) accountNames.set(lower, account);
    return accountNames.get(lower)!;
  }

  function holding(account: string, instrument: string): Holding {
    const key = `${account.toLowerCase()}|${instrument}`;
    let found = holdings.get(key);
    if (found === undefined) {
      found = { account: accountName(account), instrument, net: 0, averagePrice: DEFAULT_PRICE };
      holdings.set(key, found);
    }
    return found;
  }

  function fill(h: Holding, signedQty: number, price: number): void {
    const next = h.net + signedQty;
    if (h.net === 0 || Math.sign(next) !== Math.sign(h.net)) h.averagePrice = price;
    else if (Math.abs(next) > Math.abs(h.net)) {
      h.averagePrice = (h.averagePrice * Math.abs(h.net) + price * Math.abs(signedQty)) / Math.abs(next);
    }
    h.net = next;
  }

  function place(account: string, instrument: string, order: Order): void {
    const signed = order.action === 'BUY' ? order.quantity : -order.quantity;
    if (order.orderType === 'MARKET') return fill(holding(account, instrument), signed, DEFAULT_PRICE);
    working.push({
      key: `${account.toLowerCase()}|${instrument}`,
      orderId: `sim-${nextOrderId++}`,
      account: accountName(account),
      instrument,
      action: order.action === 'BUY' ? 'Buy' : 'Sell',
      orderType: ORDER_TYPE_NAMES[order.orderType],
      quantity: order.quantity,
      limitPrice: order.limitPrice,
      stopPrice: order.stopPrice,
      orderState: 'Working',
    });
  }

  function cancel(account: string, instrument: string): void {
    const key = `${account.toLowerCase()}|${instrument}`;
    working = working.filter((o) => o.key !== key);
  }

  function close(account: string, instrument: string, quantity: number | null): void {
    const h = holding(account, instrument);
    const closing = quantity === null ? Math.abs(h.net) : Math.min(quantity, Math.abs(h.net));
    h.net -= Math.sign(h.net) * closing;
  }

  function run(command: string, account: string, instrument: string, order: Order | null, qty: number | null): void {
    const h = holding(account, instrument);
    switch (command) {
      case 'PLACE':
        return place(account, instrument, order!);
      case 'FLATPLACE':
        h.net = 0;
        cancel(account, instrument);
        return place(account, instrument, order!);
      case 'REVERSEPOSITION': // no position: nothing happens (docs/external-systems.md §2.4)
        if (h.net === 0) return;
        h.net = 0;
        return place(account, instrument, order!);
      case 'CLOSEPOSITION': // a partial close does not cancel working orders (docs/external-systems.md §3.4)
        return close(account, instrument, qty);
      case 'CLOSESTRATEGY': // the simulator has no ATM strategies: it closes the whole position
        return close(account, instrument, null);
      case 'FLATTEN':
        h.net = 0;
        return cancel(account, instrument);
      case 'REVERSE':
        h.net = -h.net;
        return;
      default: // CANCEL, CANCELORDERS
        return cancel(account, instrument);
    }
  }

  function apply(fields: Map<string, string>): BookResult {
    // Closes every position and cancels every working order on every account (docs/external-systems.md §2.4).
    if (fields.get('command')?.toUpperCase() === 'FLATTENEVERYTHING') {
      for (const h of holdings.values()) h.net = 0;
      working = [];
      return { ok: true };
    }
    for (const name of ['command', 'account', 'instrument']) {
      if (!fields.get(name)) return { ok: false, error: 'missing_field', detail: `missing required field: ${name.toUpperCase()}` };
    }
    const command = fields.get('command')!.toUpperCase();
    if (!COMMANDS.has(command)) return { ok: false, error: 'unknown_command', detail: `unknown command ${command}` };
    const accounts = fields
      .get('account')!
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '');
    if (accounts.length === 0) return { ok: false, error: 'missing_field', detail: 'missing required field: ACCOUNT' };
    const instrument = contractName(fields.get('instrument')!, now());
    if (instrument === null) return { ok: false, error: 'invalid_instrument', detail: 'unknown instrument' };

    let order: Order | null = null;
    if (command === 'PLACE' || command === 'FLATPLACE' || command === 'REVERSEPOSITION') {
      const parsed = parseOrder(fields);
      if ('error' in parsed) return { ok: false, ...parsed };
      order = parsed;
    }
    const qtyText = fields.get('qty') ?? fields.get('quantity');
    const qty = command === 'CLOSEPOSITION' && qtyText ? wholeNumber(qtyText) : null;
    if (command === 'CLOSEPOSITION' && qtyText && qty === null) {
      return { ok: false, error: 'invalid_quantity', detail: 'Check message format, missing required field: QTY' };
    }
    // account=A,B: CrossTrade clones the request once per account (docs/external-systems.md §2.5).
    for (const account of accounts) run(command, account, instrument, order, qty);
    return { ok: true };
  }

  function positions(account?: string, includeFlat = false): SimPosition[] {
    return [...holdings.values()]
      .filter((h) => (account === undefined || h.account.toLowerCase() === account.toLowerCase()) && (includeFlat || h.net !== 0))
      .map((h) => ({
        type: 'NinjaTrader.Cbi.Position',
        account: h.account,
        instrument: h.instrument,
        instrumentType: 'Future',
        marketPosition: h.net > 0 ? 'Long' : h.net < 0 ? 'Short' : 'Flat',
        quantity: Math.abs(h.net),
        averagePrice: h.averagePrice,
        marketPrice: h.averagePrice,
        unrealizedProfitLoss: 0,
        tag: null,
      }));
  }

  function setPosition(account: string, instrument: string, marketPosition: SimMarketPosition, quantity: number): void {
    const contract = contractName(instrument, now());
    if (contract === null) throw new Error(`simulator: cannot read instrument ${JSON.stringify(instrument)}`);
    const h = holding(account, contract);
    h.net = marketPosition === 'Flat' ? 0 : marketPosition === 'Long' ? Math.abs(quantity) : -Math.abs(quantity);
  }

  function workingOrders(account?: string): SimWorkingOrder[] {
    return working.filter((o) => account === undefined || o.account.toLowerCase() === account.toLowerCase()).map(({ key: _key, ...order }) => order);
  }

  function fillWorkingOrders(account?: string): void {
    const filling = working.filter((o) => account === undefined || o.account.toLowerCase() === account.toLowerCase());
    working = working.filter((o) => !filling.includes(o));
    for (const o of filling) {
      const signed = o.action === 'Buy' ? o.quantity : -o.quantity;
      fill(holding(o.account, o.instrument), signed, o.limitPrice ?? o.stopPrice ?? DEFAULT_PRICE);
    }
  }

  function reset(): void {
    holdings.clear();
    accountNames.clear();
    working = [];
    nextOrderId = 1;
  }

  return { apply, positions, setPosition, workingOrders, fillWorkingOrders, reset };
}

/** NT8 name of the contract meant; root-only and continuous names get the front quarterly month. */
export function contractName(instrument: string, at: number): string | null {
  const date = new Date(at);
  const parsed = parseInstrument(instrument, date.getUTCFullYear());
  if (parsed === null) return null;
  if (parsed.month !== null && parsed.year !== null) return toNinjaTraderName(parsed);
  const front = Math.ceil((date.getUTCMonth() + 1) / 3) * 3;
  return toNinjaTraderName({ ...parsed, month: front, year: date.getUTCFullYear() });
}

function parseOrder(fields: Map<string, string>): Order | { error: string; detail: string } {
  const action = fields.get('action')?.toUpperCase();
  if (action !== 'BUY' && action !== 'SELL') return { error: 'invalid_action', detail: 'action must be BUY or SELL' };
  const quantity = wholeNumber(fields.get('qty') ?? fields.get('quantity') ?? '');
  if (quantity === null) return { error: 'missing_field', detail: 'Check message format, missing required field: QTY' };
  const orderType = ORDER_TYPES[(fields.get('order_type') ?? 'MARKET').toUpperCase()];
  if (orderType === undefined) return { error: 'invalid_order_type', detail: 'unknown order_type' };
  return { action, quantity, orderType, limitPrice: price(fields.get('limit_price')), stopPrice: price(fields.get('stop_price')) };
}

function wholeNumber(text: string): number | null {
  if (!/^\d+$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n > 0 ? n : null;
}

function price(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}
