import diagnostics from 'node:diagnostics_channel';
import {
  ALLOCATION_RESULTS,
  CHANNELS,
  CLAIM_RELEASE_CAUSES,
  createMemoryExecutor,
  ExecutorTelemetry,
  PLACEMENT_OPERATIONS,
  ZERO_EXECUTOR_STATS,
  type ExecutorLifecycleMessage,
  type MemoryExecutor,
} from '@stateful-route/executor-core';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { instrumentExecutor, type InstrumentOptions } from '../src/index.js';
import { parseExposition, samplesOf, valueOf, type Exposition } from './helpers/exposition.js';

const P = 'stateful_executor_';
const FAMILIES = [
  `${P}allocations_total`,
  `${P}claims_released_total`,
  `${P}placement_sweeps_total`,
  `${P}links_swept_total`,
];

const disposers: (() => void)[] = [];
const executors: MemoryExecutor[] = [];
function instrument(options: InstrumentOptions): void {
  disposers.push(instrumentExecutor(options));
}
function memory(name: string, clock?: { now(): number }): MemoryExecutor {
  const executor = createMemoryExecutor({ name, ...(clock ? { clock } : {}) });
  executors.push(executor);
  return executor;
}
afterEach(async () => {
  for (const dispose of disposers.splice(0)) dispose();
  for (const executor of executors.splice(0)) await executor.close();
});

async function scrape(registry: Registry): Promise<Exposition> {
  return parseExposition(await registry.metrics());
}

/** result -> value of allocations_total, cause -> value of claims_released_total. */
function placementFigures(m: Exposition, labels: Record<string, string> = {}) {
  return {
    allocations: Object.fromEntries(
      ALLOCATION_RESULTS.map((result) => [
        result,
        valueOf(m, `${P}allocations_total`, { ...labels, result }),
      ]),
    ),
    claimsReleased: Object.fromEntries(
      CLAIM_RELEASE_CAUSES.map((cause) => [
        cause,
        valueOf(m, `${P}claims_released_total`, { ...labels, cause }),
      ]),
    ),
    sweeps: valueOf(m, `${P}placement_sweeps_total`, labels),
    linksSwept: valueOf(m, `${P}links_swept_total`, labels),
  };
}

describe('placement metrics on the memory executor', () => {
  it('count allocations by result, claims released by cause, sweeps and links swept', async () => {
    let now = Date.UTC(2026, 10, 30, 12);
    const clock = { now: () => now };
    const registry = new Registry();
    instrument({ registry });
    const executor = memory('placement', clock);

    const before = await scrape(registry);
    expect(placementFigures(before)).toEqual({
      allocations: { created: 0, existing: 0, no_capacity: 0 },
      claimsReleased: { release: 0, expired: 0, swept: 0, reconciled: 0, lost_race: 0 },
      sweeps: 0,
      linksSwept: 0,
    });

    // Pod 0 takes 2 users for a long lease; pod 1 takes 1 and dies after 5 s.
    await executor.registerPod('ns', 'room', 0, { capacity: 2, ttlSeconds: 600 });
    await executor.registerPod('ns', 'room', 1, { capacity: 1, ttlSeconds: 5 });
    const placed = new Map<string, number>();
    for (const uid of ['u0', 'u1', 'u2']) {
      const allocation = await executor.allocate('ns', uid, 'room', { persistSeconds: -1 });
      expect(allocation.created).toBe(true);
      placed.set(uid, allocation.podId);
    }
    // Full: refused, twice; an already placed uid gets its pod back.
    for (const uid of ['u3', 'u4']) {
      await expect(
        executor.allocate('ns', uid, 'room', { persistSeconds: -1 }),
      ).rejects.toMatchObject({ code: 'SR_NO_CAPACITY' });
    }
    expect(await executor.allocate('ns', 'u0', 'room', { persistSeconds: -1 })).toMatchObject({
      created: false,
      podId: placed.get('u0'),
    });
    // A uid on pod 0 released; the one on pod 1 is swept once the pod is dead.
    const onPod0 = [...placed].find(([, pod]) => pod === 0)![0];
    expect(await executor.release('ns', onPod0, 'room')).toMatchObject({ released: true });
    now += 6_000;
    expect(await executor.sweepDeadPods('ns', 'room')).toMatchObject({ swept: 1, released: 1 });
    await executor.sweepDeadPods('ns', 'room'); // nothing left: a run, no link

    const m = await scrape(registry);
    expect(placementFigures(m)).toEqual({
      allocations: { created: 3, existing: 1, no_capacity: 2 },
      claimsReleased: { release: 1, expired: 0, swept: 1, reconciled: 0, lost_race: 0 },
      sweeps: 2,
      linksSwept: 1,
    });
    // No label but the fixed one.
    for (const name of FAMILIES) {
      for (const sample of samplesOf(m, name)) {
        expect(Object.keys(sample.labels)).toEqual(
          name.endsWith('allocations_total')
            ? ['result']
            : name.endsWith('claims_released_total')
              ? ['cause']
              : [],
        );
      }
    }

    // allocate is timed like any operation: refusals are errors of type capacity.
    expect(valueOf(m, `${P}operations_total`, { operation: 'allocate', status: 'success' })).toBe(
      4,
    );
    expect(valueOf(m, `${P}operations_total`, { operation: 'allocate', status: 'error' })).toBe(2);
    expect(samplesOf(m, `${P}errors_total`)).toEqual([
      {
        name: `${P}errors_total`,
        labels: { operation: 'allocate', error_type: 'capacity' },
        value: 2,
      },
    ]);
    expect(valueOf(m, `${P}operation_duration_seconds_count`, { operation: 'allocate' })).toBe(6);
    for (const operation of ['registerPod', 'release', 'sweepDeadPods']) {
      expect(valueOf(m, `${P}operation_duration_seconds_count`, { operation })).toBeGreaterThan(0);
      expect(valueOf(m, `${P}operations_in_flight`, { operation })).toBe(0);
    }
  });

  it('keeps executors apart with executorLabel, a closed one counted, and resets to 0', async () => {
    const registry = new Registry();
    instrument({ registry, executorLabel: true });
    const a = memory('pa');
    const b = memory('pb');
    for (const executor of [a, b]) {
      await executor.registerPod('ns', 'room', 0, { capacity: 1, ttlSeconds: 60 });
    }
    await a.allocate('ns', 'u', 'room', { persistSeconds: -1 });
    await a.allocate('ns', 'u', 'room', { persistSeconds: -1 });
    await b.allocate('ns', 'u', 'room', { persistSeconds: -1 });
    await b.allocate('ns', 'v', 'room', { persistSeconds: -1 }).catch(() => {});
    await b.release('ns', 'u', 'room');
    await b.close();

    const m = await scrape(registry);
    expect(placementFigures(m, { executor: 'pa' }).allocations).toEqual({
      created: 1,
      existing: 1,
      no_capacity: 0,
    });
    expect(placementFigures(m, { executor: 'pb' }).allocations).toEqual({
      created: 1,
      existing: 0,
      no_capacity: 1,
    });
    expect(valueOf(m, `${P}claims_released_total`, { executor: 'pb', cause: 'release' })).toBe(1);
    expect(valueOf(m, `${P}claims_released_total`, { executor: 'pa', cause: 'release' })).toBe(0);

    registry.resetMetrics();
    await a.allocate('ns', 'w', 'room', { persistSeconds: -1 }).catch(() => {});
    const reset = await scrape(registry);
    expect(placementFigures(reset, { executor: 'pa' }).allocations).toEqual({
      created: 0,
      existing: 0,
      no_capacity: 1,
    });
    expect(placementFigures(reset, { executor: 'pb' }).allocations).toEqual({
      created: 0,
      existing: 0,
      no_capacity: 0,
    });
  });

  it('counts from when it starts watching, like the operation counters', async () => {
    const executor = memory('early');
    await executor.registerPod('ns', 'room', 0, { capacity: 5, ttlSeconds: 60 });
    await executor.allocate('ns', 'u0', 'room', { persistSeconds: -1 });
    const registry = new Registry();
    instrument({ registry });
    await executor.allocate('ns', 'u1', 'room', { persistSeconds: -1 });
    const m = await scrape(registry);
    expect(valueOf(m, `${P}allocations_total`, { result: 'created' })).toBe(1);
    expect(valueOf(m, `${P}operations_total`, { operation: 'allocate', status: 'success' })).toBe(
      1,
    );
  });
  it('reads the telemetry of an executor-core copy older than placement as zeros', async () => {
    const registry = new Registry();
    instrument({ registry });
    const executor = memory('new-copy');
    await executor.registerPod('ns', 'room', 0, { capacity: 1, ttlSeconds: 60 });
    await executor.allocate('ns', 'u', 'room', { persistSeconds: -1 });
    // Watched after the new one: read in that order at scrape.
    const old = new ExecutorTelemetry('old-copy');
    Object.defineProperty(old, 'placement', { value: undefined });
    const message: ExecutorLifecycleMessage = {
      executor: 'old-copy',
      description: {
        name: 'old-copy',
        backend: 'memory',
        topology: 'embedded',
        scriptTransport: null,
        autoPipelining: null,
        connections: 0,
        nearCache: null,
      },
      stats: () => ({ ...ZERO_EXECUTOR_STATS }),
      telemetry: old,
    };
    diagnostics.channel(CHANNELS.create).publish(message);
    const m = await scrape(registry);
    expect(valueOf(m, `${P}allocations_total`, { result: 'created' })).toBe(1);
    diagnostics.channel(CHANNELS.close).publish(message);
    expect(valueOf(await scrape(registry), `${P}allocations_total`, { result: 'created' })).toBe(1);
  });
});

describe('cardinality', () => {
  /** Every series of the exposition, as name + sorted labels (values aside). */
  function seriesOf(m: Exposition): string[] {
    return m.samples
      .filter((sample) => sample.name !== 'stateful_route_build_info')
      .map((sample) => {
        const labels = Object.entries(sample.labels).sort(([x], [y]) => x.localeCompare(y));
        return `${sample.name}${JSON.stringify(labels)}`;
      })
      .sort();
  }

  /** Registers pods, allocates past capacity, releases, drains, sweeps dead pods, reconciles. */
  async function run(services: number, pods: number, uids: number): Promise<string[]> {
    let now = Date.UTC(2026, 10, 30, 12);
    const registry = new Registry();
    instrument({ registry });
    const executor = memory(`cardinality-${services}`, { now: () => now });
    for (let s = 0; s < services; s++) {
      const svc = `svc${s}`;
      for (let pod = 0; pod < pods; pod++) {
        // Odd pods have a short lease, to die and be swept.
        await executor.registerPod('ns', svc, pod, {
          capacity: 2,
          ttlSeconds: pod % 2 === 0 ? 600 : 5,
        });
      }
      await executor.drainPod('ns', svc, 0);
      await executor.undrainPod('ns', svc, 0);
      for (let u = 0; u < uids; u++) {
        await executor.allocate('ns', `${svc}-u${u}`, svc, { persistSeconds: -1 }).catch(() => {});
      }
      await executor.allocate('ns', `${svc}-u0`, svc, { persistSeconds: -1 });
      await executor.release('ns', `${svc}-u0`, svc);
      await executor.placement('ns', svc);
    }
    now += 6_000;
    for (let s = 0; s < services; s++) {
      await executor.sweepDeadPods('ns', `svc${s}`);
      await executor.reconcilePlacement('ns', `svc${s}`, { full: true });
    }
    return seriesOf(await scrape(registry));
  }

  it('many pods, uids and services make no new series', async () => {
    // One service with 2 pods and 5 uids (more than its capacity of 4), then 20 services of
    // 50 pods with 150 uids each: the same series, nothing per pod, uid or service.
    const small = await run(1, 2, 5);
    for (const dispose of disposers.splice(0)) dispose();
    const large = await run(20, 50, 150);
    expect(large).toEqual(small);
    // Every placement operation has its series, like the contract's.
    for (const operation of PLACEMENT_OPERATIONS) {
      expect(small.join('\n')).toContain(`"operation","${operation}"`);
    }
    for (const series of large) expect(series).not.toMatch(/svc\d|-u\d/);
    // 3 results + 5 causes + sweeps + links swept.
    expect(large.filter((s) => FAMILIES.some((f) => s.startsWith(`${f}[`)))).toHaveLength(10);
  });
});
