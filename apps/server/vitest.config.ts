import { defineTestConfig } from '@stateful-route/test-redis/vitest-config';
import { configDefaults } from 'vitest/config';

// Fault-injection tests (test/faults) run in their own `test:faults` task, not in `test`.
// The global setups (merged): real Redis servers, then a build of the bin when stale.
export default defineTestConfig(
  { redis: true },
  {
    test: {
      exclude: [...configDefaults.exclude, 'test/faults/**'],
      globalSetup: ['./test/global-build.ts'],
    },
  },
);
