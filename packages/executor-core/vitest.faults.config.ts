// The fault-injection suite (`pnpm test:faults`): every file starts and breaks its own Redis
// processes, so files run one at a time and are kept out of the ordinary `test` run.
import { defineTestConfig } from '@stateful-route/test-redis/vitest-config';

export default defineTestConfig(
  {},
  {
    test: {
      include: ['test/faults/**/*.fault.ts'],
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 60_000,
    },
  },
);
