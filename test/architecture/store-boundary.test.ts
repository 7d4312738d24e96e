import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(relative) : /\.(ts|js)$/.test(entry.name) ? [relative] : [];
  });
}

describe('the store is the only place that knows its database (issue 10)', () => {
  it('no source outside src/store/ names an SQLite or PostgreSQL error code or reads a driver error’s code', () => {
    const offending = [...filesUnder('src'), ...filesUnder('bench')]
      .filter((file) => !file.startsWith(`src${path.sep}store${path.sep}`))
      .filter((file) =>
        /SQLITE_[A-Z]|\bSQLSTATE\b|isBusy|\.code\s*===\s*['"](?:SQLITE|[0-9]{2}[0-9A-Z]{3}['"])/.test(fs.readFileSync(path.join(repo, file), 'utf8')),
      );
    expect(offending).toEqual([]);
  });

  it('the contract suite imports no implementation: it runs against any store through its harness', () => {
    const contract = filesUnder(path.join('test', 'store', 'contract'));
    expect(contract.length).toBeGreaterThan(5);
    const offending = contract.filter((file) => /better-sqlite3|\bpg\b['"]|store\/(sqlite|postgres)\//.test(fs.readFileSync(path.join(repo, file), 'utf8')));
    expect(offending).toEqual([]);
  });
});
