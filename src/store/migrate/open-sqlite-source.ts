import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../sqlite/create-sqlite-store.js';
import { MIGRATIONS } from '../sqlite/migrations.js';
import { MigrateDbError } from './migrate-db-error.js';

/** The installation to copy, open for reading, its schema the current one. */
export interface SqliteSource {
  /** Reads the current schema: the file itself, or a migrated temporary copy of it. */
  db: Database.Database;
  /** The file's own schema version (PRAGMA user_version). */
  version: number;
  /** The file's schema was older: `db` reads a temporary copy brought to the current schema; the file is left as it was. */
  migratedCopy: boolean;
  /**
   * The file is locked for the whole copy (no relay can start on it meanwhile, and one running
   * would have been refused). False when it could not be (read-only for this user): a running
   * relay could not be detected.
   */
  locked: boolean;
  /** Closes the file (releasing its lock) and removes the temporary copy. */
  close(): void;
}

/**
 * Opens the SQLite file of an installation for `migrate-db`, never changing what it holds (a
 * write-ahead log a crashed relay left beside it is folded into it when it is closed, as any
 * opening of it would):
 * - it is locked exclusively (SQLite `locking_mode = EXCLUSIVE`, with `query_only` so this
 *   connection cannot change a row). A relay that has it open holds a lock too, so a running relay
 *   (or any other process with the file open) is refused, and none can start on it until `close`;
 * - an older schema is brought to the current one in a temporary copy (SQLite's backup, then the
 *   SQLite store's own migrations), never in the file.
 * @param lockWaitMs how long to wait for another process to let the file go (a command such as list-users), in ms
 * @throws MigrateDbError when the file is missing, in use, not a Trade Relay database, or newer than this relay.
 */
export async function openSqliteSource(file: string, lockWaitMs = 1000): Promise<SqliteSource> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new MigrateDbError(`no SQLite database at ${absolute}: check the path; nothing was copied`);
  if (!fs.statSync(absolute).isFile()) throw new MigrateDbError(`${absolute} is not a file: give the SQLite database file (trade_relay.db)`);
  const { db, locked } = openLocked(absolute, lockWaitMs);
  let copyDir: string | null = null;
  try {
    const version = readVersion(db, absolute);
    if (version === MIGRATIONS.length) return { db, version, migratedCopy: false, locked, close: () => db.close() };
    copyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trade-relay-migrate-'));
    const copy = await migratedCopy(db, path.join(copyDir, 'copy.db'), version);
    const dir = copyDir;
    return {
      db: copy,
      version,
      migratedCopy: true,
      locked,
      close: () => {
        copy.close();
        db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    db.close();
    if (copyDir !== null) fs.rmSync(copyDir, { recursive: true, force: true });
    throw error;
  }
}

/** The file, locked exclusively; read-only and unlocked when this user may not write it. */
function openLocked(file: string, lockWaitMs: number): { db: Database.Database; locked: boolean } {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { fileMustExist: true, timeout: lockWaitMs });
    db.pragma('query_only = 1');
    db.pragma('locking_mode = EXCLUSIVE');
    // The first read takes the lock (and, in WAL mode, keeps the WAL index in this process).
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return { db, locked: true };
  } catch (error) {
    db?.close();
    const code = codeOf(error);
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new MigrateDbError(
        `another process has ${file} open: a relay still running on it, or a tool such as a SQLite browser. ` +
          'Its alerts could be decided after the copy and be lost. Stop the relay first (Ctrl+C where `npx trade-relay start` runs; ' +
          'a service: systemctl stop trade-relay on Linux, or stop the service named trade-relay in Windows Services), then run npx trade-relay migrate-db again',
      );
    }
    if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code === 'EACCES' || code === 'EPERM') {
      return { db: openReadOnly(file), locked: false };
    }
    throw notADatabase(error, file);
  }
}

function openReadOnly(file: string): Database.Database {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    throw notADatabase(error, file);
  }
}

function readVersion(db: Database.Database, file: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new MigrateDbError(
      `${file} has schema version ${version}, newer than this relay understands (${MIGRATIONS.length}): run migrate-db of the relay version that wrote it`,
    );
  }
  const hasUsers = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").get() !== undefined;
  if (version === 0 || !hasUsers) throw new MigrateDbError(`${file} is not a Trade Relay database (it has no relay schema): check --from / RELAY_DB`);
  return version;
}

/** A copy of the file at `target`, migrated to the current schema by the SQLite store's own migrations. */
async function migratedCopy(db: Database.Database, target: string, version: number): Promise<Database.Database> {
  await db.backup(target);
  try {
    await createSqliteStore(target, { durability: 'crash' }).close();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new MigrateDbError(`the SQLite file's schema (version ${version}) could not be brought to version ${MIGRATIONS.length}: ${message}`);
  }
  const copy = new Database(target, { fileMustExist: true });
  copy.pragma('query_only = 1');
  return copy;
}

function notADatabase(error: unknown, file: string): Error {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new MigrateDbError(`${file} is not a readable Trade Relay database (${message}): check --from / RELAY_DB, or restore it from a backup`);
  }
  return new MigrateDbError(`cannot read ${file}: ${message}`);
}

function codeOf(error: unknown): string {
  return String((error as { code?: unknown } | null)?.code ?? '');
}
