import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Relay and simulator servers bind 127.0.0.1 on port 0, so files can run in parallel.
    pool: 'forks',
  },
});
