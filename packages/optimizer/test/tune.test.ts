import type {} from '@stateful-route/test-redis/global-setup';
import { Redis } from 'ioredis';
import { afterEach, expect, inject, test, vi } from 'vitest';
import { createRedisExecutor, type RedisExecutor } from '@stateful-route/executor-core';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import {
  defaultCandidates,
  setupOf,
  tune,
  type TuneConfiguration,
} from '@stateful-route/optimizer';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function client(): Redis {
  const redis = new Redis(inject('redisUrl'));
  cleanup.push(() => redis.disconnect());
  return redis;
}

const candidates: TuneConfiguration[] = [
  { scriptTransport: 'evalsha', autoPipelining: false, connections: 1, nearCache: true },
  { scriptTransport: 'evalsha', autoPipelining: true, connections: 2, nearCache: false },
];

// Runs the pasted snippet (it is plain JavaScript as well as TypeScript) with its imports
// given, against the test's Redis, and returns the executor it builds.
function runPaste(paste: string, url: string): RedisExecutor {
  const body = paste
    .split('\n')
    .filter((line) => !line.startsWith('import '))
    .join('\n');
  const made = new Function(
    'Redis',
    'createRedisExecutor',
    'process',
    `${body}\nreturn executor;`,
  ) as (...args: unknown[]) => RedisExecutor;
  return made(Redis, createRedisExecutor, { env: { REDIS_URL: url } });
}

test('in place: interleaved rounds, spreads, a tested lead, the winner applied and pasteable', async () => {
  const executor = createRedisExecutor({
    redis: client(),
    name: 'tune',
    scriptTransport: 'eval',
    connectionFactory: () => client(),
  });
  cleanup.push(() => executor.close());
  const progress: string[] = [];
  const result = await tune(executor, {
    workload: { concurrency: 32, namespace: uniqueNamespace('tune') },
    trialMs: 300,
    warmupMs: 100,
    rounds: 3,
    candidates,
    onProgress: (p) => progress.push(`${p.round}:${p.label}:${p.done}/${p.total}`),
  });
  expect(result.trials).toHaveLength(3);
  expect(result.trials[0]).toBe(result.baseline);
  expect(result.baseline.configuration).toEqual({
    scriptTransport: 'eval',
    autoPipelining: false,
    connections: 1,
    nearCache: false,
  });
  // Every round measures every configuration; the order alternates. Then each runs once at
  // the guard's load.
  const [b, c1, c2] = result.trials.map((t) => t.label);
  const at = `(at ${result.guardRate} calls/s)`;
  expect(progress).toEqual([
    `1:${b}:1/9`,
    `1:${c1}:2/9`,
    `1:${c2}:3/9`,
    `2:${c2}:4/9`,
    `2:${c1}:5/9`,
    `2:${b}:6/9`,
    `3:${c1}:7/9`,
    `3:${c2}:8/9`,
    `3:${b}:9/9`,
    `3:${b} ${at}:10/12`,
    `3:${c1} ${at}:11/12`,
    `3:${c2} ${at}:12/12`,
  ]);
  // The guard's load: 0.8 of the baseline's median throughput, where the p99s compare.
  expect(result.guardRate).toBeCloseTo(result.baseline.throughput * 0.8, 0);
  for (const trial of result.trials) {
    expect(trial.p99AtGuardLoadMs).toBeGreaterThan(0);
    if (!trial.eligible && trial.verdict.startsWith('rejected: p99')) {
      expect(trial.p99AtGuardLoadMs).toBeGreaterThan(1.5 * result.baseline.p99AtGuardLoadMs!);
    }
  }
  for (const trial of result.trials) {
    expect(trial.verdict).not.toBe('');
    expect(trial.operations).toBeGreaterThan(0);
    expect(trial.rounds).toHaveLength(3);
    expect(trial.spread.median).toBe(trial.throughput);
    expect(trial.spread.min).toBe(Math.min(...trial.rounds));
    expect(trial.spread.max).toBe(Math.max(...trial.rounds));
    expect(trial.spread.cvPercent).toBeGreaterThanOrEqual(0);
  }
  expect(result.rounds).toBe(3);
  expect(result.alpha).toBe(0.05);
  const eligible = result.trials.filter((t) => t.eligible);
  expect(result.winner.verdict).toBe('winner');
  expect(result.fastest.throughput).toBe(Math.max(...eligible.map((t) => t.throughput)));
  if (eligible.length > 1) {
    expect(result.lead).not.toBeNull();
    const lead = result.lead!;
    expect(lead.rounds).toBe(3);
    expect(lead.pValue).toBeGreaterThanOrEqual(0);
    expect(lead.pValue).toBeLessThanOrEqual(1);
    expect(lead.minPercent).toBeLessThanOrEqual(lead.maxPercent);
    if (lead.significant) {
      expect(result.chosenBy).toBe('throughput');
      expect(result.winner).toBe(result.fastest);
      expect(result.tieBreak).toBeNull();
      expect(result.reason).toMatch(/significant at 0.05/);
    } else if (
      [...eligible].sort((a, b) => b.throughput - a.throughput)[1]!.throughput >=
      0.9 * result.fastest.throughput
    ) {
      // The runner-up is within 10% of the fastest and not significantly slower: a tie.
      expect(result.chosenBy).toBe('tie-break');
      expect(result.tieBreak).toMatch(/simplest/);
      expect(result.reason).toMatch(/^No significant winner/);
    } else {
      // Not significant, but nobody within 10% of the fastest: it wins on throughput.
      expect(result.chosenBy).toBe('throughput');
      expect(result.winner).toBe(result.fastest);
      expect(result.reason).toMatch(/not significant, but no other configuration comes within 10%/);
    }
  }
  expect(result.reason).toContain(result.winner.label);
  expect(result.trials[1]!.nearCacheHits).toBeGreaterThan(0);
  expect(result.applied).toBe(true);
  const d = executor.describe();
  expect({
    scriptTransport: d.scriptTransport,
    autoPipelining: d.autoPipelining,
    connections: d.connections,
    nearCache: d.nearCache?.enabled,
  }).toEqual(result.winner.configuration);

  // The paste builds an executor in the winner's configuration from the start.
  const w = result.winner.configuration;
  expect(result.options.scriptTransport).toBe(w.scriptTransport);
  expect(result.options.nearCache !== undefined).toBe(w.nearCache);
  expect(result.clientOptions).toEqual({ enableAutoPipelining: w.autoPipelining });
  expect(result.serverFlags).toBe(
    `--auto-pipelining ${w.autoPipelining ? 'on' : 'off'} --near-cache ${w.nearCache ? 'on' : 'off'}`,
  );
  const pasted = runPaste(result.paste, inject('redisUrl'));
  cleanup.push(() => pasted.close());
  await vi.waitFor(() => expect(pasted.describe().nearCache?.enabled).toBe(w.nearCache));
  const p = pasted.describe();
  expect({
    scriptTransport: p.scriptTransport,
    autoPipelining: p.autoPipelining,
    connections: p.connections,
    nearCache: p.nearCache?.enabled,
  }).toEqual(w);
  console.log(`tune: ${result.reason}`);
  for (const t of result.trials)
    console.log(
      `  ${t.label}: ${t.throughput}/s (${t.spread.min}-${t.spread.max}, CV ${t.spread.cvPercent}%) p99 ${t.p99Ms} ms -> ${t.verdict}`,
    );
  console.log(result.paste);
});

test('the paste of every default candidate builds that configuration', async () => {
  for (const configuration of defaultCandidates()) {
    const pasted = runPaste(setupOf(configuration).paste, inject('redisUrl'));
    try {
      await vi.waitFor(() =>
        expect(pasted.describe().nearCache?.enabled).toBe(configuration.nearCache),
      );
      const p = pasted.describe();
      expect({
        scriptTransport: p.scriptTransport,
        autoPipelining: p.autoPipelining,
        connections: p.connections,
        nearCache: p.nearCache?.enabled,
      }).toEqual(configuration);
      // It runs calls.
      await expect(
        pasted.getLinkedPod(uniqueNamespace('paste'), 'uid-1', 'svc'),
      ).resolves.toBeTypeOf('number');
    } finally {
      await pasted.close();
    }
  }
});

test('a factory: fresh executors per trial; configurations that cannot be made are reported', async () => {
  const made: string[] = [];
  const result = await tune(
    () => {
      const executor = createRedisExecutor({ redis: client(), name: `tune-f${made.length}` });
      made.push(executor.name);
      return executor;
    },
    {
      workload: { concurrency: 8, namespace: uniqueNamespace('tunef') },
      trialMs: 150,
      warmupMs: 0,
      rounds: 2,
      candidates,
      p99GuardRatio: 100,
    },
  );
  // Baseline and the first candidate twice, and once each at the guard's load; the second
  // failed once and was not retried.
  expect(made).toHaveLength(7);
  // No connectionFactory: two connections cannot be made.
  expect(result.trials[2]!.verdict).toMatch(/could not be configured: SR_VALIDATION/);
  expect(result.trials[2]!.eligible).toBe(false);
  expect(result.applied).toBe(false);
});

test('a failing baseline: the guard compares with the fastest configuration without errors', async () => {
  // A Redis without EVAL (renamed away, as some managed Redis services do): the baseline's
  // script transport `eval` fails every script call; `evalsha` works. Before the fix the
  // guard took its rate and its p99 from the failing baseline: from fast failures, or with no
  // call completed (0 calls/s) no guard run at all, and every candidate was rejected.
  const server = await startRedis({ args: ['--rename-command', 'EVAL', ''] });
  cleanup.push(() => server.stop());
  const result = await tune(
    () => {
      const redis = new Redis(server.url);
      cleanup.push(() => redis.disconnect());
      return createRedisExecutor({ redis, scriptTransport: 'eval' });
    },
    {
      workload: {
        concurrency: 4,
        namespace: uniqueNamespace('tunebroken'),
        mix: { setLinkedPodIfAbsent: 1 },
      },
      trialMs: 150,
      warmupMs: 0,
      rounds: 2,
      candidates: [
        { scriptTransport: 'evalsha', autoPipelining: false, connections: 1, nearCache: false },
        { scriptTransport: 'evalsha', autoPipelining: true, connections: 1, nearCache: false },
      ],
    },
  );
  expect(result.baseline.errors).toBeGreaterThan(0);
  expect(result.baseline.eligible).toBe(false);
  expect(result.baseline.verdict).toMatch(/^rejected: \d+ errors$/);
  expect(result.chosenBy).not.toBe('baseline');
  expect(result.winner.configuration.scriptTransport).toBe('evalsha');
  expect(result.winner.eligible).toBe(true);
  const healthy = result.trials.slice(1);
  expect(healthy.every((t) => t.errors === 0 && t.p99AtGuardLoadMs! > 0)).toBe(true);
  // The reference is the fastest of them; the guard ran at 0.8 of its throughput.
  const fastest = [...healthy].sort((a, b) => b.throughput - a.throughput)[0]!;
  expect(result.guardRate).toBeCloseTo(fastest.throughput * 0.8, 0);
  expect(result.guardReference).toBe(fastest);
  expect(fastest.eligible).toBe(true);
  expect(result.reason).toMatch(
    /^The baseline \(eval, .*\) failed \(\d+ errors\); the latency guard compares with the fastest configuration without errors/,
  );
});

test('rejects bad options', async () => {
  const executor = createRedisExecutor({ redis: client() });
  cleanup.push(() => executor.close());
  await expect(tune(executor, { workload: {}, trialMs: 0 })).rejects.toMatchObject({
    code: 'SR_OPTIMIZER_INVALID_OPTION',
  });
  await expect(
    tune(executor, { workload: {}, trialMs: 10, p99GuardRatio: 0.5 }),
  ).rejects.toMatchObject({
    code: 'SR_OPTIMIZER_INVALID_OPTION',
  });
  for (const bad of [
    { rounds: 0 },
    { rounds: 21 },
    { rounds: 2.5 },
    { alpha: 0 },
    { alpha: 1 },
    { guardLoad: 0 },
    { guardLoad: 1.5 },
    { guardLoad: Number.NaN },
  ]) {
    await expect(tune(executor, { workload: {}, trialMs: 10, ...bad })).rejects.toMatchObject({
      code: 'SR_OPTIMIZER_INVALID_OPTION',
    });
  }
});
