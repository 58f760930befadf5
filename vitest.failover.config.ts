import { defineConfig } from 'vitest/config';

// `npm run test:failover`: brokers of a cluster killed under load (test/failover/), the
// `failover` stage of `npm test`, run on its own after the main suite: three JVMs and the
// kills are load enough without the rest of the suite beside them.
export default defineConfig({
  test: {
    include: ['test/failover/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 600_000,
    pool: 'forks',
    globalSetup: ['test/services/global-setup.ts'],
  },
});
