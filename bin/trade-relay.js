#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by npm install's prepare step).
// `npm start` runs this too, so it must not compile an up-to-date build (issue 8, case 5): it
// rebuilds only when dist/ is missing or older than a file in src/ (e.g. after a git pull without
// npm install), which costs a few milliseconds of stat calls to check.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const main = path.join(root, 'dist', 'cli', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function buildIsStale() {
  const src = path.join(root, 'src');
  if (!fs.existsSync(src)) return false; // an install without sources: dist/ is all there is
  if (!fs.existsSync(main)) return true;
  return newestMtime(src) > fs.statSync(main).mtimeMs;
}

// Only `npm start` (run by hand, from the install folder) rebuilds: a service or a script must not
// compile in place, where it may not even write.
if (buildIsStale()) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (process.env.npm_lifecycle_event === 'start' && fs.existsSync(tsc)) {
    console.error('trade-relay: the build in dist/ is older than src/: building it first (npm run build)');
    const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    // As `npm run build` does: the console's templates and assets are read beside its compiled code.
    const copy =
      build.status === 0 ? spawnSync(process.execPath, [path.join(root, 'scripts', 'copy-console-files.mjs')], { stdio: 'inherit', cwd: root }) : build;
    if (copy.status !== 0) {
      console.error('trade-relay: the build failed (above); fix it or run "npm install" again');
      process.exit(1);
    }
  } else if (fs.existsSync(main)) {
    console.error('trade-relay: note: dist/ is older than src/, running the older build; run "npm run build" (or "npm install") to update it');
  } else {
    console.error('trade-relay: not built yet: run "npm install" (or "npm run build") in the install folder first');
    process.exit(1);
  }
}

import('../dist/cli/main.js').catch((error) => {
  console.error(`trade-relay: cannot start (${error.message}); run "npm run build" first`);
  process.exit(1);
});
