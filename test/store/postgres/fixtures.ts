import pg from 'pg';
import { createPostgresStore } from '../../../src/store/postgres/create-postgres-store.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';

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

/**
 * Counts what the stores' connections (application_name trade-relay) send from now on: every
 * statement, and the round trips (a statement sent while others of its connection are unanswered,
 * pg's pipeline mode, rides theirs). `take()` answers both since the last take.
 */
export function countQueries() {
  const prototype = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = prototype.query;
  const unanswered = new Map<unknown, number>();
  let statements = 0;
  let roundTrips = 0;
  prototype.query = function counted(this: pg.Client, ...args: unknown[]) {
    const result = original.apply(this, args);
    if ((this as unknown as { connectionParameters: { application_name?: string } }).connectionParameters.application_name === 'trade-relay') {
      statements++;
      if ((unanswered.get(this) ?? 0) === 0) roundTrips++;
      unanswered.set(this, (unanswered.get(this) ?? 0) + 1);
      const done = () => unanswered.set(this, (unanswered.get(this) ?? 1) - 1);
      (result as Promise<unknown>).then(done, done);
    }
    return result;
  };
  return {
    take(): { statements: number; roundTrips: number } {
      const counts = { statements, roundTrips };
      statements = 0;
      roundTrips = 0;
      return counts;
    },
    restore(): void {
      prototype.query = original;
    },
  };
}

/** A node of `EXPLAIN (FORMAT JSON)`'s plan. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

/** Every node of the plan of an `EXPLAIN (FORMAT JSON)` answer, depth first. */
export function planNodes(rows: unknown[]): PlanNode[] {
  const walk = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(walk)];
  return walk((rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]?.Plan as PlanNode);
}

/** A database of its own with the store's schema, and a connection to it with generic plans (as the store's). */
export async function openPlanDatabase(): Promise<{ db: TestDatabase; client: pg.Client }> {
  const db = await createTestDatabase();
  if (db === null) throw new Error('PostgreSQL does not answer');
  await (await createPostgresStore(db.url)).close();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return { db, client };
}
