import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The data folder ("home"): the database, the application log and the settings file of one relay
 * installation live in it, so that every command, the service and `npm start` find the same ones
 * wherever they are run from (issue 8, "one data folder").
 *
 * Default: `data/` inside the install folder (the folder holding package.json), not a per-user
 * folder: a Windows service runs as another account than the trader who installed it, and
 * must still find the same data. `RELAY_HOME` or `--home` moves it.
 */
export interface Home {
  /** Absolute path of the data folder. */
  dir: string;
  /** Where it came from, for the start-up log and `doctor`. */
  source: '--home' | 'RELAY_HOME' | 'default';
}

/** The install folder: the package root. Same relative path from src/config/ and dist/config/. */
export function installDir(): string {
  return fileURLToPath(new URL('../..', import.meta.url)).replace(/[\\/]$/, '');
}

/** Resolves the data folder: `--home` over `RELAY_HOME` over `<install folder>/data`; relative paths against `cwd`. */
export function resolveHome(env: Record<string, string | undefined>, flag?: string, cwd: string = process.cwd()): Home {
  const fromFlag = flag?.trim();
  if (fromFlag) return { dir: path.resolve(cwd, fromFlag), source: '--home' };
  const fromEnv = env.RELAY_HOME?.trim();
  if (fromEnv) return { dir: path.resolve(cwd, fromEnv), source: 'RELAY_HOME' };
  return { dir: path.join(installDir(), 'data'), source: 'default' };
}

/** File names inside the data folder. */
export const HOME_FILES = {
  database: 'trade_relay.db',
  log: 'trade_relay.log',
  settings: 'settings.env',
} as const;
