import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Kafka failover suite runs on its own, as `npm test`'s `failover` stage
    // (vitest.failover.config.ts), not beside the other files.
    exclude: [...configDefaults.exclude, 'test/failover/**'],
    // Bounds, not expectations: a test that hangs fails instead of holding CI, but a busy
    // two-core machine (a Kafka JVM starting beside the suite) must not fail a slow one.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Broker tests share real services; files run in parallel on two cores, tests inside a file in order.
    pool: 'forks',
    // Starts nothing itself: gives test files a place to share one Kafka broker, and stops it.
    globalSetup: ['test/services/global-setup.ts'],
  },
});
