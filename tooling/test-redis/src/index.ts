/**
 * Starts real `redis-server` processes on free loopback ports for tests and benchmarks: a
 * standalone server and a Redis Cluster (masters, optional replicas). Never skips: a missing
 * `redis-server` is an error that says how to install it.
 */
export {
  startRedis,
  startRedisCluster,
  redisServerPath,
  RedisServerMissingError,
} from './servers.js';
export type {
  RedisServer,
  RedisClusterServer,
  StartRedisOptions,
  StartClusterOptions,
} from './servers.js';
export { freePort } from './ports.js';
export { uniqueNamespace } from './namespace.js';
