import path from 'node:path';
import { type Config, type ConfigFlags, loadConfig } from './config.js';
import { ConfigError } from './config-error.js';
import { HOME_FILES, type Home, resolveHome } from './home.js';
import { readSettingsFile, type SettingsFile } from './read-settings-file.js';

const PATH_SETTINGS = ['RELAY_DB', 'RELAY_LOG_FILE', 'RELAY_TLS_CERT', 'RELAY_TLS_KEY', 'RELAY_TLS_CLIENT_CA'];

export interface Settings {
  config: Config;
  home: Home;
  settingsFile: SettingsFile;
  /** The environment with the settings file under it: what the relay's variables are read from. */
  env: Record<string, string | undefined>;
  /** Where a variable's value came from: the environment, the settings file, or nowhere (not set). */
  sourceOf(name: string): 'environment' | 'settings file' | null;
  /** True when neither --db nor RELAY_DB chose the database: it is the data folder's. */
  dbIsDefault: boolean;
}

export interface LoadSettingsInput {
  env: Record<string, string | undefined>;
  /** --home */
  home?: string;
  /** Other flags (flag over environment over settings file over default). */
  flags?: ConfigFlags;
  cwd?: string;
}

/**
 * What every command reads its settings by (issue 8, "one data folder"): resolves the data folder,
 * reads `<data folder>/settings.env` under the environment (the environment wins, flags win over
 * both), and builds the configuration. Throws one ConfigError listing every problem of the file and
 * of the values.
 */
export function loadSettings(input: LoadSettingsInput): Settings {
  const cwd = input.cwd ?? process.cwd();
  const home = resolveHome(input.env, input.home, cwd);
  const settingsFile = readSettingsFile(path.join(home.dir, HOME_FILES.settings));
  const env: Record<string, string | undefined> = {};
  const labels: Record<string, string> = {};
  for (const [name, { value, line }] of settingsFile.values) {
    // A service runs in another folder than a shell: a file's relative path means one in the data folder.
    env[name] = PATH_SETTINGS.includes(name) && value !== '' ? path.resolve(home.dir, value) : value;
    labels[name] = `${name} (${settingsFile.path} line ${line})`;
  }
  for (const [name, value] of Object.entries(input.env)) {
    if (value === undefined || value.trim() === '') continue;
    env[name] = value;
    delete labels[name];
  }
  let config: Config | null = null;
  const problems = [...settingsFile.problems];
  try {
    config = loadConfig(env, input.flags ?? {}, { home, cwd, labels });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (config === null || problems.length > 0) throw new ConfigError(problems);
  const fromEnv = (name: string) => input.env[name] !== undefined && input.env[name]?.trim() !== '';
  return {
    config,
    home,
    settingsFile,
    env,
    sourceOf: (name) => (fromEnv(name) ? 'environment' : settingsFile.values.has(name) ? 'settings file' : null),
    dbIsDefault: input.flags?.dbPath === undefined && env.RELAY_DB === undefined,
  };
}
