import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 8, case 4 and "Commands as written": a bare `trade-relay <command>` is "command not found" on a
// fresh clone (the package is not installed globally), so every message that tells the trader what to
// type writes `npx trade-relay <command>`, as the README does.

const repo = path.resolve(import.meta.dirname, '../..');
const COMMANDS =
  'start|add-user|admin-token|list-users|remove-user|positions|doctor|test-alert|clear-position|logs|crosstrade-sim|service|migrate-db|notify-test';
const BARE = new RegExp(`(?<![\\w/.-])(?<!npx )trade-relay (${COMMANDS})\\b`);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

/** Code lines (comments left out) that would print a bare `trade-relay <command>`. */
function bareCommands(): string[] {
  return sourceFiles('src').flatMap((file) =>
    fs
      .readFileSync(path.join(repo, file), 'utf8')
      .split('\n')
      .map((text, index) => ({ text, where: `${file}:${index + 1}` }))
      .filter(({ text }) => !/^\s*(\/\/|\/\*|\*)/.test(text))
      // The header comment of a generated unit or WinSW definition names the command; it is not advice.
      .filter(({ text }) => !/Written by|shows what it would write/.test(text))
      // The service command names itself on an unsupported system.
      .filter(({ text }) => !/service supports Linux/.test(text))
      .filter(({ text }) => BARE.test(text))
      .map(({ text, where }) => `${where}: ${text.trim()}`),
  );
}

describe('commands as written', () => {
  it('every message that names a command says npx trade-relay <command>', () => {
    expect(bareCommands()).toEqual([]);
  });
});
