import fs from 'node:fs';
import { SETTING_NAMES } from './config.js';

export interface SettingsFile {
  /** Absolute path of the file. */
  path: string;
  exists: boolean;
  /** Each variable the file sets, with its line number. */
  values: Map<string, { value: string; line: number }>;
  /** Lines the file could not be read by, one reason each (reported with the other configuration problems). */
  problems: string[];
}

/**
 * Reads `<data folder>/settings.env`: `NAME=value` lines with the environment's variable names,
 * blank lines and `#` comments; a value may be wrapped in quotes. A missing file sets nothing.
 * Throws only when the file exists but cannot be read.
 */
export function readSettingsFile(file: string): SettingsFile {
  const result: SettingsFile = { path: file, exists: false, values: new Map(), problems: [] };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
    throw new Error(`cannot read the settings file ${file}: ${(error as Error).message}`);
  }
  result.exists = true;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const problem = readLine(raw.trim(), index + 1, result.values);
    if (problem !== null) result.problems.push(`${file} line ${index + 1}: ${problem}`);
  });
  return result;
}

/** Reads one line into `values`; returns why it cannot, or null. */
function readLine(text: string, line: number, values: SettingsFile['values']): string | null {
  if (text === '' || text.startsWith('#')) return null;
  const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(text);
  if (!match) return 'expected NAME=value, e.g. RELAY_PORT=80';
  const [, name = '', rawValue = ''] = match;
  if (name === 'RELAY_HOME') {
    return 'RELAY_HOME cannot be set in the settings file: it chooses the folder the file is in; set it in the environment or use --home';
  }
  if (!SETTING_NAMES.includes(name)) return `unknown setting ${name} (the names are those of the configuration table in README.md)`;
  const first = values.get(name);
  if (first !== undefined) return `${name} is set twice (first on line ${first.line})`;
  values.set(name, { value: unquote(rawValue.trim()), line });
  return null;
}

function unquote(value: string): string {
  const quoted = /^(["'])(.*)\1$/.exec(value);
  return quoted ? (quoted[2] ?? '') : value;
}
