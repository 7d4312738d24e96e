import type { Store } from '../../../src/store/store.js';

/** How a contract test wants its store. */
export interface StoreOpenOptions {
  /** The store's clock (ms since the epoch): what it stamps records, marks, fingerprints and `updatedAt` with. Default Date.now. */
  now?: () => number;
}

/**
 * One store implementation as the contract suite (describe-store-contract.ts) sees it. Each test
 * calls `open()` once for a store on a new, empty database, may call `reopen()` for more stores on
 * that same database, and the suite calls `cleanup()` after every test. Nothing here may depend on
 * an implementation: the same tests run against SQLite (test/store/sqlite.contract.test.ts) and
 * PostgreSQL (test/store/postgres.contract.test.ts).
 */
export interface StoreHarness {
  readonly name: 'sqlite' | 'postgres';
  /** Once before the file's tests (e.g. create the file's own PostgreSQL database). */
  setup?(): Promise<void>;
  /** Once after the file's tests: removes whatever `setup` made (e.g. drops the database). */
  teardown?(): Promise<void>;
  /** A store on a new, empty, fully migrated database: SQLite a new temp file, PostgreSQL e.g. a new schema. */
  open(options?: StoreOpenOptions): Promise<Store>;
  /**
   * Another store on the database of the last `open()`: the relay restarted (the first store
   * closed), or a second process or instance beside it (the first still open).
   */
  reopen(options?: StoreOpenOptions): Promise<Store>;
  /** Closes every store it opened that is still open (close() twice is harmless) and removes their databases. */
  cleanup(): Promise<void>;
}
