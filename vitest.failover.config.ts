import { defineConfig } from 'vitest/config';

// `npm run test:failover`: brokers of a cluster killed under load (test/failover/). Not part
// of `npm test` while the Kafka failover test still fails now and then there (README, "Tests").
export default defineConfig({
  test: {
    include: ['test/failover/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 600_000,
    pool: 'forks',
    globalSetup: ['test/services/global-setup.ts'],
  },
});
