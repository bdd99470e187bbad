// The one recording path (issue 12): what the executor records while a consumer is attached
// matches the calls actually made, on every backend, recorded (no channel subscriber) and
// traced (a tracer subscribed) alike; nothing is recorded with no consumer.
import type {} from '@stateful-route/test-redis/global-setup';
import diagnostics from 'node:diagnostics_channel';
import { afterEach, describe, expect, test } from 'vitest';
import {
  BucketLayout,
  CHANNELS,
  ERROR_TYPES,
  ExecutorTelemetry,
  liveTelemetry,
  OPERATIONS,
  type OperationMessage,
  type OperationName,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { BACKENDS, createHarness, freshNamespace, type Harness } from './helpers/harness.js';

const BOUNDS = [0.0001, 0.001, 0.01, 0.1, 1];

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** A mix of calls: successes of several operations and validation failures. */
async function traffic(
  executor: StatefulExecutor,
  ns: string,
): Promise<Map<OperationName, { ok: number; failed: number }>> {
  const made = new Map<OperationName, { ok: number; failed: number }>();
  const count = async (op: OperationName, call: () => Promise<unknown>) => {
    const entry = made.get(op) ?? { ok: 0, failed: 0 };
    made.set(op, entry);
    try {
      await call();
      entry.ok++;
    } catch {
      entry.failed++;
    }
  };
  for (let i = 0; i < 30; i++) {
    await count('setServiceState', () => executor.setServiceState(ns, 'room', i % 4, `s${i}`));
    await count('getServiceState', () => executor.getServiceState(ns, 'room'));
    await count('setLinkedPodIfAbsent', () =>
      executor.setLinkedPodIfAbsent(ns, `u${i % 7}`, 'room', { podId: i % 3, persistSeconds: 300 }),
    );
    await count('getLinkedPod', () => executor.getLinkedPod(ns, `u${i % 9}`, 'room'));
  }
  // Concurrent calls, so that some are in flight together.
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      count('getWorkloadState', () => executor.getWorkloadState(ns, `svc${i % 3}`)),
    ),
  );
  // Failures: validation errors (bad pod, braces in an id).
  for (let i = 0; i < 5; i++) {
    await count('setLinkedPod', () =>
      executor.setLinkedPod(ns, 'u1', 'room', { podId: -1, persistSeconds: -1 }),
    );
    await count('getLinkedPod', () => executor.getLinkedPod(ns, 'a}b', 'room'));
  }
  return made;
}

describe.each(BACKENDS)('telemetry on %s', (backend) => {
  test('recorded counts, errors, buckets and histograms match the calls made; in flight back to 0', async () => {
    harness = await createHarness(backend);
    const { executor } = harness;
    const telemetry = executor.telemetry;
    expect(telemetry).toBeInstanceOf(ExecutorTelemetry);
    expect(liveTelemetry()).toContain(telemetry);
    const attachment = telemetry.attach({ latency: true, buckets: BOUNDS });
    try {
      const started = performance.now();
      const made = await traffic(executor, freshNamespace());
      const wallMs = performance.now() - started;
      let recordedMs = 0;
      for (const op of OPERATIONS) {
        const record = telemetry.record(op);
        const expected = made.get(op) ?? { ok: 0, failed: 0 };
        expect({ op, calls: record.calls, failures: record.failures }).toEqual({
          op,
          calls: expected.ok + expected.failed,
          failures: expected.failed,
        });
        expect(record.inFlight).toBe(0);
        // Every failure here is a validation error.
        expect(record.errors[ERROR_TYPES.indexOf('validation')]).toBe(expected.failed);
        expect(record.errors.reduce((a, b) => a + b, 0)).toBe(expected.failed);
        const buckets = attachment.layout!.counts[OPERATIONS.indexOf(op)]!;
        expect(buckets.reduce((a, b) => a + b, 0)).toBe(record.calls);
        expect(record.latency!.totalCount).toBe(record.calls);
        recordedMs += record.sumMs;
      }
      // The recorded durations are inside the calls as the caller saw them.
      expect(recordedMs).toBeGreaterThan(0);
      expect(recordedMs).toBeLessThanOrEqual(wallMs * 20); // 20 concurrent calls at most
    } finally {
      attachment.release();
    }
    expect(telemetry.recording).toBe(false);
  });

  test('traced calls (a tracer subscribed) are recorded from the same clock pair as the message', async () => {
    harness = await createHarness(backend);
    const { executor } = harness;
    const telemetry = executor.telemetry;
    const attachment = telemetry.attach({ buckets: BOUNDS });
    let tracedMs = 0;
    let traced = 0;
    const handlers = {
      start() {},
      end() {},
      asyncStart() {},
      error() {},
      asyncEnd(message: unknown) {
        const m = message as OperationMessage;
        if (m.executor !== executor.name) return;
        tracedMs += m.duration;
        traced++;
      },
    };
    const channel = diagnostics.tracingChannel(CHANNELS.operation);
    channel.subscribe(handlers);
    try {
      const made = await traffic(executor, freshNamespace());
      const calls = [...made.values()].reduce((a, e) => a + e.ok + e.failed, 0);
      const records = OPERATIONS.map((op) => telemetry.record(op));
      expect(records.reduce((a, r) => a + r.calls, 0)).toBe(calls);
      expect(traced).toBe(calls);
      expect(records.reduce((a, r) => a + r.sumMs, 0)).toBeCloseTo(tracedMs, 6);
    } finally {
      channel.unsubscribe(handlers);
      attachment.release();
    }
  });

  test('nothing is recorded while no consumer is attached', async () => {
    harness = await createHarness(backend);
    const { executor } = harness;
    await traffic(executor, freshNamespace());
    for (const record of executor.telemetry.records) {
      expect(record.calls).toBe(0);
      expect(record.latency).toBeUndefined();
    }
  });
});

test('calls in flight are counted while they wait', async () => {
  harness = await createHarness('standalone');
  const { executor } = harness;
  const attachment = executor.telemetry.attach();
  const ns = freshNamespace();
  const pending = Array.from({ length: 10 }, () => executor.getServiceState(ns, 'room'));
  expect(executor.telemetry.record('getServiceState').inFlight).toBe(10);
  await Promise.all(pending);
  expect(executor.telemetry.record('getServiceState').inFlight).toBe(0);
  attachment.release();
});

test('a bucket layout is exact at its bounds (Prometheus le semantics)', () => {
  const telemetry = new ExecutorTelemetry('unit');
  const { layout, release } = telemetry.attach({ buckets: [0.001, 0.0025, 0.005] });
  const record = telemetry.record('getLinkedPod');
  // Durations in ms; the bounds in seconds: 1 ms lands in le=0.001, just above it in 0.0025.
  for (const ms of [0.5, 1, 1.0000001, 2.5, 2.5000001, 5, 7]) {
    record.inFlight += 1;
    telemetry.settle(record, ms, false, undefined);
  }
  expect([...layout!.counts[OPERATIONS.indexOf('getLinkedPod')]!]).toEqual([2, 2, 2, 1]);
  // A second consumer with the same bounds shares the layout; another one gets its own.
  const same = telemetry.attach({ buckets: [0.001, 0.0025, 0.005] });
  expect(same.layout).toBe(layout);
  const other = telemetry.attach({ buckets: [1] });
  expect(other.layout).toBeInstanceOf(BucketLayout);
  expect(other.layout).not.toBe(layout);
  release();
  same.release();
  other.release();
  expect(telemetry.recording).toBe(false);
});

test('a closed executor leaves the live telemetry list', async () => {
  harness = await createHarness('memory');
  const { telemetry } = harness.executor;
  expect(liveTelemetry()).toContain(telemetry);
  await harness.close();
  harness = undefined;
  expect(liveTelemetry()).not.toContain(telemetry);
});
