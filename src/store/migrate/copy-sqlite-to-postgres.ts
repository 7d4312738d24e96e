import type Database from 'better-sqlite3';
import pg from 'pg';
import { maskDatabaseUrl } from '../postgres/mask-database-url.js';
import { MIGRATIONS as POSTGRES_MIGRATIONS, migrate, SchemaTooNewError } from '../postgres/migrations.js';
import { toStoreError } from '../postgres/store-error.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../sqlite/migrations.js';
import { StoreBusyError, StoreUnavailableError } from '../store.js';
import { COPIED_TABLES, type CopiedTable, toPostgresValue } from './copied-tables.js';
import { MigrateDbError } from './migrate-db-error.js';
import { openSqliteSource, type SqliteSource } from './open-sqlite-source.js';

export type TableName = CopiedTable['name'];
export type TableCounts = Record<TableName, number>;

export interface CopyOptions {
  /** The SQLite file of the installation. */
  from: string;
  /** The PostgreSQL URL (postgres://user:password@host:5432/db); never shown but masked. */
  to: string;
  /** Empty the target first when it holds anything (in the copy's transaction). Without it a target that holds anything is refused. */
  replace?: boolean;
  /** Rows per multi-row insert. Default 5000. */
  batchRows?: number;
  /** Told after each batch written: rows of `table` copied so far, of `total`. */
  onProgress?: (progress: { table: TableName; label: string; copied: number; total: number }) => void;
  /** How long to wait for the SQLite file's lock, and for PostgreSQL's locks and migration lock (ms). Default 10000 for PostgreSQL, 1000 for SQLite. */
  lockWaitMs?: { sqlite?: number; postgres?: number };
}

export interface CopyReport {
  /** Rows copied per table (verified equal in both databases before the commit). */
  counts: TableCounts;
  /** The highest signal-log id copied (PostgreSQL's next one is above it); null when the log is empty. */
  maxLogId: number | null;
  /** What the target held and --replace deleted; null when it was empty. */
  replaced: TableCounts | null;
  sqlite: {
    /** The file's own schema version, and the current one. */
    version: number;
    current: number;
    /** An older schema was brought to the current one in a temporary copy; the file is left as it was. */
    migratedCopy: boolean;
    /** False when the file could not be locked (read-only for this user): a running relay could not be detected. */
    locked: boolean;
    /** Forwards a relay left unfinished (`pending` log rows, keys in flight): copied as they are. */
    unfinished: { pending: number; inFlight: number };
  };
  postgres: { target: string; versionBefore: number; version: number };
  ms: number;
}

/** How the copy's own connection is named: relays are `trade-relay`, and refused while one is connected. */
const APPLICATION_NAME = 'trade-relay:migrate-db';

// bigint (count, ids, times) as a number: every value here stays below 2^53.
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * `trade-relay migrate-db`: copies an SQLite installation into a PostgreSQL database, all of it
 * (COPIED_TABLES), in one transaction: the SQLite file is locked (a running relay is refused) and
 * brought to the current schema without being written (open-sqlite-source.ts); the PostgreSQL
 * schema is created or migrated by the PostgreSQL store's migrations; the target's tables are
 * locked, found empty (or emptied with `replace`), filled in batches (the signal log streamed in id
 * order, never all in memory, its identity set past the highest id), counted against the source,
 * and committed. Any failure rolls everything back.
 * @throws MigrateDbError when refused (a missing or busy file, a target that holds data or is in
 *   use, a count that differs) or when PostgreSQL fails, in words that hold neither the URL's
 *   password nor a CrossTrade key or webhook URL.
 */
export async function copySqliteToPostgres(options: CopyOptions): Promise<CopyReport> {
  const started = Date.now();
  const target = maskDatabaseUrl(options.to);
  checkUrl(options.to);
  const source = await openSqliteSource(options.from, options.lockWaitMs?.sqlite);
  try {
    const secrets = [...secretsOfUrl(options.to), ...userSecrets(source.db)];
    const client = await connect(options.to, target, secrets);
    try {
      const versionBefore = await migrateSchema(client, target, secrets, options.lockWaitMs?.postgres ?? 10_000);
      await refuseConnectedRelays(client, target);
      const copied = await copyInOneTransaction(client, source, options, target);
      return {
        ...copied,
        sqlite: {
          version: source.version,
          current: SQLITE_MIGRATIONS.length,
          migratedCopy: source.migratedCopy,
          locked: source.locked,
          unfinished: unfinished(source.db),
        },
        postgres: { target, versionBefore, version: POSTGRES_MIGRATIONS.length },
        ms: Date.now() - started,
      };
    } catch (error) {
      throw described(error, target, secrets);
    } finally {
      await client.end().catch(() => undefined);
    }
  } finally {
    source.close();
  }
}

async function copyInOneTransaction(
  client: pg.Client,
  source: SqliteSource,
  options: CopyOptions,
  target: string,
): Promise<Pick<CopyReport, 'counts' | 'maxLogId' | 'replaced'>> {
  const names = COPIED_TABLES.map((t) => t.name).join(', ');
  // A snapshot of the file: the counts below are those of the rows read (it is locked as well, when it could be).
  source.db.exec('BEGIN');
  try {
    const expected = countSqlite(source.db);
    const maxLogId = (source.db.prepare('SELECT max(id) AS id FROM signal_log').get() as { id: number | null }).id;
    await client.query(`SET lock_timeout = ${Math.round(options.lockWaitMs?.postgres ?? 10_000)}`);
    await client.query('BEGIN');
    try {
      // Nothing else may read or write these tables until the commit: a relay that connected meanwhile waits, then sees all of it.
      await lockTables(client, names, target);
      const held = await countPostgres(client);
      const holdsData = Object.values(held).some((n) => n > 0);
      if (holdsData && options.replace !== true) throw new MigrateDbError(notEmpty(target, held));
      if (holdsData) await client.query(`TRUNCATE ${names} RESTART IDENTITY`);
      for (const table of COPIED_TABLES) {
        await copyTable(client, source.db, table, expected[table.name], options);
      }
      if (maxLogId !== null) await client.query("SELECT setval(pg_get_serial_sequence('signal_log', 'id'), $1)", [maxLogId]);
      await verify(client, expected, maxLogId);
      await client.query('COMMIT');
      return { counts: expected, maxLogId, replaced: holdsData ? held : null };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    source.db.exec('COMMIT');
  }
}

/**
 * Streams one table in primary-key order, `batchRows` rows per multi-row insert (unnest of one
 * array per column). The next batch is read from SQLite while PostgreSQL writes the last one.
 */
async function copyTable(client: pg.Client, db: Database.Database, table: CopiedTable, total: number, options: CopyOptions): Promise<void> {
  const batchRows = Math.max(1, options.batchRows ?? 5000);
  const columns = table.columns.map(([name]) => name);
  const insert = `INSERT INTO ${table.name} (${columns.join(', ')}) SELECT * FROM unnest(${table.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`;
  const rows = db
    .prepare(`SELECT ${columns.join(', ')} FROM ${table.name} ORDER BY ${table.orderBy}`)
    .raw(true)
    .iterate() as IterableIterator<unknown[]>;
  let batch: unknown[][] = columns.map(() => []);
  let size = 0;
  let copied = 0;
  let writing: Promise<unknown> | null = null;
  const send = async () => {
    const values = batch;
    const count = size;
    batch = columns.map(() => []);
    size = 0;
    if (writing !== null) await writing;
    const query = client.query(insert, values).then(() => {
      copied += count;
      options.onProgress?.({ table: table.name, label: table.label, copied, total });
    });
    // Awaited before the next batch (or at the end); meanwhile a failure must not go unhandled.
    query.catch(() => undefined);
    writing = query;
  };
  try {
    for (const row of rows) {
      table.columns.forEach(([, type], i) => {
        batch[i]?.push(toPostgresValue(row[i], type));
      });
      size += 1;
      if (size >= batchRows) await send();
    }
    if (size > 0) await send();
  } finally {
    // An iterator left open would keep the SQLite connection busy.
    rows.return?.();
  }
  if (writing !== null) await writing;
}

/** Counts, and the log's highest id, equal on both sides, or nothing is committed. */
async function verify(client: pg.Client, expected: TableCounts, maxLogId: number | null): Promise<void> {
  const actual = await countPostgres(client);
  const differ = COPIED_TABLES.filter((t) => actual[t.name] !== expected[t.name]);
  if (differ.length > 0) {
    const what = differ.map((t) => `${t.label}: ${expected[t.name]} in SQLite, ${actual[t.name]} copied`).join('; ');
    throw new MigrateDbError(`the copy does not match the SQLite file (${what}); nothing was committed`);
  }
  const { rows } = await client.query<{ id: number | null }>('SELECT max(id) AS id FROM signal_log');
  if ((rows[0]?.id ?? null) !== maxLogId) {
    throw new MigrateDbError(`the copied signal log ends at id ${rows[0]?.id ?? 'none'}, the SQLite file's at ${maxLogId ?? 'none'}; nothing was committed`);
  }
}

function countSqlite(db: Database.Database): TableCounts {
  const counts = {} as TableCounts;
  for (const table of COPIED_TABLES) counts[table.name] = (db.prepare(`SELECT count(*) AS n FROM ${table.name}`).get() as { n: number }).n;
  return counts;
}

async function countPostgres(client: pg.Client): Promise<TableCounts> {
  const { rows } = await client.query<TableCounts>(`SELECT ${COPIED_TABLES.map((t) => `(SELECT count(*) FROM ${t.name}) AS ${t.name}`).join(', ')}`);
  return rows[0] as TableCounts;
}

/** Forwards a relay left unfinished when it stopped: they stay so, and the first relay started on PostgreSQL closes them. */
function unfinished(db: Database.Database): { pending: number; inFlight: number } {
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    pending: count("SELECT count(*) AS n FROM signal_log WHERE decision = 'pending'"),
    inFlight: count("SELECT count(*) AS n FROM key_records WHERE doubt = 'in-flight'"),
  };
}

/** "3 users, 1,200 signal-log rows and 2 settings" */
export function describeCounts(counts: TableCounts): string {
  const parts = COPIED_TABLES.filter((t) => counts[t.name] > 0).map((t) => `${counts[t.name].toLocaleString('en-US')} ${rowsOf(t, counts[t.name])}`);
  return parts.length <= 1 ? (parts[0] ?? 'nothing') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

function rowsOf(table: CopiedTable, n: number): string {
  if (table.name === 'signal_log') return n === 1 ? 'signal-log row' : 'signal-log rows';
  return n === 1 ? table.label.replace(/s$/, '') : table.label;
}

function notEmpty(target: string, held: TableCounts): string {
  return (
    `the PostgreSQL database ${target} already holds ${describeCounts(held)}: migrate-db copies into an empty database only. ` +
    'Give an empty database (e.g. CREATE DATABASE trade_relay), or run again with --replace to delete what it holds and copy this installation ' +
    'in its place (in one transaction: if the copy fails, nothing is deleted)'
  );
}

async function lockTables(client: pg.Client, names: string, target: string): Promise<void> {
  try {
    await client.query(`LOCK TABLE ${names} IN ACCESS EXCLUSIVE MODE`);
  } catch (error) {
    if ((error as { code?: unknown }).code !== '55P03') throw error;
    throw new MigrateDbError(
      `the PostgreSQL database ${target} is in use (its tables stayed locked): stop the relays and commands using it, then run npx trade-relay migrate-db again`,
    );
  }
}

/**
 * A relay connected to the target could decide alerts on it while it is replaced, or just after on
 * a database it read half of: refused. Its connections are named `trade-relay` (application_name).
 * A connection closing just now may still show for a moment: looked at again for up to a second.
 */
async function refuseConnectedRelays(client: pg.Client, target: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'trade-relay%'",
    );
    const n = rows[0]?.n ?? 0;
    if (n === 0) return;
    if (attempt >= 10) {
      throw new MigrateDbError(
        `${n} connection(s) of a relay (or of another trade-relay command) are open on the PostgreSQL database ${target}: ` +
          'stop the relays that use it first, then run npx trade-relay migrate-db again',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function connect(url: string, target: string, secrets: readonly string[]): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000, application_name: APPLICATION_NAME, keepAlive: true, types: TYPES });
  // A connection that breaks between two queries has no query to fail: the next query reports it.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw described(error, target, secrets);
  }
}

/** Creates or migrates the schema, as a relay starting on the database would (the same migrations, under the same lock). */
async function migrateSchema(client: pg.Client, target: string, secrets: readonly string[], waitMs: number): Promise<number> {
  try {
    return await migrate(client, waitMs);
  } catch (error) {
    if (error instanceof SchemaTooNewError) throw new MigrateDbError(`${target}: ${error.message}`);
    if ((error as { code?: unknown }).code === '55P03') {
      throw new MigrateDbError(`${target}: another relay is migrating the schema and did not finish within ${waitMs} ms; try again once it has`);
    }
    throw described(error, target, secrets);
  }
}

/** Any failure as a MigrateDbError whose message holds none of the secrets. */
function described(error: unknown, target: string, secrets: readonly string[]): MigrateDbError {
  if (error instanceof MigrateDbError) return new MigrateDbError(mask(error.message, secrets));
  const mapped = toStoreError(error, secrets);
  if (mapped instanceof StoreUnavailableError || mapped instanceof StoreBusyError) {
    const reason = mapped.message.replace(/^database (unavailable|busy): /, '');
    return new MigrateDbError(`cannot copy into the PostgreSQL database ${target}: ${mask(reason, secrets)}; nothing was committed`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new MigrateDbError(`copying into the PostgreSQL database ${target} failed: ${mask(message, secrets)}; nothing was committed`);
}

/** A URL pg can read, refused in words that do not repeat it (it may hold a password). */
function checkUrl(url: string): void {
  let protocol = '';
  try {
    protocol = new URL(url).protocol;
  } catch {
    // refused below
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new MigrateDbError('the target is not a PostgreSQL URL: expected postgres://user:password@host:5432/database');
  }
}

function secretsOfUrl(url: string): string[] {
  // The URL as written may carry a password (or one in its query string); one that carries none is shown as it is.
  const secrets = maskDatabaseUrl(url) === url ? [] : [url];
  try {
    const { password } = new URL(url);
    if (password !== '') secrets.push(password, decodeURIComponent(password));
  } catch {
    // checkUrl refused it already
  }
  return secrets;
}

/** The CrossTrade keys and webhook URLs (whose path is a secret) of the installation's users. */
function userSecrets(db: Database.Database): string[] {
  const rows = db.prepare('SELECT crosstrade_key, webhook_url FROM users').raw(true).all() as [unknown, unknown][];
  return rows.flat().filter((value): value is string => typeof value === 'string' && value.length >= 4);
}

function mask(text: string, secrets: readonly string[]): string {
  // Longest first: a key inside a URL must not leave the rest of the URL behind.
  return [...secrets].sort((a, b) => b.length - a.length).reduce((masked, secret) => (secret === '' ? masked : masked.split(secret).join('***')), text);
}
