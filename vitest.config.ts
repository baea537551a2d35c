import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests start real servers and child processes; give them room but never hang CI.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
