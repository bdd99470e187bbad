// Writes docs/sample-report.md and docs/sample-report.html from a real benchmark run: a
// redis-server started for the run, the default workload (contract section 5 traffic
// shape) driven for 10 s with 64 calls in flight on a Redis executor, measured by the
// analyzer with Redis INFO deltas. Runs against the built packages:
//   pnpm --filter @stateful-route/reporter... build && pnpm --filter @stateful-route/reporter sample-report
// Options: --duration <ms> (default 10000), --out <dir> (default <repo>/docs).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { runWorkload } from '@stateful-route/analyzer';
import { createRedisExecutor } from '@stateful-route/executor-core';
import { render } from '@stateful-route/reporter';
import { startRedis } from '@stateful-route/test-redis';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10000' },
    out: { type: 'string', default: fileURLToPath(new URL('../../../docs/', import.meta.url)) },
  },
});
const durationMs = Number(values.duration);
const concurrency = 64;

const server = await startRedis();
const redis = new Redis(server.url);
const executor = createRedisExecutor({ redis, name: 'sample' });
try {
  await executor.loadScripts();
  const loadBefore = loadavg()[0] ?? 0;
  let last = 0;
  const result = await runWorkload(executor, {
    durationMs,
    concurrency,
    namespace: 'sample',
    redis,
    seed: 2026,
    onProgress: ({ elapsedMs, operations }) => {
      if (elapsedMs - last >= 1000) {
        last = elapsedMs;
        process.stderr.write(`${(elapsedMs / 1000).toFixed(0)} s: ${operations} calls\n`);
      }
    },
  });
  const version = (await redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown';
  const loadAfter = loadavg()[0] ?? 0;
  const report = {
    notes: [
      `Client, Redis and load generator share one machine with ${availableParallelism()} cores; 1-minute load average ${loadBefore.toFixed(1)} before the run and ${loadAfter.toFixed(1)} after it. Absolute figures depend on that machine: compare runs side by side, not across machines.`,
    ],
    title: `Sample report: default workload, ${concurrency} calls in flight, Redis ${version} standalone`,
    snapshot: result.snapshot,
    generatedAt: new Date().toISOString(),
  };
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(resolve(out, 'sample-report.md'), render(report, 'markdown'));
  writeFileSync(resolve(out, 'sample-report.html'), render(report, 'html'));
  process.stdout.write(render(report, 'text'));
} finally {
  await executor.close();
  redis.disconnect();
  await server.stop();
}
