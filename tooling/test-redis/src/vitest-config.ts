import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';

// Resolve workspace packages to their TypeScript sources, so tests never wait for a build.
// This file runs from src/ (TypeScript) or dist/ (built); its sibling has the same extension.
const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

const conditions = ['@stateful-route/source', 'import', 'module', 'node', 'default'];

/**
 * The shared vitest config of the workspace: source conditions, generous timeouts for real
 * Redis processes, and (with `redis: true`) a global setup that starts a standalone Redis
 * and a 3-master cluster, handed to tests through `inject('redisUrl')` and
 * `inject('clusterSeeds')`.
 */
export function defineTestConfig(
  options: { redis?: boolean } = {},
  overrides: ViteUserConfig = {},
): ViteUserConfig {
  const base = defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: {
      testTimeout: 30_000,
      hookTimeout: 60_000,
      globalSetup: options.redis
        ? [fileURLToPath(new URL(`./global-setup${extension}`, import.meta.url))]
        : [],
    },
  });
  return mergeConfig(base, overrides);
}
