import { defineTestConfig } from '@stateful-route/test-redis/vitest-config';

// Packing, an npm install and a tsc run take longer than a unit test.
export default defineTestConfig(
  { redis: true },
  { test: { testTimeout: 120_000, hookTimeout: 300_000 } },
);
