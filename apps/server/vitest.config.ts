import { defineTestConfig } from '@stateful-route/test-redis/vitest-config';
import { configDefaults } from 'vitest/config';

// Fault-injection tests (test/faults) run in their own `test:faults` task, not in `test`.
export default defineTestConfig(
  { redis: true },
  { test: { exclude: [...configDefaults.exclude, 'test/faults/**'] } },
);
