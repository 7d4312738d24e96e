import fs from 'node:fs';
import type { Home } from '../config/home.js';
import { type CheckLine, fail, ok, warn } from './check-line.js';

/**
 * The data folder and the database in it: present, writable by this account, the database and its
 * `-wal`/`-shm` companions not readable by other accounts (it holds CrossTrade keys). POSIX modes only.
 */
export function checkDataFolder(home: Home, dbPath: string | null): CheckLine[] {
  const lines: CheckLine[] = [];
  const from = home.source === 'default' ? 'the install folder default' : home.source;
  if (!fs.existsSync(home.dir)) {
    lines.push(
      warn('data folder', `${home.dir} (${from}) does not exist yet`, 'npx trade-relay add-user creates it; or set RELAY_HOME to the folder you meant'),
    );
  } else if (!canWrite(home.dir)) {
    lines.push(
      fail(
        'data folder',
        `${home.dir} (${from}) is not writable by this account`,
        `give this account write access: chmod u+rwx "${home.dir}" (or run as its owner)`,
      ),
    );
  } else {
    lines.push(ok('data folder', `${home.dir} (${from})`));
  }
  // PostgreSQL (RELAY_DATABASE_URL): the database line comes from reading it.
  if (dbPath === null) return lines;
  if (!fs.existsSync(dbPath)) {
    lines.push(
      fail('database', `${dbPath} does not exist`, 'npx trade-relay add-user creates it with the first user; or set RELAY_DB / --db to the file you meant'),
    );
    return lines;
  }
  const files = [dbPath, `${dbPath}-wal`, `${dbPath}-shm`].filter((file) => fs.existsSync(file));
  const readOnly = files.filter((file) => !canWrite(file));
  if (readOnly.length > 0) {
    return [
      ...lines,
      fail(
        'database',
        `${readOnly.join(', ')} not writable by this account: the relay cannot record alerts`,
        `chmod 600 ${readOnly.map((f) => `"${f}"`).join(' ')}`,
      ),
    ];
  }
  const open = process.platform === 'win32' ? [] : files.filter((file) => (fs.statSync(file).mode & 0o077) !== 0);
  if (open.length > 0) {
    lines.push(
      warn(
        'database',
        `${open.join(', ')} readable by other accounts on this machine; it holds CrossTrade keys`,
        `chmod 600 ${open.map((f) => `"${f}"`).join(' ')}`,
      ),
    );
  } else {
    lines.push(ok('database', `${dbPath} (readable and writable by this account only)`));
  }
  return lines;
}

function canWrite(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
