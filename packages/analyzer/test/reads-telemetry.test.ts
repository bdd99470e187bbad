// The analyzer reads what the executor recorded (issue 12): its counts, errors and latency
// counts match the calls actually made, on every backend; it attaches to the executors it
// watches and releases them; two analyzers on one executor see the same figures, each over
// its own span.
import { Cluster, Redis } from 'ioredis';
import { afterEach, describe, expect, inject, test, vi } from 'vitest';
import {
  createMemoryExecutor,
  createRedisExecutor,
  type OperationName,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { createAnalyzer } from '@stateful-route/analyzer';
import type { AnalysisSnapshot, Analyzer, OperationSnapshot } from '@stateful-route/analyzer';

type BackendName = 'memory' | 'standalone' | 'cluster';
const BACKENDS: readonly BackendName[] = ['memory', 'standalone', 'cluster'];

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** One executor of a backend, closed (with its client) after the test. */
async function executorOn(backend: BackendName, name: string): Promise<StatefulExecutor> {
  if (backend === 'memory') {
    const executor = createMemoryExecutor({ name });
    cleanup.push(() => executor.close());
    return executor;
  }
  const client =
    backend === 'standalone' ? new Redis(inject('redisUrl')) : new Cluster(inject('clusterSeeds'));
  const executor = createRedisExecutor({ redis: client, name });
  cleanup.push(async () => {
    await executor.close();
    client.disconnect();
  });
  await executor.loadScripts();
  return executor;
}

function analyzerOf(options: Parameters<typeof createAnalyzer>[0]): Analyzer {
  const analyzer = createAnalyzer({ processMetrics: false, ...options });
  cleanup.push(() => analyzer.close());
  return analyzer;
}

type Made = Map<OperationName, { ok: number; failed: number }>;

/** A mix of calls, sequential and concurrent, with validation failures; what was made. */
async function traffic(executor: StatefulExecutor, ns: string, made: Made = new Map()) {
  const count = async (op: OperationName, call: () => Promise<unknown>) => {
    const entry = made.get(op) ?? { ok: 0, failed: 0 };
    made.set(op, entry);
    try {
      await call();
      entry.ok += 1;
    } catch {
      entry.failed += 1;
    }
  };
  for (let i = 0; i < 25; i += 1) {
    await count('setServiceState', () => executor.setServiceState(ns, 'room', i % 4, `s${i}`));
    await count('getServiceState', () => executor.getServiceState(ns, 'room'));
    await count('setLinkedPodIfAbsent', () =>
      executor.setLinkedPodIfAbsent(ns, `u${i % 7}`, 'room', { podId: i % 3, persistSeconds: 300 }),
    );
    await count('getLinkedPod', () => executor.getLinkedPod(ns, `u${i % 9}`, 'room'));
  }
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      count('getWorkloadState', () => executor.getWorkloadState(ns, `svc${i % 3}`)),
    ),
  );
  // Validation failures: a pod id out of range, a brace in a uid.
  for (let i = 0; i < 4; i += 1) {
    await count('setLinkedPod', () =>
      executor.setLinkedPod(ns, 'u1', 'room', { podId: -1, persistSeconds: -1 }),
    );
    await count('getLinkedPod', () => executor.getLinkedPod(ns, 'a}b', 'room'));
  }
  return made;
}

function callsOf(made: Made): number {
  let calls = 0;
  for (const { ok, failed } of made.values()) calls += ok + failed;
  return calls;
}

function histogramCount(operation: OperationSnapshot): number {
  return operation.histogram.counts.reduce((a, b) => a + b, 0) + operation.histogram.overflow;
}

/** Every figure of the operations that does not depend on the span's length. */
function figures(snapshot: AnalysisSnapshot) {
  return Object.fromEntries(
    Object.entries(snapshot.operations).map(([name, op]) => [
      name,
      {
        count: op.count,
        errors: op.errors,
        errorsByType: op.errorsByType,
        cached: op.cached,
        latency: op.latency,
        histogram: op.histogram,
      },
    ]),
  );
}

describe.each(BACKENDS)('on %s', (backend) => {
  test('counts, errors by type and latency counts are the calls made', async () => {
    const executor = await executorOn(backend, `reads-${backend}`);
    const analyzer = analyzerOf({ executor });
    expect(executor.telemetry.recording).toBe(true);
    const ns = uniqueNamespace('an');
    const started = performance.now();
    const made = await traffic(executor, ns);
    // Calls in flight are seen when the analyzer reads the executor.
    const pending = Array.from({ length: 12 }, () => executor.getServiceState(ns, 'room'));
    const during = analyzer.snapshot();
    expect(during.concurrency?.maxInFlight).toBeGreaterThanOrEqual(12);
    await Promise.all(pending);
    made.get('getServiceState')!.ok += pending.length;
    const wallMs = performance.now() - started;

    const snap = analyzer.snapshot();
    expect(Object.keys(snap.operations).sort()).toEqual([...made.keys()].sort());
    for (const [op, { ok, failed }] of made) {
      const figures = snap.operations[op]!;
      expect({ op, count: figures.count, errors: figures.errors }).toEqual({
        op,
        count: ok + failed,
        errors: failed,
      });
      expect(figures.errorsByType.validation).toBe(failed);
      expect(Object.values(figures.errorsByType).reduce((a, b) => a + b, 0)).toBe(failed);
      expect(histogramCount(figures)).toBe(ok + failed);
      expect(figures.timeline.reduce((a, s) => a + s.count, 0)).toBe(ok + failed);
      expect(figures.latency.max).toBeLessThanOrEqual(wallMs * 1.001 + 0.001);
    }
    expect(snap.totals.count).toBe(callsOf(made));
    expect(snap.totals.errors).toBe(8);
    // 12 seen by the snapshot; the timer may have seen up to the 20 concurrent calls.
    expect(snap.concurrency?.maxInFlight).toBeGreaterThanOrEqual(12);
    expect(snap.concurrency?.maxInFlight).toBeLessThanOrEqual(20);
    expect(snap.concurrency?.meanInFlight).toBeGreaterThan(0);

    analyzer.close();
    expect(executor.telemetry.recording).toBe(false);
    // Closed: the figures read last stay, nothing more is read.
    await executor.getServiceState(ns, 'room');
    expect(analyzer.snapshot().totals.count).toBe(callsOf(made));
  });
});

test('two analyzers on one executor see the same figures, each over its own span', async () => {
  const executor = await executorOn('memory', 'two-analyzers');
  const first = analyzerOf({ executor });
  const second = analyzerOf({ executor: 'two-analyzers' });
  const ns = uniqueNamespace('an2');
  const before = await traffic(executor, ns);
  expect(figures(second.snapshot())).toEqual(figures(first.snapshot()));
  expect(first.snapshot().totals.count).toBe(callsOf(before));

  second.reset();
  const after = await traffic(executor, ns);
  const firstSnap = first.snapshot();
  const secondSnap = second.snapshot();
  // The first saw everything; the second only what followed its reset.
  expect(firstSnap.totals.count).toBe(callsOf(before) + callsOf(after));
  expect(secondSnap.totals.count).toBe(callsOf(after));
  for (const [op, { ok, failed }] of after) {
    const own = secondSnap.operations[op]!;
    expect({ op, count: own.count, errors: own.errors }).toEqual({
      op,
      count: ok + failed,
      errors: failed,
    });
    expect(histogramCount(own)).toBe(ok + failed);
    const earlier = before.get(op)!;
    const all = firstSnap.operations[op]!;
    expect(all.count).toBe(ok + failed + earlier.ok + earlier.failed);
    expect(all.errors).toBe(failed + earlier.failed);
    expect(histogramCount(all)).toBe(all.count);
  }

  first.close();
  expect(executor.telemetry.recording).toBe(true); // the second is still attached
  second.close();
  expect(executor.telemetry.recording).toBe(false);
});

test('by name: executors created later are watched, and released when they close', async () => {
  const analyzer = analyzerOf({ executor: 'late' });
  const other = await executorOn('memory', 'not-late');
  const executor = createMemoryExecutor({ name: 'late' });
  expect(executor.telemetry.recording).toBe(true);
  expect(other.telemetry.recording).toBe(false);
  const ns = uniqueNamespace('late');
  const made = await traffic(executor, ns);
  await traffic(other, ns);
  await executor.close();
  expect(executor.telemetry.recording).toBe(false);
  const snap = analyzer.snapshot();
  // Read at close: nothing is lost.
  expect(snap.totals.count).toBe(callsOf(made));
  expect(snap.executorStats).toBeDefined();
  expect(snap.provenance.backend).toBe('memory');
});

test('with no executor option: every executor, open before or created after', async () => {
  const early = await executorOn('memory', 'every-early');
  const analyzer = analyzerOf({});
  const late = await executorOn('memory', 'every-late');
  const ns = uniqueNamespace('every');
  const made = await traffic(early, ns);
  await traffic(late, ns, made);
  expect(analyzer.snapshot().totals.count).toBe(callsOf(made));
  analyzer.close();
  expect(early.telemetry.recording).toBe(false);
  expect(late.telemetry.recording).toBe(false);
});

test('the slice timer reads each slice a little after it ends', async () => {
  // The analyzer's own clock is injected: with the wall clock, a step of the machine's clock
  // (NTP on a CI VM) moved calls between slices and made this test flaky. The timer itself
  // runs in real time; the test waits for it.
  const clock = { ms: 1_000_000 };
  const executor = await executorOn('memory', 'slices');
  const analyzer = analyzerOf({
    executor,
    sliceSeconds: 0.2,
    windowSeconds: 2,
    now: () => clock.ms,
  });
  const ns = uniqueNamespace('slices');
  clock.ms += 50;
  for (let i = 0; i < 50; i += 1) await executor.getServiceState(ns, 'room');
  // Past the end of slice 0: the next tick of the timer (every 100 ms at most) pulls what was
  // recorded into slice 0, the slice that ended, not into the one it reads in.
  clock.ms += 200;
  await new Promise((resolve) => setTimeout(resolve, 300));
  clock.ms += 400;
  for (let i = 0; i < 30; i += 1) await executor.getServiceState(ns, 'room');
  const op = analyzer.snapshot().operations.getServiceState!;
  expect(op.count).toBe(80);
  const busy = op.timeline.filter((slice) => slice.count > 0);
  expect(busy).toHaveLength(2);
  expect(busy[0]).toMatchObject({ t: 0, count: 50 });
  expect(busy[1]!.count).toBe(30);
  expect(busy[1]!.t).toBeCloseTo(0.6, 5);
});

test('a step of the wall clock neither moves calls between slices nor stretches the span', async () => {
  // The default clock: a VM's wall clock stepped 10 minutes ahead (NTP) in the middle of a
  // run. Stepping the real clock needs root and moves it for everything on the machine, so
  // Date.now is what steps here; it is replaced before the analyzer exists, in case the
  // analyzer keeps a reference to it.
  const wall = { stepMs: 0 };
  const realNow = Date.now.bind(Date);
  const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + wall.stepMs);
  cleanup.push(() => spy.mockRestore());
  const executor = await executorOn('memory', 'wall-step');
  const analyzer = analyzerOf({ executor, sliceSeconds: 1, windowSeconds: 60 });
  const ns = uniqueNamespace('wall-step');
  for (let i = 0; i < 20; i += 1) await executor.getServiceState(ns, 'room');
  wall.stepMs = 600_000;
  for (let i = 0; i < 20; i += 1) await executor.getServiceState(ns, 'room');
  const snapshot = analyzer.snapshot();
  expect(snapshot.provenance.durationSeconds).toBeLessThan(10);
  const op = snapshot.operations.getServiceState!;
  expect(op.count).toBe(40);
  // Every call in the window, in the slices of the few seconds the test ran.
  expect(op.timeline.length).toBeLessThan(10);
  expect(op.timeline.reduce((sum, slice) => sum + slice.count, 0)).toBe(40);
  expect(op.throughput).toBeGreaterThan(4);
});

test('placement operations are measured like the contract ones: allocate has its latency', async () => {
  // Memory backend: placement runs there in full (the Redis backend's scripts are separate).
  const executor = await executorOn('memory', 'placement');
  const analyzer = analyzerOf({ executor });
  const ns = uniqueNamespace('pl');
  await executor.registerPod(ns, 'room', 0, { capacity: 4, ttlSeconds: 60 });
  await executor.registerPod(ns, 'room', 1, { capacity: 2, ttlSeconds: 60 });
  // 6 placed, 1 already placed, 3 refused: the pods hold 6 in all.
  for (let i = 0; i < 9; i += 1) {
    await executor.allocate(ns, `u${i}`, 'room', { persistSeconds: -1 }).catch(() => {});
  }
  await executor.allocate(ns, 'u0', 'room', { persistSeconds: -1 });
  await executor.release(ns, 'u0', 'room');

  const snap = analyzer.snapshot();
  const allocate = snap.operations.allocate!;
  expect(allocate.count).toBe(10);
  expect(allocate.errors).toBe(3);
  expect(allocate.errorsByType.capacity).toBe(3);
  expect(Object.values(allocate.errorsByType).reduce((a, b) => a + b, 0)).toBe(3);
  expect(histogramCount(allocate)).toBe(10);
  expect(allocate.timeline.reduce((a, s) => a + s.count, 0)).toBe(10);
  const { min, p50, p90, p99, max } = allocate.latency;
  expect(min).toBeGreaterThanOrEqual(0);
  expect(max).toBeGreaterThan(0);
  expect([min, p50, p90, p99, max]).toEqual([min, p50, p90, p99, max].sort((a, b) => a - b));
  expect(snap.operations.registerPod?.count).toBe(2);
  expect(snap.operations.release?.count).toBe(1);
  expect(snap.totals.count).toBe(13);
  expect(snap.totals.errors).toBe(3);
});
