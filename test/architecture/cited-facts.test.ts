import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 8, case 12: every comment or document that cites a fact about TradingView or CrossTrade cites
// docs/external-systems.md, by a section that exists there. Citation form: `docs/external-systems.md §2.5`
// (several: `§2.4, §3.4`; a range: `§3.3-§3.5`), on one line.

const repo = path.resolve(import.meta.dirname, '../..');
const DOC = 'docs/external-systems.md';
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage']);
const TEXT_FILE = /\.(ts|js|mjs|cjs|md|bat|cmd|ps1|sh|json|yml|yaml)$/;
const THIS_FILE = path.relative(repo, import.meta.filename);

/** Ways the repository used to cite a document it does not hold. */
const STRAY_CITATIONS: RegExp[] = [
  /external[- ]systems reference/i,
  /(?<!docs\/)external-systems(?!\.md)/i,
  /\breference\s+(§|fact\b|facts\b|section\b|sections\b|\d+(\.\d+)*\b)/i,
  /\bref\.?\s+\d+\.\d+/i,
  /shared\/reference/i,
];

function filesUnder(dir: string): string[] {
  return fs.readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : filesUnder(relative);
    return TEXT_FILE.test(entry.name) && entry.name !== 'package-lock.json' ? [relative] : [];
  });
}

/** Section numbers the document has: `## 4. ...` gives 4, `### 4.3 ...` gives 4.3. */
function sectionsOf(file: string): Set<string> {
  const text = fs.readFileSync(path.join(repo, file), 'utf8');
  return new Set([...text.matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.?\s/gm)].map((m) => m[1]!));
}

const files = filesUnder('.').filter((file) => file !== THIS_FILE);
const sections = sectionsOf(DOC);
const lines = files.flatMap((file) =>
  fs
    .readFileSync(path.join(repo, file), 'utf8')
    .split('\n')
    .map((text, i) => ({ where: `${file}:${i + 1}`, file, text })),
);

describe('citations of the facts about TradingView and CrossTrade', () => {
  it('the document has its chapters and sections', () => {
    for (const section of ['0', '1', '1.1', '1.5', '2', '2.2', '2.5', '2.8', '3', '3.2', '3.5', '4', '4.3', '4.4', '5', '6', '7', '8']) {
      expect(sections, `§${section}`).toContain(section);
    }
  });

  it(`cite ${DOC}, never the reference it was drawn from`, () => {
    const stray = lines.filter((line) => !line.file.startsWith('docs/') && STRAY_CITATIONS.some((pattern) => pattern.test(line.text)));
    expect(stray.map((line) => `${line.where}: ${line.text.trim()}`)).toEqual([]);
  });

  it('name a section that exists', () => {
    const cited = lines.filter((line) => line.text.includes('§'));
    expect(cited.length).toBeGreaterThan(20);
    const wrong = cited.flatMap((line) => {
      // Inside the document a bare § cites its own sections; elsewhere the line must name the document.
      if (line.file !== DOC && !line.text.includes('external-systems.md')) return [`${line.where}: § without ${DOC}`];
      return [...line.text.matchAll(/§(\d+(?:\.\d+)*)/g)].flatMap((m) => (sections.has(m[1]!) ? [] : [`${line.where}: §${m[1]} is not a section of ${DOC}`]));
    });
    expect(wrong).toEqual([]);
  });
});
