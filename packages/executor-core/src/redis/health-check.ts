/**
 * The health check of a Redis executor: every connection answers a PING and Redis says
 * whether it holds the scripts, within a bound of its own (a paused or unreachable Redis
 * answers `ok: false` by then, never later).
 */
import { performance } from 'node:perf_hooks';
import { ConnectionError, TimeoutError } from '../errors.js';
import type { HealthStatus } from '../executor.js';
import type { ConnectionPool } from './connection-pool.js';
import { toExecutorError } from './redis-errors.js';
import type { ScriptRunner } from './script-runner.js';

/** @internal `ok` when Redis answers within `timeoutMs`; `scriptsLoaded` from SCRIPT EXISTS. */
export async function checkRedisHealth(
  pool: ConnectionPool,
  scripts: ScriptRunner,
  timeoutMs: number,
): Promise<HealthStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const down = pool.connections.find(({ client }) => client.status !== 'ready');
      reject(
        down
          ? new ConnectionError(
              `Redis is unreachable: connection ${down.label} is ${down.client.status} after ${timeoutMs} ms`,
            )
          : new TimeoutError(`Redis did not answer the health check within ${timeoutMs} ms`),
      );
    }, timeoutMs);
  });
  try {
    const checks = Promise.all([
      Promise.all(pool.connections.map(({ client }) => client.ping())),
      scripts.cached(),
    ]);
    const [, scriptsLoaded] = await Promise.race([checks, expired]);
    return { ok: true, backend: 'redis', latencyMs: performance.now() - started, scriptsLoaded };
  } catch (error) {
    return {
      ok: false,
      backend: 'redis',
      latencyMs: performance.now() - started,
      scriptsLoaded: false,
      reason: toExecutorError(error).message,
    };
  } finally {
    clearTimeout(timer);
  }
}
