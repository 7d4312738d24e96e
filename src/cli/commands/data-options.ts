/** The options that choose the data folder and the database: every command that opens the database takes them. */
export interface DataOptions {
  home?: string;
  db?: string;
}

export const HOME_HELP = 'data folder: database, log and settings.env (RELAY_HOME, default <install folder>/data)';
export const DB_HELP = 'SQLite file (RELAY_DB, default <data folder>/trade_relay.db)';
