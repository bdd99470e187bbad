import diagnostics from 'node:diagnostics_channel';
import { afterEach, expect, test, vi } from 'vitest';
import {
  CHANNELS,
  ErrorCodes,
  ExecutorTelemetry,
  StatefulRouteError,
  type ErrorCode,
  type ErrorType,
  type ExecutorLifecycleMessage,
  type OperationName,
  type OperationRecord,
  ZERO_EXECUTOR_STATS,
} from '@stateful-route/executor-core';
import {
  createAnalyzer,
  emptyErrorsByType,
  ERROR_TYPES,
  InvalidOptionError,
} from '@stateful-route/analyzer';
import type { Analyzer } from '@stateful-route/analyzer';

// A fake executor: an ExecutorTelemetry announced on the real create channel, as
// executor-core announces a new executor, recording calls with durations chosen by the test
// the way the executor's own recording path does (in flight, then settle).
const executors = new Map<string, ExecutorTelemetry>();

function fakeExecutor(name: string): ExecutorTelemetry {
  const telemetry = new ExecutorTelemetry(name);
  const message: ExecutorLifecycleMessage = {
    executor: name,
    description: {
      name,
      backend: 'redis',
      topology: 'standalone',
      scriptTransport: 'evalsha',
      autoPipelining: false,
      connections: 1,
      nearCache: null,
    },
    stats: () => ({ ...ZERO_EXECUTOR_STATS }),
    telemetry,
  };
  diagnostics.channel(CHANNELS.create).publish(message);
  executors.set(name, telemetry);
  return telemetry;
}

const CODE_OF: Record<ErrorType, ErrorCode> = {
  validation: ErrorCodes.VALIDATION,
  connection: ErrorCodes.CONNECTION,
  timeout: ErrorCodes.TIMEOUT,
  script: ErrorCodes.SCRIPT,
  cluster: ErrorCodes.CLUSTER,
  other: ErrorCodes.COMMAND,
  capacity: ErrorCodes.NO_CAPACITY,
};

function begin(operation: OperationName, executor = 'fake'): OperationRecord {
  const telemetry = executors.get(executor) ?? fakeExecutor(executor);
  const record = telemetry.record(operation);
  record.inFlight += 1;
  return record;
}

function settle(record: OperationRecord, durationMs: number, errorType?: ErrorType): void {
  const telemetry = [...executors.values()].find((t) => t.records.includes(record))!;
  const error = errorType ? new StatefulRouteError(CODE_OF[errorType], 'fake') : undefined;
  telemetry.settle(record, durationMs, error !== undefined, error);
}

function publish(operation: OperationName, durationMs: number, errorType?: ErrorType): void {
  settle(begin(operation), durationMs, errorType);
}

/** Within 0.1% (HDR with 3 significant digits). */
function near(actual: number | undefined, expected: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual ?? NaN) - expected)).toBeLessThanOrEqual(expected * 0.001 + 0.001);
}

const open: Analyzer[] = [];
afterEach(() => {
  for (const analyzer of open.splice(0)) analyzer.close();
  executors.clear();
});

function analyzer(now: () => number, options: { windowSeconds?: number } = {}): Analyzer {
  const created = createAnalyzer({ executor: 'fake', now, processMetrics: false, ...options });
  open.push(created);
  // Created after the analyzer, as an executor announced later is.
  fakeExecutor('fake');
  return created;
}

test('percentiles, counts and throughput of known latencies', () => {
  let clock = 1_000_000;
  const a = analyzer(() => clock);
  // 1, 2, ..., 100 ms in shuffled order.
  const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
  for (const ms of values) publish('getServiceState', ms);
  clock += 10_000;
  const snap = a.snapshot();
  const op = snap.operations.getServiceState!;
  expect(op.count).toBe(100);
  expect(op.errors).toBe(0);
  expect(op.throughput).toBe(10); // 100 calls in 10 s
  expect(op.latency.estimated).toBe(false);
  near(op.latency.min, 1);
  near(op.latency.p50, 50);
  near(op.latency.p90, 90);
  near(op.latency.p95, 95);
  near(op.latency.p99, 99);
  near(op.latency.max, 100);
  near(op.latency.mean, 50.5);
  expect(op.histogram.counts.reduce((s, c) => s + c, 0)).toBe(100);
  expect(op.histogram.bounds).toEqual([...op.histogram.bounds].sort((x, y) => x - y));
  // Every value sits at or below its bucket's bound, within one 4.7% log step.
  expect(op.histogram.bounds.at(-1)).toBeGreaterThanOrEqual(100_000);
  expect(op.histogram.bounds.at(-1)).toBeLessThan(105_000);
  expect(snap.totals).toEqual({ count: 100, errors: 0, errorRate: 0, throughput: 10 });
  expect(snap.provenance.durationSeconds).toBe(10);
  expect(snap.provenance.startedAt).toBe(new Date(1_000_000).toISOString());
  expect(snap.provenance.executor).toBe('fake');
});

test('errors by type, other executors ignored, calls in flight', () => {
  const clock = 0;
  const a = analyzer(() => clock);
  publish('getLinkedPod', 1, 'timeout');
  publish('getLinkedPod', 1, 'timeout');
  publish('getLinkedPod', 1, 'connection');
  publish('getLinkedPod', 2);
  settle(begin('getLinkedPod', 'someone-else'), 5);
  const inFlight = [begin('setServiceState'), begin('setServiceState'), begin('setServiceState')];
  // The analyzer sees the calls in flight when it reads the executor (here, a snapshot).
  a.snapshot();
  for (const message of inFlight) settle(message, 4);
  const snap = a.snapshot();
  const op = snap.operations.getLinkedPod!;
  expect(op.count).toBe(4);
  expect(op.errors).toBe(3);
  // Every error type has its key (capacity included), at 0 unless it occurred.
  expect(op.errorsByType).toEqual({ ...emptyErrorsByType(), connection: 1, timeout: 2 });
  expect(Object.keys(op.errorsByType)).toEqual([...ERROR_TYPES]);
  expect(snap.totals.count).toBe(7);
  expect(snap.totals.errorRate).toBeCloseTo(3 / 7, 12);
  expect(snap.concurrency?.maxInFlight).toBe(3);
});

test('timeline slices and the sliding window', () => {
  let clock = 0;
  const a = analyzer(() => clock, { windowSeconds: 5 });
  // The analyzer reads the executor at each slice (a timer on the real clock) and at each
  // snapshot: with an injected clock, a snapshot before the clock moves reads the slice.
  for (let i = 0; i < 10; i += 1) publish('getServiceState', 1); // slice 0
  a.snapshot();
  clock = 1500;
  for (let i = 0; i < 20; i += 1) publish('getServiceState', 2); // slice 1
  a.snapshot();
  clock = 7200;
  for (let i = 0; i < 4; i += 1) publish('getServiceState', 8); // slice 7
  publish('getServiceState', 8, 'other');
  const total = a.snapshot();
  const op = total.operations.getServiceState!;
  expect(op.count).toBe(35);
  // The window keeps the last 5 one-second slices: 3..7.
  expect(op.timeline.map(({ t, count, errors }) => ({ t, count, errors }))).toEqual([
    { t: 3, count: 0, errors: 0 },
    { t: 4, count: 0, errors: 0 },
    { t: 5, count: 0, errors: 0 },
    { t: 6, count: 0, errors: 0 },
    { t: 7, count: 5, errors: 1 },
  ]);
  expect(op.timeline[0]?.p99).toBe(0);
  // Slice histograms keep 2 significant digits (1%).
  expect(Math.abs((op.timeline[4]?.p99 ?? 0) - 8)).toBeLessThan(0.08);
  const window = a.snapshot({ scope: 'window' }).operations.getServiceState!;
  expect(window.count).toBe(5);
  expect(window.errors).toBe(1);
  expect(window.errorsByType.other).toBe(1);
  expect(Math.abs(window.latency.p50 - 8)).toBeLessThan(0.08);
  // 5 calls over the window's 4.2 s (slices 3..7, the last one 0.2 s in).
  expect(window.throughput).toBeCloseTo(5 / 4.2, 2);

  a.reset();
  clock = 8000;
  expect(a.snapshot().operations).toEqual({});
  publish('getServiceState', 3);
  const fresh = a.snapshot().operations.getServiceState?.timeline;
  expect(fresh?.map(({ t, count }) => ({ t, count }))).toEqual([{ t: 0, count: 1 }]);
  expect(Math.abs((fresh?.[0]?.p99 ?? 0) - 3)).toBeLessThan(0.03);
});

test('analyzeOperation times a call, records errors and a signed heap delta', async () => {
  const a = analyzer(Date.now);
  const value = await a.analyzeOperation('loadUser', () => new Array(100_000).fill(1).length);
  expect(value).toBe(100_000);
  await expect(
    a.analyzeOperation('loadUser', () => Promise.reject(new Error('boom'))),
  ).rejects.toThrow('boom');
  let snap = a.snapshot();
  expect(snap.operations.loadUser?.count).toBe(2);
  expect(snap.operations.loadUser?.errors).toBe(1);
  expect(snap.operations.loadUser?.errorsByType.other).toBe(1);
  expect(snap.operations.loadUser?.allocation).toBeDefined();

  // A GC during the call shrinks the heap: the delta must be negative, not wrapped around.
  a.reset();
  const heap = [50_000_000, 30_000_000];
  const spy = vi.spyOn(process, 'memoryUsage').mockImplementation(
    () =>
      ({
        heapUsed: heap.shift() ?? 0,
        rss: 0,
        heapTotal: 0,
        external: 0,
        arrayBuffers: 0,
      }) as NodeJS.MemoryUsage,
  );
  try {
    await a.analyzeOperation('collect', () => 1);
  } finally {
    spy.mockRestore();
  }
  snap = a.snapshot();
  expect(snap.operations.collect?.allocation).toEqual({
    meanBytes: -20_000_000,
    totalBytes: -20_000_000,
  });
});

test('process figures are present and plausible', async () => {
  const a = createAnalyzer({ executor: 'fake' });
  open.push(a);
  await new Promise((resolve) => setTimeout(resolve, 30));
  // Block the loop for 50 ms: the delay histogram must see it.
  const until = Date.now() + 50;
  while (Date.now() < until) {
    // busy
  }
  await new Promise((resolve) => setTimeout(resolve, 30));
  const snap = a.snapshot();
  expect(snap.process?.heapUsed).toBeGreaterThan(0);
  expect(snap.process?.rss).toBeGreaterThan(snap.process?.heapUsed ?? 0);
  expect(snap.process?.eventLoopDelay.max).toBeGreaterThan(25);
  expect(snap.process?.eventLoopDelay.max).toBeLessThan(1000);
  expect(snap.process?.gc.count).toBeGreaterThanOrEqual(0);
});

test('bad options are typed errors', () => {
  expect(() => createAnalyzer({ windowSeconds: 0 })).toThrow(InvalidOptionError);
  expect(() => createAnalyzer({ windowSeconds: 1, sliceSeconds: 2 })).toThrow(
    /windowSeconds: must be at least sliceSeconds/,
  );
});
