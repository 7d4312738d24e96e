import fs from 'node:fs';
import { adoptLegacyDatabase } from '../../config/adopt-legacy-database.js';
import type { ConfigFlags } from '../../config/config.js';
import { loadSettings, type Settings } from '../../config/load-settings.js';
import { openStore } from '../../store/open-store.js';
import type { Store } from '../../store/store.js';
import { CliError } from './cli-error.js';
import type { DataOptions } from './data-options.js';

export interface WithStoreOptions {
  /** Create the database when it does not exist (add-user). Other commands refuse a missing file. */
  create?: boolean;
  /** Told the one line about a database moved into the data folder (stderr by default). */
  notice?: (line: string) => void;
}

/**
 * The settings of a command (data folder, settings.env, environment, --db), with the database of
 * an earlier version moved into the data folder when it is there to move.
 */
export function commandSettings(
  options: DataOptions,
  notice: (line: string) => void = (line) => console.error(line),
  flags: Omit<ConfigFlags, 'dbPath'> = {},
): Settings {
  const settings = loadSettings({ env: process.env, home: options.home, flags: { ...flags, dbPath: options.db, databaseUrl: options.databaseUrl } });
  if (settings.dbIsDefault && settings.home.source === 'default') {
    const moved = adoptLegacyDatabase(settings.config.dbPath);
    if (moved) notice(moved);
  }
  return settings;
}

/**
 * Opens the database (--database-url / RELAY_DATABASE_URL for PostgreSQL, else --db over RELAY_DB
 * over <data folder>/trade_relay.db), runs `work`, closes it.
 * Closing at once matters: a running relay reads SQLite per request, so it sees the change
 * immediately. Throws ConfigError on a bad setting, CliError when the database does not exist
 * (unless `create`): a typo in --db must not create an empty database that looks like a lost one.
 * The first argument may still be a bare --db value.
 */
export async function withStore<T>(
  options: DataOptions | string | undefined,
  work: (store: Store, settings: Settings) => T | Promise<T>,
  how: WithStoreOptions = {},
): Promise<T> {
  const given: DataOptions = typeof options === 'object' ? options : { db: options };
  const settings = commandSettings(given, how.notice);
  const { dbPath, databaseUrl } = settings.config;
  if (databaseUrl === undefined && !how.create && !fs.existsSync(dbPath)) throw new CliError(missingDatabase(settings, given));
  // A person's listing may read a long signal log: a longer budget than an alert's.
  const store = await openStore(settings.config, { callTimeoutMs: 30_000 });
  try {
    return await work(store, settings);
  } finally {
    await store.close();
  }
}

function missingDatabase(settings: Settings, given: DataOptions): string {
  const { dbPath } = settings.config;
  const home = settings.home;
  const chosenBy =
    given.db !== undefined
      ? '--db'
      : !settings.dbIsDefault
        ? settings.sourceOf('RELAY_DB') === 'settings file'
          ? `RELAY_DB in ${settings.settingsFile.path}`
          : 'RELAY_DB'
        : `the data folder ${home.dir}, ${home.source === 'default' ? 'the default (<install folder>/data)' : `from ${home.source}`}`;
  return (
    `no database at ${dbPath} (chosen by ${chosenBy}). ` +
    'Check --home / --db / RELAY_HOME / RELAY_DB, or create it: "npx trade-relay add-user" or "npx trade-relay start" makes a new one'
  );
}
