/**
 * `migrate-db` refused, or stopped before committing: the message says why and what to do, and
 * names neither a password nor a CrossTrade key. Nothing was written to the PostgreSQL database
 * (the copy is one transaction) and the SQLite file was left as it was.
 */
export class MigrateDbError extends Error {
  override name = 'MigrateDbError';
}
