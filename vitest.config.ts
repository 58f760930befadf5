import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Broker tests share real services; files run in parallel on two cores, tests inside a file in order.
    pool: 'forks',
    // Starts nothing itself: gives test files a place to share one Kafka broker, and stops it.
    globalSetup: ['test/services/global-setup.ts'],
  },
});
