import { connectTo } from '../../helpers/postgres.js';

// Shared by the PostgreSQL store's own tests: the contract suite's builders (the same words as
// every store test), and what only a PostgreSQL test needs (its tables read and emptied directly).
export { A, B, BOB_KEY, GROUP, identity, key, log, look, mark, owner, record, T0, viewOf, write, writing } from '../contract/fixtures.js';

/** Empties every table of the store (between tests of one file, which share a database). */
export async function emptyTables(url: string): Promise<void> {
  const client = await connectTo(url);
  try {
    await client.query('TRUNCATE users, key_records, strategy_keys, alert_fingerprints, signal_log, settings, paper_books RESTART IDENTITY');
  } finally {
    await client.end();
  }
}

/** Rows read past the store (whose listings would write its queue first). */
export async function raw<T>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = await connectTo(url);
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}
