import type { Durability } from './sqlite/create-sqlite-store.js';
import { createSqliteStore } from './sqlite/create-sqlite-store.js';
import { createPostgresStore } from './postgres/create-postgres-store.js';
import type { InstanceRecord, StoppedInstances, Store } from './store.js';

/** Where the store lives: a PostgreSQL URL when one is set (several instances), else the SQLite file. */
export interface StoreLocation {
  dbPath: string;
  databaseUrl?: string | undefined;
}

export interface OpenStoreOptions {
  /** The clock (ms since the epoch). */
  now?: () => number;
  /** SQLite only: what a commit survives (README, "Power cuts"). PostgreSQL's commit waits for its WAL flush. */
  durability?: Durability;
  /** SQLite only: pages between automatic WAL checkpoints. */
  walAutocheckpointPages?: number;
  /** Told about a failed background write (queued outcomes and refusals), which is retried. */
  onBackgroundError?: (error: unknown) => void;
  /**
   * PostgreSQL only: the budget (ms) of one store call. The relay keeps the default (about 1.2 s, so
   * a hanging database cannot make TradingView wait past 3 s); commands that list a long signal log
   * may allow more.
   */
  callTimeoutMs?: number;
  /**
   * PostgreSQL only (several instances): how long a silent instance counts as alive (ms), and, for
   * a relay, closing what stopped instances left on every heartbeat (see PostgresStoreOptions).
   */
  instances?: {
    timeoutMs?: number;
    sweep?: { reason: (instance: InstanceRecord | null) => string; onClosed?: (closed: StoppedInstances) => void };
    onPresumedStopped?: () => void;
    onHeartbeatError?: (error: unknown) => void;
  };
}

/**
 * Opens the store: PostgreSQL when `databaseUrl` is set (RELAY_DATABASE_URL / --database-url),
 * else the SQLite file `dbPath` (created when missing).
 * @throws StoreUnavailableError (PostgreSQL) when the database cannot be reached or migrated;
 *   the SQLite store's open errors name the file and the fix.
 */
export async function openStore(location: StoreLocation, options: OpenStoreOptions = {}): Promise<Store> {
  if (location.databaseUrl !== undefined) {
    return createPostgresStore(location.databaseUrl, {
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError }),
      ...(options.callTimeoutMs === undefined ? {} : { callTimeoutMs: options.callTimeoutMs }),
      ...(options.instances?.timeoutMs === undefined ? {} : { instanceTimeoutMs: options.instances.timeoutMs }),
      ...(options.instances?.sweep === undefined ? {} : { sweep: options.instances.sweep }),
      ...(options.instances?.onPresumedStopped === undefined ? {} : { onPresumedStopped: options.instances.onPresumedStopped }),
      ...(options.instances?.onHeartbeatError === undefined ? {} : { onHeartbeatError: options.instances.onHeartbeatError }),
    });
  }
  return createSqliteStore(location.dbPath, {
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.durability === undefined ? {} : { durability: options.durability }),
    ...(options.walAutocheckpointPages === undefined ? {} : { walAutocheckpointPages: options.walAutocheckpointPages }),
    ...(options.onBackgroundError === undefined ? {} : { onBackgroundError: options.onBackgroundError }),
  });
}
