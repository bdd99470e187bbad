import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { CHANNELS, createMemoryExecutor, ERROR_TYPES } from '@stateful-route/executor-core';
import { AggregatorRegistry, Counter, Registry, type OpenMetricsContentType } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILD_INFO_METRIC,
  DEFAULT_BUCKETS,
  instrumentExecutor,
  MetricsConflictError,
  MetricsOptionsError,
  type InstrumentOptions,
} from '../src/index.js';
import { parseExposition, samplesOf, valueOf } from './helpers/exposition.js';
import { publishOperation } from './helpers/publish.js';

const disposers: (() => void)[] = [];
function instrument(options: InstrumentOptions): () => void {
  const dispose = instrumentExecutor(options);
  disposers.push(dispose);
  return dispose;
}
afterEach(() => {
  for (const dispose of disposers.splice(0)) dispose();
});

async function scrape(registry: Registry) {
  return parseExposition(await registry.metrics());
}

const P = 'stateful_executor_';

describe('issue 12: figures read from the executor telemetry', () => {
  it('watches executors created before it, and keeps what a closed executor recorded', async () => {
    const before = createMemoryExecutor({ name: 'early' });
    const registry = new Registry();
    instrument({ registry });
    await before.setWorkloadState('ns', 'room', 'x');
    await before.setWorkloadState('ns', 'room', 'y');
    await before.close();
    const m = await scrape(registry);
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'setWorkloadState', status: 'success' }),
    ).toBe(2);
    expect(
      valueOf(m, `${P}operation_duration_seconds_count`, { operation: 'setWorkloadState' }),
    ).toBe(2);
  });
});

describe('operations on the memory executor', () => {
  it('moves counters, histogram and in-flight exactly', async () => {
    const registry = new Registry();
    instrument({ registry });
    const executor = createMemoryExecutor({ name: 'mem' });
    for (let pod = 0; pod < 3; pod++) await executor.setServiceState('ns', 'room', pod, 'up');
    await executor.getServiceState('ns', 'room');
    await executor.getServiceState('ns', 'room');
    await expect(executor.getLinkedPod('ns', 'a}b', 'room')).rejects.toMatchObject({
      code: 'SR_VALIDATION',
    });

    const m = await scrape(registry);
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'setServiceState', status: 'success' }),
    ).toBe(3);
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'setServiceState', status: 'error' }),
    ).toBe(0);
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'getServiceState', status: 'success' }),
    ).toBe(2);
    expect(valueOf(m, `${P}operations_total`, { operation: 'getLinkedPod', status: 'error' })).toBe(
      1,
    );
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'getLinkedPod', status: 'success' }),
    ).toBe(0);
    expect(samplesOf(m, `${P}errors_total`)).toEqual([
      {
        name: `${P}errors_total`,
        labels: { operation: 'getLinkedPod', error_type: 'validation' },
        value: 1,
      },
    ]);
    expect(
      valueOf(m, `${P}operation_duration_seconds_count`, { operation: 'setServiceState' }),
    ).toBe(3);
    expect(valueOf(m, `${P}operation_duration_seconds_count`, { operation: 'getLinkedPod' })).toBe(
      1,
    );
    const sum = valueOf(m, `${P}operation_duration_seconds_sum`, { operation: 'setServiceState' })!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(1);
    const buckets = samplesOf(m, `${P}operation_duration_seconds_bucket`).filter(
      (s) => s.labels.operation === 'setServiceState',
    );
    expect(buckets.map((s) => s.labels.le)).toEqual([...DEFAULT_BUCKETS.map(String), '+Inf']);
    expect(valueOf(m, `${P}operations_in_flight`, { operation: 'setServiceState' })).toBe(0);
    expect(m.types.get(`${P}operation_duration_seconds`)).toBe('histogram');
    expect(m.types.get(`${P}operations_total`)).toBe('counter');
    // A memory executor has no Redis connection and runs no scripts.
    expect(samplesOf(m, `${P}redis_connection_status`)).toEqual([]);
    expect(samplesOf(m, `${P}cache_hit_ratio`)).toEqual([]);
    expect(valueOf(m, `${P}script_loads_total`)).toBe(0);
  });

  it('counts a call in flight until it settles', async () => {
    const registry = new Registry();
    instrument({ registry });
    const executor = createMemoryExecutor({ name: 'mem' });
    const pending = executor.setWorkloadState('ns', 'room', 'open');
    // registry.metrics() reads every collector synchronously before its first await,
    // while the memory call has not settled yet.
    const during = parseExposition(await registry.metrics());
    await pending;
    expect(valueOf(during, `${P}operations_in_flight`, { operation: 'setWorkloadState' })).toBe(1);
    const after = await scrape(registry);
    expect(valueOf(after, `${P}operations_in_flight`, { operation: 'setWorkloadState' })).toBe(0);
    expect(
      valueOf(after, `${P}operations_total`, { operation: 'setWorkloadState', status: 'success' }),
    ).toBe(1);
  });

  it('never shows a negative in-flight count for calls started before instrumenting', async () => {
    const executor = createMemoryExecutor({ name: 'mem' });
    const early = diagnostics.tracingChannel(CHANNELS.operation);
    const keep = () => {};
    early.start.subscribe(keep); // makes the executor trace the call
    const pending = executor.setWorkloadState('ns', 'room', 'open');
    const registry = new Registry();
    instrument({ registry });
    early.start.unsubscribe(keep);
    await pending;
    const pendingTwo = executor.setWorkloadState('ns', 'room', 'closed');
    const during = parseExposition(await registry.metrics());
    await pendingTwo;
    expect(valueOf(during, `${P}operations_in_flight`, { operation: 'setWorkloadState' })).toBe(1);
  });
});

describe('histogram buckets', () => {
  it('places known durations in custom buckets (le is inclusive) with an exact sum', async () => {
    const registry = new Registry();
    instrument({ registry, buckets: [0.001, 0.01, 0.1] });
    for (const durationMs of [0.5, 1, 5, 50, 500]) publishOperation({ durationMs });
    const m = await scrape(registry);
    const buckets = samplesOf(m, `${P}operation_duration_seconds_bucket`);
    expect(buckets.map((s) => [s.labels.le, s.value])).toEqual([
      ['0.001', 2],
      ['0.01', 3],
      ['0.1', 4],
      ['+Inf', 5],
    ]);
    expect(valueOf(m, `${P}operation_duration_seconds_count`)).toBe(5);
    expect(valueOf(m, `${P}operation_duration_seconds_sum`)).toBeCloseTo(0.5565, 12);
  });

  it('uses buckets from 50 µs to 10 s by default', () => {
    expect(DEFAULT_BUCKETS[0]).toBe(0.00005);
    expect(DEFAULT_BUCKETS.at(-1)).toBe(10);
  });
});

describe('error_type', () => {
  it('counts each error class under its own label and in operations_total{status="error"}', async () => {
    const registry = new Registry();
    instrument({ registry });
    // Every error type executor-core has (capacity: SR_NO_CAPACITY from allocate).
    const types = ERROR_TYPES;
    expect(types).toContain('capacity');
    types.forEach((errorType, i) => {
      for (let n = 0; n <= i; n++) publishOperation({ durationMs: 1, errorType });
    });
    publishOperation({ durationMs: 1 });
    const m = await scrape(registry);
    types.forEach((errorType, i) => {
      expect(
        valueOf(m, `${P}errors_total`, { operation: 'getLinkedPod', error_type: errorType }),
      ).toBe(i + 1);
    });
    expect(valueOf(m, `${P}operations_total`, { status: 'error' })).toBe(
      (types.length * (types.length + 1)) / 2,
    );
    expect(valueOf(m, `${P}operations_total`, { status: 'success' })).toBe(1);
  });
});

describe('several executors', () => {
  it('counts only the named executor when filtered', async () => {
    const registry = new Registry();
    instrument({ registry, executor: 'a' });
    const a = createMemoryExecutor({ name: 'a' });
    const b = createMemoryExecutor({ name: 'b' });
    await a.setWorkloadState('ns', 'room', 'x');
    await b.setWorkloadState('ns', 'room', 'x');
    await b.setWorkloadState('ns', 'room', 'y');
    const m = await scrape(registry);
    expect(
      valueOf(m, `${P}operations_total`, { operation: 'setWorkloadState', status: 'success' }),
    ).toBe(1);
  });

  it('keeps two executors apart with executorLabel on one registry', async () => {
    const registry = new Registry();
    instrument({ registry, executor: 'a', executorLabel: true });
    instrument({ registry, executor: 'b', executorLabel: true });
    const a = createMemoryExecutor({ name: 'a' });
    const b = createMemoryExecutor({ name: 'b' });
    await a.setWorkloadState('ns', 'room', 'x');
    await b.setWorkloadState('ns', 'room', 'x');
    await b.setWorkloadState('ns', 'room', 'y');
    const text = await registry.metrics();
    const m = parseExposition(text); // also rejects duplicate families and series
    const ok = { operation: 'setWorkloadState', status: 'success' };
    expect(valueOf(m, `${P}operations_total`, { executor: 'a', ...ok })).toBe(1);
    expect(valueOf(m, `${P}operations_total`, { executor: 'b', ...ok })).toBe(2);
    expect(valueOf(m, `${P}operation_duration_seconds_count`, { executor: 'b' })).toBe(2);
    expect(valueOf(m, `${P}script_loads_total`, { executor: 'a' })).toBe(0);
    expect(text.match(new RegExp(`^# TYPE ${P}operations_total `, 'gm'))).toHaveLength(1);
  });

  it('labels every executor it sees when labelled and not filtered', async () => {
    const registry = new Registry();
    instrument({ registry, executorLabel: true });
    await createMemoryExecutor({ name: 'a' }).setWorkloadState('ns', 'room', 'x');
    await createMemoryExecutor({ name: 'b' }).getWorkloadState('ns', 'room');
    const m = await scrape(registry);
    expect(valueOf(m, `${P}operations_total`, { executor: 'a', status: 'success' })).toBe(1);
    expect(valueOf(m, `${P}operations_total`, { executor: 'b', status: 'success' })).toBe(1);
  });

  it('keeps two executors apart with prefixes', async () => {
    const registry = new Registry();
    instrument({ registry, executor: 'a', prefix: 'a_' });
    instrument({ registry, executor: 'b', prefix: 'b_' });
    await createMemoryExecutor({ name: 'a' }).setWorkloadState('ns', 'room', 'x');
    const m = await scrape(registry);
    expect(valueOf(m, 'a_operations_total', { status: 'success' })).toBe(1);
    expect(samplesOf(m, 'b_operations_total')).toEqual([]);
    expect(m.types.get('b_operation_duration_seconds')).toBe('histogram');
  });
});

describe('registration conflicts', () => {
  it('refuses a second unlabelled instrumentation and registers nothing', () => {
    const registry = new Registry();
    instrument({ registry });
    const before = registry.getMetricsAsArray().length;
    const attempt = () => instrument({ registry, executor: 'x' });
    expect(attempt).toThrow(MetricsConflictError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'SR_METRICS_CONFLICT' }));
    expect(registry.getMetricsAsArray()).toHaveLength(before);
  });

  it('refuses a name taken by another metric, the same executor twice, or other buckets', () => {
    const registry = new Registry();
    new Counter({ name: 'taken_operations_total', help: 'x', registers: [registry] });
    expect(() => instrument({ registry, prefix: 'taken_' })).toThrow(
      expect.objectContaining({ code: 'SR_METRICS_CONFLICT', metric: 'taken_operations_total' }),
    );
    expect(registry.getMetricsAsArray()).toHaveLength(1);
    instrument({ registry, executor: 'a', executorLabel: true });
    expect(() => instrument({ registry, executor: 'a', executorLabel: true })).toThrow(
      MetricsConflictError,
    );
    expect(() => instrument({ registry, executorLabel: true })).toThrow(MetricsConflictError);
    expect(() =>
      instrument({ registry, executor: 'b', executorLabel: true, buckets: [0.1, 1] }),
    ).toThrow(MetricsConflictError);
  });
});

describe('options', () => {
  const registry = new Registry();
  it.each([
    ['registry', { registry: undefined }],
    ['registry', { registry: {} }],
    ['executor', { registry, executor: '' }],
    ['executorLabel', { registry, executorLabel: 'yes' }],
    ['prefix', { registry, prefix: 'bad-prefix' }],
    ['buckets', { registry, buckets: [] }],
    ['buckets', { registry, buckets: [0.1, 0.01] }],
    ['buckets', { registry, buckets: [0.1, Infinity] }],
    ['buckets', { registry, buckets: [0.1, '1'] }],
    ['infoCacheMs', { registry, infoCacheMs: -1 }],
    ['infoTimeoutMs', { registry, infoTimeoutMs: 0 }],
    ['redis', { registry, redis: {} }],
    ['executorInstance', { registry, executorInstance: {} }],
    ['buildInfo', { registry, buildInfo: true }],
    ['buildInfo', { registry, buildInfo: 'v1' }],
    ['buildInfo', { registry, buildInfo: { version: '' } }],
    ['buildInfo', { registry, buildInfo: { version: 1 } }],
    [
      'executorInstance',
      { registry, executor: 'a', executorInstance: createMemoryExecutor({ name: 'b' }) },
    ],
  ])('rejects a bad %s', (option, options) => {
    expect(() => instrumentExecutor(options as unknown as InstrumentOptions)).toThrow(
      MetricsOptionsError,
    );
    expect(() => instrumentExecutor(options as unknown as InstrumentOptions)).toThrow(
      expect.objectContaining({ code: 'SR_METRICS_OPTIONS', option }),
    );
    expect(registry.getMetricsAsArray()).toHaveLength(0);
  });
});

describe('dispose', () => {
  const names = [
    CHANNELS.scriptLoad,
    CHANNELS.noscript,
    CHANNELS.connection,
    CHANNELS.create,
    CHANNELS.close,
  ];

  it('unsubscribes from every channel and removes its metrics', async () => {
    const registry = new Registry();
    const executor = createMemoryExecutor({ name: 'disposed' });
    const dispose = instrumentExecutor({ registry });
    expect(names.every((name) => diagnostics.hasSubscribers(name))).toBe(true);
    // Calls are not traced (no per-call channel work): the executor records them instead.
    expect(diagnostics.tracingChannel(CHANNELS.operation).hasSubscribers).toBe(false);
    expect(executor.telemetry.recording).toBe(true);
    expect(registry.getMetricsAsArray().length).toBeGreaterThan(0);
    dispose();
    expect(executor.telemetry.recording).toBe(false);
    await executor.close();
    expect(names.filter((name) => diagnostics.hasSubscribers(name))).toEqual([]);
    expect(registry.getMetricsAsArray()).toEqual([]);
    expect(await registry.metrics()).toBe('\n');
    dispose(); // idempotent
    // The names are free again.
    instrument({ registry });
  });

  it('keeps a shared family while another instrumentation still uses it', async () => {
    const registry = new Registry();
    const disposeA = instrumentExecutor({ registry, executor: 'a', executorLabel: true });
    instrument({ registry, executor: 'b', executorLabel: true });
    await createMemoryExecutor({ name: 'a' }).setWorkloadState('ns', 'room', 'x');
    await createMemoryExecutor({ name: 'b' }).setWorkloadState('ns', 'room', 'x');
    disposeA();
    const m = await scrape(registry);
    expect(samplesOf(m, `${P}operations_total`).map((s) => s.labels.executor)).toEqual(['b', 'b']);
  });
});

describe('registry features', () => {
  it('resetMetrics() zeroes the counters and the histogram', async () => {
    const registry = new Registry();
    instrument({ registry });
    publishOperation({ durationMs: 2, errorType: 'timeout' });
    registry.resetMetrics();
    const m = await scrape(registry);
    expect(valueOf(m, `${P}operations_total`, { status: 'error' })).toBe(0);
    expect(valueOf(m, `${P}operation_duration_seconds_count`)).toBe(0);
    expect(samplesOf(m, `${P}errors_total`)).toEqual([]);
  });

  it('works on an OpenMetrics registry', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    instrument({ registry });
    publishOperation({ durationMs: 2 });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE stateful_executor_operations counter');
    expect(text).toContain(
      'stateful_executor_operations_total{operation="getLinkedPod",status="success"} 1',
    );
    expect(text).toContain(
      'stateful_executor_operation_duration_seconds_count{operation="getLinkedPod"} 1',
    );
    expect(text.endsWith('# EOF\n')).toBe(true);
  });

  it('survives Registry.merge()', async () => {
    const registry = new Registry();
    instrument({ registry });
    const other = new Registry();
    new Counter({ name: 'other_total', help: 'x', registers: [other] }).inc();
    publishOperation({ durationMs: 2 });
    const m = parseExposition(await Registry.merge([registry, other]).metrics());
    expect(valueOf(m, `${P}operations_total`, { status: 'success' })).toBe(1);
    expect(valueOf(m, 'other_total')).toBe(1);
  });

  it('getMetricsAsJSON() carries the values', async () => {
    const registry = new Registry();
    instrument({ registry });
    publishOperation({ durationMs: 2 });
    const json = await registry.getMetricsAsJSON();
    const ops = json.find((metric) => metric.name === `${P}operations_total`);
    expect(ops?.values).toContainEqual({
      labels: { operation: 'getLinkedPod', status: 'success' },
      value: 1,
    });
  });
});

describe('stateful_route_build_info', () => {
  const packageVersion = (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;

  it('is 1 with the version of this package and of Node.js by default', async () => {
    const registry = new Registry();
    instrument({ registry });
    const m = await scrape(registry);
    expect(BUILD_INFO_METRIC).toBe('stateful_route_build_info');
    expect(m.types.get(BUILD_INFO_METRIC)).toBe('gauge');
    expect(samplesOf(m, BUILD_INFO_METRIC)).toEqual([
      {
        name: BUILD_INFO_METRIC,
        labels: { version: packageVersion, node_version: process.version },
        value: 1,
      },
    ]);
  });

  it('carries the version given, is shared by the instrumentations of a registry, and leaves with the last', async () => {
    const registry = new Registry();
    const disposeA = instrumentExecutor({
      registry,
      executor: 'a',
      executorLabel: true,
      buildInfo: { version: '9.8.7' },
    });
    const disposeB = instrumentExecutor({
      registry,
      executor: 'b',
      executorLabel: true,
      buildInfo: { version: '9.8.7' },
    });
    const text = await registry.metrics();
    const m = parseExposition(text); // rejects a family declared twice or a duplicate series
    expect(samplesOf(m, BUILD_INFO_METRIC).map((s) => s.labels)).toEqual([
      { version: '9.8.7', node_version: process.version },
    ]);
    disposeA();
    expect(valueOf(await scrape(registry), BUILD_INFO_METRIC, { version: '9.8.7' })).toBe(1);
    disposeB();
    expect(await registry.metrics()).toBe('\n');
  });

  it("stays 1 when prom-client's cluster aggregation combines several processes' registries", async () => {
    const workers = [new Registry(), new Registry()];
    for (const registry of workers) instrument({ registry, prefix: 'agg_' });
    const merged = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((r) => r.getMetricsAsJSON())),
    );
    const m = parseExposition(await merged.metrics());
    expect(valueOf(m, BUILD_INFO_METRIC, { version: packageVersion })).toBe(1);
  });

  it('is left out with buildInfo: false', async () => {
    const registry = new Registry();
    instrument({ registry, buildInfo: false });
    expect(registry.getSingleMetric(BUILD_INFO_METRIC)).toBeUndefined();
    expect(await registry.metrics()).not.toContain(BUILD_INFO_METRIC);
  });

  it('refuses a registry where the name is taken by another metric, and registers nothing', () => {
    const registry = new Registry();
    new Counter({ name: BUILD_INFO_METRIC, help: 'x', registers: [registry] });
    expect(() => instrument({ registry })).toThrow(
      expect.objectContaining({ code: 'SR_METRICS_CONFLICT', metric: BUILD_INFO_METRIC }),
    );
    expect(registry.getMetricsAsArray()).toHaveLength(1);
    // Without it, the executor metrics register next to the application's own build info.
    instrument({ registry, buildInfo: false });
    expect(registry.getMetricsAsArray().length).toBeGreaterThan(1);
  });
});
