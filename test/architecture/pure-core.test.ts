import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../src');
const importsOf = (file: string) => [...fs.readFileSync(file, 'utf8').matchAll(/^\s*import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

describe('the decision engine and the alert parser stay pure', () => {
  for (const folder of ['engine', 'signal']) {
    const files = fs.readdirSync(path.join(root, folder)).filter((f) => f.endsWith('.ts'));
    it.each(files)(`${folder}/%s imports no I/O module`, (file) => {
      const forbidden = importsOf(path.join(root, folder, file)).filter(
        (spec) =>
          spec.startsWith('node:') ||
          /\.\.\/(store|crosstrade|http|log|relay|cli|simulator)\//.test(spec) ||
          ['fs', 'http', 'net', 'undici', 'better-sqlite3', 'pino', 'fastify'].includes(spec),
      );
      expect(forbidden).toEqual([]);
    });
  }
});
