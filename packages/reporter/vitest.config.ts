import { defineTestConfig } from '@stateful-route/test-redis/vitest-config';

export default defineTestConfig();
