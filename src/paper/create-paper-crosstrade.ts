// Paper mode (issue 8): a stand-in for CrossTrade behind the relay's own port, so that a paper user's
// alerts are arbitrated and recorded exactly as a live user's, while its orders fill in a paper book
// inside the relay and its position checks read that book. The book is the simulator's
// (simulator/create-book.ts), kept in the database per paper account group, so it survives restarts.
import type { PositionReading } from '../engine/types.js';
import type { ApiPosition } from '../crosstrade/parse-position.js';
import { readingFor } from '../crosstrade/parse-position.js';
import type { CrossTradePort, ForwardOutcome } from '../relay/relay-deps.js';
import { parseFields } from '../simulator/parse-fields.js';
import { accountGroupOf } from '../store/account-group.js';
import type { Store } from '../store/store.js';
import { loadPaperBook, storePaperBook } from './load-paper-book.js';

export interface PaperCrossTradeOptions {
  store: Store;
  now?: () => number;
}

/**
 * The paper CrossTrade: `forward` applies the order to the paper book of the key's paper account
 * group (a LIMIT or STOP order fills at once: the relay has no market prices) and answers 200, or
 * 400 for an order CrossTrade would refuse; `readPosition` reads that book. Never throws; calls
 * nothing outside the relay.
 */
export function createPaperCrossTrade(options: PaperCrossTradeOptions): CrossTradePort {
  const { store, now = Date.now } = options;
  // A forward reads, changes and writes its group's book: two of one group at once must not both
  // start from the same book (the store's calls are asynchronous), so they take turns in this process.
  const turns = new Map<string, Promise<unknown>>();
  const inTurn = <T>(group: string, work: () => Promise<T>): Promise<T> => {
    const previous = turns.get(group) ?? Promise.resolve();
    const mine = previous.then(work, work);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    turns.set(group, settled);
    void settled.then(() => {
      if (turns.get(group) === settled) turns.delete(group);
    });
    return mine;
  };

  async function readPosition(account: string, instrument: string, apiKey: string): Promise<PositionReading> {
    const takenAt = now();
    try {
      const book = loadPaperBook(await store.getPaperBook(accountGroupOf(apiKey, true)), now);
      const positions: ApiPosition[] = book.positions(account).map((p) => ({
        account: p.account,
        instrument: p.instrument,
        marketPosition: p.marketPosition === 'Long' ? 'long' : p.marketPosition === 'Short' ? 'short' : 'flat',
        quantity: p.quantity,
      }));
      return readingFor(positions, account, instrument, takenAt, new Date(takenAt).getUTCFullYear());
    } catch {
      return { kind: 'unknown', takenAt, reason: 'paper-book-unreadable' };
    }
  }

  async function forward(_webhookUrl: string, body: string): Promise<ForwardOutcome> {
    const fields = parseFields(body);
    const key = fields.get('key');
    if (key === undefined || key === '') return { ok: false, ambiguous: false, reason: 'upstream-http-401', status: 401 };
    const group = accountGroupOf(key, true);
    return inTurn(group, async (): Promise<ForwardOutcome> => {
      let book: ReturnType<typeof loadPaperBook>;
      try {
        book = loadPaperBook(await store.getPaperBook(group), now);
      } catch {
        return { ok: false, ambiguous: false, reason: 'paper-book-unreadable', status: null };
      }
      const result = book.apply(fields);
      if (!result.ok) return { ok: false, ambiguous: false, reason: 'upstream-http-400', status: 400 };
      book.fillWorkingOrders();
      try {
        await store.savePaperBook(group, storePaperBook(book));
      } catch {
        // Applied but not kept: the next reading may not show it, exactly like an order whose answer was lost.
        return { ok: false, ambiguous: true, reason: 'paper-book-not-saved', status: null };
      }
      return { ok: true, status: 200 };
    });
  }

  return { readPosition, forward, forget: () => undefined };
}
