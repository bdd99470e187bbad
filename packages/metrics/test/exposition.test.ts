import { execFile } from 'node:child_process';
import { createMemoryExecutor, createRedisExecutor } from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { instrumentExecutor } from '../src/index.js';
import { parseExposition, samplesOf } from './helpers/exposition.js';
import { publishOperation } from './helpers/publish.js';

/** Runs `promtool check metrics` on the text; resolves with its exit code and output. */
function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`promtool could not run (Debian package: prometheus): ${error.message}`));
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin!.end(text);
  });
}

describe('the exposition', () => {
  let text: string;
  let client: Redis;
  const disposers: (() => void)[] = [];

  // Every metric family populated: two labelled instrumentations (a Redis executor with INFO,
  // a memory executor), errors of several types, custom and default buckets, placement.
  beforeAll(async () => {
    client = new Redis(inject('redisUrl'));
    const registry = new Registry();
    disposers.push(
      instrumentExecutor({ registry, executor: 'redis', executorLabel: true, redis: client }),
      instrumentExecutor({ registry, executor: 'memory', executorLabel: true }),
    );
    const redis = createRedisExecutor({ redis: client, name: 'redis' });
    await redis.loadScripts();
    const memory = createMemoryExecutor({ name: 'memory' });
    const ns = uniqueNamespace('metrics');
    for (let i = 0; i < 20; i++) {
      await redis.setLinkedPodIfAbsent(ns, `u${i}`, 'room', { podId: i % 3, persistSeconds: 300 });
      await redis.getServiceState(ns, 'room');
      await memory.setWorkloadState(ns, 'room', `w${i}`);
    }
    await redis.getLinkedPod(ns, 'bad\nid', 'room').catch(() => {});
    await memory.registerPod(ns, 'room', 0, { capacity: 2, ttlSeconds: 60 });
    for (let i = 0; i < 3; i++) {
      await memory.allocate(ns, `a${i}`, 'room', { persistSeconds: -1 }).catch(() => {});
    }
    await memory.release(ns, 'a0', 'room');
    await memory.sweepDeadPods(ns, 'room');
    publishOperation({ executor: 'memory', durationMs: 3, errorType: 'timeout' });
    publishOperation({ executor: 'memory', durationMs: 30_000, errorType: 'cluster' });
    text = await registry.metrics();
    await redis.close();
  });
  afterAll(async () => {
    for (const dispose of disposers) dispose();
    await client?.quit();
  });

  it('parses, with cumulative histograms and no duplicate series', () => {
    const m = parseExposition(text);
    // 15 executor families, the cache hit and miss counters, 4 placement families,
    // stateful_route_build_info.
    expect(m.types.size).toBe(22);
    expect(samplesOf(m, 'stateful_route_build_info').length).toBe(1);
    expect(samplesOf(m, 'stateful_executor_redis_used_memory_bytes').length).toBe(1);
    expect(
      samplesOf(m, 'stateful_executor_errors_total')
        .map((s) => s.labels.error_type)
        .sort(),
    ).toEqual(['capacity', 'cluster', 'timeout', 'validation']);
    expect(
      samplesOf(m, 'stateful_executor_allocations_total').map((s) => [
        s.labels.executor,
        s.labels.result,
        s.value,
      ]),
    ).toEqual([
      ['redis', 'created', 0],
      ['redis', 'existing', 0],
      ['redis', 'no_capacity', 0],
      ['memory', 'created', 2],
      ['memory', 'existing', 0],
      ['memory', 'no_capacity', 1],
    ]);
    for (const name of m.types.keys()) expect(m.help.get(name)).toMatch(/\w/);
  });

  it('passes promtool check metrics', async () => {
    const { code, output } = await promtoolCheck(text);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('is what promtool rejects when broken (the check can fail)', async () => {
    const broken = text.replace(
      '# TYPE stateful_executor_operations_total counter',
      '# TYPE stateful_executor_operations_total counter\n# TYPE stateful_executor_operations_total counter',
    );
    expect((await promtoolCheck(broken)).code).not.toBe(0);
  });
});
