import { loadConfig } from '../../config/config.js';
import { createSqliteStore } from '../../store/sqlite/create-sqlite-store.js';
import type { Store } from '../../store/store.js';

/**
 * Opens the database (--db over RELAY_DB over ./trade_relay.db), runs `work`, closes it.
 * Closing at once matters: a running relay reads SQLite per request, so it sees the change
 * immediately. Throws ConfigError when the environment holds a bad setting.
 */
export function withStore<T>(dbFlag: string | undefined, work: (store: Store) => T): T {
  const config = loadConfig(process.env, { dbPath: dbFlag });
  const store = createSqliteStore(config.dbPath);
  try {
    return work(store);
  } finally {
    store.close();
  }
}
