// The fault-injection suite (`pnpm test:faults`): real server processes on real Redis
// processes that the tests kill, pause and fill. Files run one at a time (they measure
// timings on a small machine) and stay out of the ordinary `test` run.
import { defineTestConfig } from '@stateful-route/test-redis/vitest-config';

export default defineTestConfig(
  {},
  {
    test: {
      include: ['test/faults/**/*.fault.ts'],
      fileParallelism: false,
      testTimeout: 240_000,
      hookTimeout: 60_000,
    },
  },
);
