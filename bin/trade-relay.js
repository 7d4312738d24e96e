#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by npm install's prepare step).
import('../dist/cli/main.js').catch((error) => {
  console.error(`trade-relay: cannot start (${error.message}); run "npm run build" first`);
  process.exit(1);
});
