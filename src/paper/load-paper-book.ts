import { type Book, createBook, type SimMarketPosition } from '../simulator/create-book.js';

/** A paper book as stored (paper_books.book): its open positions. Version 1. */
interface StoredBook {
  v: 1;
  positions: { account: string; instrument: string; marketPosition: SimMarketPosition; quantity: number }[];
}

/**
 * The simulator's account book (simulator/create-book.ts), filled from its stored form; `null` or an
 * unreadable text gives an empty book. Paper orders fill at once (see createPaperCrossTrade), so only
 * positions are kept.
 */
export function loadPaperBook(stored: string | null, now: () => number): Book {
  const book = createBook(now);
  if (stored === null) return book;
  const parsed = JSON.parse(stored) as StoredBook;
  for (const p of parsed.positions) book.setPosition(p.account, p.instrument, p.marketPosition, p.quantity);
  return book;
}

/** The stored form of a book: its open positions. */
export function storePaperBook(book: Book): string {
  const stored: StoredBook = {
    v: 1,
    positions: book.positions().map((p) => ({ account: p.account, instrument: p.instrument, marketPosition: p.marketPosition, quantity: p.quantity })),
  };
  return JSON.stringify(stored);
}
