import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedis, startRedisCluster } from './servers.js';

/** What the global setup hands to tests through vitest's `inject()`. */
export interface ProvidedRedis {
  /** `redis://127.0.0.1:<port>` of a standalone server. */
  redisUrl: string;
  /** Seeds of a 3-master cluster. */
  clusterSeeds: { host: string; port: number }[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    clusterSeeds: { host: string; port: number }[];
  }
}

/**
 * Vitest global setup: one standalone Redis and one 3-master Redis Cluster for the whole run,
 * stopped at the end. Tests isolate themselves with their own namespace.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [standalone, cluster] = await Promise.all([
    startRedis(),
    startRedisCluster({ masters: 3 }),
  ]);
  project.provide('redisUrl', standalone.url);
  project.provide('clusterSeeds', cluster.seeds);
  return async () => {
    await Promise.all([standalone.stop(), cluster.stop()]);
  };
}
