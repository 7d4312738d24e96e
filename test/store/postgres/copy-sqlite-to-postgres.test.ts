import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountGroupOf } from '../../../src/store/account-group.js';
import { COPIED_TABLES, POSTGRES_ONLY } from '../../../src/store/migrate/copied-tables.js';
import { copySqliteToPostgres } from '../../../src/store/migrate/copy-sqlite-to-postgres.js';
import { MigrateDbError } from '../../../src/store/migrate/migrate-db-error.js';
import { createPostgresStore } from '../../../src/store/postgres/create-postgres-store.js';
import { MIGRATIONS as POSTGRES_MIGRATIONS } from '../../../src/store/postgres/migrations.js';
import { createSqliteStore } from '../../../src/store/sqlite/create-sqlite-store.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import type { Store } from '../../../src/store/store.js';
import { connectTo, createTestDatabase, type TestDatabase } from '../../helpers/postgres.js';
import { makeTempDir } from '../../helpers/temp-dir.js';
import { log } from './fixtures.js';

// The copy behind `migrate-db` (src/store/migrate): what it covers, all or nothing, counts checked
// before the commit, batches, and messages free of secrets.

const KEY = 'ct-secret-key-of-bob-4471';
const WEBHOOK = 'https://app.crosstrade.io/v1/send/acct-9/tok-secret-path';

let temp: ReturnType<typeof makeTempDir>;
let db: TestDatabase;
let file: string;

beforeEach(async () => {
  temp = makeTempDir();
  file = temp.file('trade_relay.db');
  const created = await createTestDatabase();
  if (created === null) throw new Error('PostgreSQL does not answer');
  db = created;
});
afterEach(async () => {
  await db.drop();
  temp.cleanup();
});

/** An SQLite installation of bob with `logs` log rows, written through the SQLite store. */
async function install(logs: number, extra: (store: Store) => Promise<void> = async () => undefined): Promise<void> {
  const store = createSqliteStore(file);
  try {
    await store.saveUser({ relayUser: 'bob', crosstradeKey: KEY, webhookUrl: WEBHOOK });
    for (let i = 0; i < logs; i++) await store.appendLog(log({ time: 1_000 + i, decision: 'forwarded' }));
    await extra(store);
  } finally {
    await store.close();
  }
}

async function query<T>(sql: string): Promise<T[]> {
  const client = await connectTo(db.url);
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function countUsers(): Promise<number> {
  return (await query<{ n: number }>('SELECT count(*)::int AS n FROM users'))[0]?.n ?? -1;
}

describe('copySqliteToPostgres', () => {
  it('covers every table and column of both schemas', async () => {
    await install(0);
    await (await createPostgresStore(db.url)).close();
    const sqlite = new Database(file, { readonly: true });
    try {
      const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
      expect(tables).toEqual(COPIED_TABLES.map((t) => t.name).sort());
      for (const table of COPIED_TABLES) {
        const columns = (sqlite.prepare(`PRAGMA table_info(${table.name})`).all() as { name: string }[]).map((c) => c.name).sort();
        expect(columns, table.name).toEqual(table.columns.map(([name]) => name).sort());
      }
    } finally {
      sqlite.close();
    }
    const pgTables = await query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_version' ORDER BY table_name",
    );
    expect(pgTables.map((t) => t.table_name)).toEqual([...COPIED_TABLES.map((t) => t.name), ...POSTGRES_ONLY.tables].sort());
    const pgColumns = await query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_version'",
    );
    for (const table of COPIED_TABLES) {
      expect(
        pgColumns
          .filter((c) => c.table_name === table.name && !(POSTGRES_ONLY.columns[table.name] ?? []).includes(c.column_name))
          .map((c) => c.column_name)
          .sort(),
        table.name,
      ).toEqual(table.columns.map(([name]) => name).sort());
    }
  });

  it('streams the log in batches, keeps its ids (gaps too), sets the identity past them and reports progress', async () => {
    await install(1_050, async (store) => {
      // Pruned rows leave gaps: the ids are kept as they are.
      await store.prune({ logsBefore: 1_010, fingerprintsBefore: 0 });
      await store.appendLog(log({ time: 5_000, decision: 'forwarded', alert: 'has a NUL \0 in it' }));
    });
    const progress: string[] = [];
    const report = await copySqliteToPostgres({
      from: file,
      to: db.url,
      batchRows: 100,
      onProgress: ({ table, copied, total }) => {
        if (table === 'signal_log') progress.push(`${copied}/${total}`);
      },
    });
    expect(progress).toEqual([...Array.from({ length: 10 }, (_, i) => `${(i + 1) * 100}/1041`), '1041/1041']);
    expect(report).toMatchObject({
      counts: { users: 1, signal_log: 1_041, key_records: 0, strategy_keys: 0, alert_fingerprints: 0, settings: 0, paper_books: 0 },
      maxLogId: 1_051,
      replaced: null,
      sqlite: {
        version: SQLITE_MIGRATIONS.length,
        current: SQLITE_MIGRATIONS.length,
        migratedCopy: false,
        locked: true,
        unfinished: { pending: 0, inFlight: 0 },
      },
      postgres: { target: db.url.replace(/\/$/, ''), versionBefore: 0, version: POSTGRES_MIGRATIONS.length },
    });
    const ids = await query<{ id: string }>('SELECT id FROM signal_log ORDER BY id');
    expect(ids.map((r) => Number(r.id))).toEqual([...Array.from({ length: 1_040 }, (_, i) => 11 + i), 1_051]);
    const store = await createPostgresStore(db.url);
    try {
      const [last] = await store.listLogs({ limit: 1 });
      // PostgreSQL's text cannot hold NUL: stored as U+FFFD, as the PostgreSQL store stores a hostile alert's.
      expect(last).toMatchObject({ id: 1_051, alert: 'has a NUL \uFFFD in it' });
      expect(await store.appendLog(log())).toBe(1_052);
    } finally {
      await store.close();
    }
  });

  it('reports unfinished forwards it copies: pending log rows and keys in flight', async () => {
    await install(0, async (store) => {
      const key = { accountGroup: accountGroupOf(KEY), account: 'Sim101', instrumentKey: 'ES' };
      await store.arbitrate(
        [key],
        { relayUser: 'bob', relayId: 'A' },
        () => ({
          value: null,
          writes: [{ instrument: 'ES 03-26', record: { owner: null, doubt: { kind: 'in-flight', since: 1 } }, marks: [] }],
          seen: false,
          log: log({ decision: 'pending' }),
        }),
        null,
      );
    });
    const report = await copySqliteToPostgres({ from: file, to: db.url });
    expect(report.sqlite.unfinished).toEqual({ pending: 1, inFlight: 1 });
    expect(await query('SELECT decision FROM signal_log')).toEqual([{ decision: 'pending' }]);
  });

  it('is all or nothing: a failure mid-copy leaves the target as it was, and its message holds no secret', async () => {
    await install(300);
    await (await createPostgresStore(db.url)).close();
    const client = await connectTo(db.url);
    try {
      // A failure on the 201st log row, naming a secret in its message.
      await client.query(`
        CREATE FUNCTION fail_late() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.id > 200 THEN RAISE EXCEPTION 'refused row % of %', NEW.id, (SELECT crosstrade_key || ' ' || webhook_url FROM users LIMIT 1); END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER fail_late BEFORE INSERT ON signal_log FOR EACH ROW EXECUTE FUNCTION fail_late();`);
    } finally {
      await client.end();
    }
    const copying = copySqliteToPostgres({ from: file, to: `postgres://postgres:hunter2-pw@127.0.0.1:5432/${db.name}`, batchRows: 50 });
    await expect(copying).rejects.toThrow(MigrateDbError);
    await expect(copying).rejects.toThrow(
      `copying into the PostgreSQL database postgres://postgres:***@127.0.0.1:5432/${db.name} failed: refused row 201 of *** ***; nothing was committed`,
    );
    expect(await countUsers()).toBe(0);
    expect(await query('SELECT count(*)::int AS n FROM signal_log')).toEqual([{ n: 0 }]);
  });

  it('is all or nothing with --replace too: what the target held stays when the copy fails', async () => {
    await install(10);
    const other = await createPostgresStore(db.url);
    await other.saveUser({ relayUser: 'zed', crosstradeKey: 'ct-key-of-zed-0000', webhookUrl: WEBHOOK });
    await other.close();
    const client = await connectTo(db.url);
    try {
      await client.query(`
        CREATE FUNCTION fail_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused here'; END $$;
        CREATE TRIGGER fail_all BEFORE INSERT ON signal_log FOR EACH ROW EXECUTE FUNCTION fail_all();`);
    } finally {
      await client.end();
    }
    await expect(copySqliteToPostgres({ from: file, to: db.url, replace: true })).rejects.toThrow('refused here; nothing was committed');
    expect(await query('SELECT relay_user FROM users')).toEqual([{ relay_user: 'zed' }]);
  });

  it('counts both sides before the commit: rows the target did not keep are refused, nothing committed', async () => {
    await install(20);
    await (await createPostgresStore(db.url)).close();
    const client = await connectTo(db.url);
    try {
      await client.query(`
        CREATE FUNCTION skip_some() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id % 2 = 0 THEN RETURN NULL; END IF; RETURN NEW; END $$;
        CREATE TRIGGER skip_some BEFORE INSERT ON signal_log FOR EACH ROW EXECUTE FUNCTION skip_some();`);
    } finally {
      await client.end();
    }
    await expect(copySqliteToPostgres({ from: file, to: db.url })).rejects.toThrow(
      'the copy does not match the SQLite file (signal log: 20 in SQLite, 10 copied); nothing was committed',
    );
    expect(await countUsers()).toBe(0);
  });

  it('refuses an SQLite file newer than this relay, and one that is not a Trade Relay database, writing nothing', async () => {
    await install(0);
    const sqlite = new Database(file);
    sqlite.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
    sqlite.close();
    await expect(copySqliteToPostgres({ from: file, to: db.url })).rejects.toThrow(
      `${file} has schema version ${SQLITE_MIGRATIONS.length + 1}, newer than this relay understands (${SQLITE_MIGRATIONS.length}): run migrate-db of the relay version that wrote it`,
    );
    const other = temp.file('other.db');
    const notes = new Database(other);
    notes.exec('CREATE TABLE notes (text TEXT)');
    notes.close();
    await expect(copySqliteToPostgres({ from: other, to: db.url })).rejects.toThrow(
      `${other} is not a Trade Relay database (it has no relay schema): check --from / RELAY_DB`,
    );
    expect(await query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).toEqual([]);
  });

  it('refuses a PostgreSQL database migrated by a newer relay', async () => {
    await install(1);
    await (await createPostgresStore(db.url)).close();
    const client = await connectTo(db.url);
    await client.query('INSERT INTO schema_version (version) VALUES ($1)', [POSTGRES_MIGRATIONS.length + 1]);
    await client.end();
    await expect(copySqliteToPostgres({ from: file, to: db.url })).rejects.toThrow(
      `${db.url.replace(/\/$/, '')}: database schema version ${POSTGRES_MIGRATIONS.length + 1} is newer than this relay understands (${POSTGRES_MIGRATIONS.length}); upgrade the relay`,
    );
    expect(await countUsers()).toBe(0);
  });

  it('names an unreachable server without its password', async () => {
    await install(0);
    const copying = copySqliteToPostgres({ from: file, to: 'postgres://relay:s3cret-pw@127.0.0.1:1/trade_relay' });
    await expect(copying).rejects.toThrow(
      'cannot copy into the PostgreSQL database postgres://relay:***@127.0.0.1:1/trade_relay: connection refused; nothing was committed',
    );
  });
});
