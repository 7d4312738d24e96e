import fs from 'node:fs';
import path from 'node:path';

/**
 * Tests that run the CLI as another account (they run as root, which reads read-only files) need
 * that account to reach the checkout. A fresh clone in a private temp folder (`mktemp -d`, mode
 * 0700) is out of its reach, so every folder above `dir` gets search permission for others
 * (o+x: enter, not list). Does nothing unless run as root.
 */
export function letOthersReach(dir: string): void {
  if (process.getuid?.() !== 0) return;
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const mode = fs.statSync(at).mode & 0o7777;
    if ((mode & 0o001) === 0) fs.chmodSync(at, mode | 0o001);
    if (path.dirname(at) === at) return;
  }
}
