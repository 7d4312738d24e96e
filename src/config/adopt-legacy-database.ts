import fs from 'node:fs';
import path from 'node:path';
import { HOME_FILES, installDir } from './home.js';

/**
 * Before the data folder (issue 8), the database was `./trade_relay.db` in the folder a command ran
 * from: `npm start` and start_relay.bat put it in the install folder. On the first command after the
 * upgrade that uses the default data folder, that file (with its -wal and -shm) moves into the data
 * folder, so no trader loses users and positions. Returns the line to tell the user, or null when
 * there is nothing to move. Throws with what to do when the move fails (on Windows: a relay still
 * running on the old file).
 */
export function adoptLegacyDatabase(dbPath: string, fromDir: string = installDir()): string | null {
  const legacy = path.join(fromDir, HOME_FILES.database);
  if (path.resolve(legacy) === path.resolve(dbPath) || !fs.existsSync(legacy) || fs.existsSync(dbPath)) return null;
  fs.mkdirSync(path.dirname(dbPath), { recursive: true, mode: 0o700 });
  try {
    // The -wal holds commits not yet in the main file: it moves first, so a crash in between leaves
    // the old database whole where it was.
    for (const suffix of ['-wal', '-shm', '']) {
      if (fs.existsSync(legacy + suffix)) fs.renameSync(legacy + suffix, dbPath + suffix);
    }
  } catch (error) {
    throw new Error(
      `cannot move the database ${legacy} into the data folder (${dbPath}): ${(error as Error).message}. ` +
        'Stop every relay still running on it (and any program that has it open), then run the command again',
    );
  }
  return `moved the database ${legacy} into the data folder: ${dbPath} (its users, positions and log are kept)`;
}
