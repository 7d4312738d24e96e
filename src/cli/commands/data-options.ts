/** The options that choose the data folder and the database: every command that opens the database takes them. */
export interface DataOptions {
  home?: string;
  db?: string;
  databaseUrl?: string;
}

export const HOME_HELP = 'data folder: database, log and settings.env (RELAY_HOME, default <install folder>/data)';
export const DB_HELP = 'SQLite file (RELAY_DB, default <data folder>/trade_relay.db)';
export const DATABASE_URL_HELP =
  'PostgreSQL instead of the SQLite file, for several relay instances (RELAY_DATABASE_URL, postgres://user:password@host:5432/db)';
