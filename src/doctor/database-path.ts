import path from 'node:path';
import { HOME_FILES, type Home } from '../config/home.js';

/** The database file: `--db` over RELAY_DB over `<data folder>/trade_relay.db`, absolute (issue 8, "one data folder"). */
export function databasePath(home: Home, flag: string | undefined, env: Record<string, string | undefined>): string {
  return path.resolve(flag?.trim() || env.RELAY_DB?.trim() || path.join(home.dir, HOME_FILES.database));
}
