import { createSqliteStore, type SqliteStoreOptions } from '../../src/store/sqlite/create-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import type { StoreHarness, StoreOpenOptions } from './contract/store-harness.js';

/** The contract's harness over SQLite: a new file in a temp folder per `open()`; `extra` options for SQLite-only tests. */
export function sqliteHarness(extra: SqliteStoreOptions = {}): StoreHarness & { file(): string } {
  let temp: ReturnType<typeof makeTempDir> | null = null;
  let file: string | null = null;
  let opened: Store[] = [];
  const openOn = async (path: string, options: StoreOpenOptions) => {
    const store = createSqliteStore(path, { ...extra, ...(options.now ? { now: options.now } : {}) });
    opened.push(store);
    return store;
  };
  return {
    name: 'sqlite',
    file: () => {
      if (file === null) throw new Error('open() first');
      return file;
    },
    open: async (options = {}) => {
      temp ??= makeTempDir('trade-relay-store-');
      file = temp.file(`relay-${opened.length}-${Date.now()}.db`);
      return openOn(file, options);
    },
    reopen: async (options = {}) => {
      if (file === null) throw new Error('reopen() needs an open() first');
      return openOn(file, options);
    },
    cleanup: async () => {
      const stores = opened;
      opened = [];
      await Promise.all(stores.map((store) => store.close()));
      temp?.cleanup();
      temp = null;
      file = null;
    },
  };
}
