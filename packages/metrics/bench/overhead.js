/* global process, console */
// Monitoring overhead at 64 calls in flight against a real redis-server.
//
// Variants, run in alternating rounds (A B C D, then D C B A, ...) so that drift in machine
// load hits all of them alike; each figure is the median of the per-round ratios to A:
//   A  no subscriber (the executor skips tracing entirely)
//   B  instrumentExecutor() from this package
//   C  the obvious design: a subscriber doing prom-client Histogram.observe + Counter.inc
//      with labels on every call
//   D  empty start/asyncEnd subscribers: what executor-core's tracing costs by itself
//
// Plain ESM against dist (run `pnpm --filter @stateful-route/metrics build` first; the turbo
// `bench` task does). Env: ROUNDS (default 10), RUN_MS per variant and round (default 1000).
import diagnostics from 'node:diagnostics_channel';
import { Bench } from 'tinybench';
import { Counter, Histogram, Registry } from 'prom-client';
import { CHANNELS, createRedisExecutor } from '@stateful-route/executor-core';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import { DEFAULT_BUCKETS, instrumentExecutor } from '@stateful-route/metrics';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const RUN_MS = Number(process.env.RUN_MS ?? 1000);
const IN_FLIGHT = 64;
const CALLS_PER_SAMPLE = IN_FLIGHT * 40;
const UIDS = 20_000;
const PODS = 8;

const server = await startRedis();
const client = server.client();
const executor = createRedisExecutor({ redis: client, name: 'bench' });
await executor.loadScripts();
const ns = uniqueNamespace('metrics-bench');
for (let pod = 0; pod < PODS; pod++) await executor.setServiceState(ns, 'room', pod, `load=${pod}`);
const uids = Array.from({ length: UIDS }, (_, i) => `u${i}`);

// The routers' hot pair (contract section 5): read the pod states, link the uid if absent.
let next = 0;
async function worker(calls) {
  for (let i = 0; i < calls; i++) {
    const n = next++;
    if ((n & 1) === 0) await executor.getServiceState(ns, 'room');
    else await executor.setLinkedPodIfAbsent(ns, uids[n % UIDS], 'room', n % PODS, 300);
  }
}
function sample() {
  const workers = [];
  for (let w = 0; w < IN_FLIGHT; w++) workers.push(worker(CALLS_PER_SAMPLE / IN_FLIGHT));
  return Promise.all(workers);
}

const operation = diagnostics.tracingChannel(CHANNELS.operation);

const variants = {
  A: { label: 'uninstrumented', attach: () => () => {} },
  B: {
    label: 'instrumentExecutor',
    attach: () => instrumentExecutor({ registry: new Registry(), executor: 'bench' }),
  },
  C: {
    label: 'naive prom-client subscriber',
    attach: () => {
      const registry = new Registry();
      const histogram = new Histogram({
        name: 'naive_operation_duration_seconds',
        help: 'naive',
        labelNames: ['operation'],
        buckets: [...DEFAULT_BUCKETS],
        registers: [registry],
      });
      const counter = new Counter({
        name: 'naive_operations_total',
        help: 'naive',
        labelNames: ['operation', 'status'],
        registers: [registry],
      });
      const onEnd = (m) => {
        histogram.observe({ operation: m.operation }, m.duration / 1000);
        counter.inc({
          operation: m.operation,
          status: m.errorType === undefined ? 'success' : 'error',
        });
      };
      operation.asyncEnd.subscribe(onEnd);
      return () => operation.asyncEnd.unsubscribe(onEnd);
    },
  },
  D: {
    label: 'empty subscribers (tracing cost)',
    attach: () => {
      const noop = () => {};
      const onEnd = () => {};
      operation.start.subscribe(noop);
      operation.asyncEnd.subscribe(onEnd);
      return () => {
        operation.start.unsubscribe(noop);
        operation.asyncEnd.unsubscribe(onEnd);
      };
    },
  },
};

async function measure(key, time) {
  const detach = variants[key].attach();
  try {
    const bench = new Bench({ time, iterations: 3, warmupTime: 50, warmupIterations: 2 });
    bench.add(key, sample);
    const cpu = process.cpuUsage();
    const before = next;
    await bench.run();
    const used = process.cpuUsage(cpu);
    const calls = next - before;
    const { latency } = bench.tasks[0].result;
    return {
      opsPerSec: (CALLS_PER_SAMPLE / latency.mean) * 1000,
      cpuMicrosPerCall: (used.user + used.system) / calls,
    };
  } finally {
    detach();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');

try {
  const keys = Object.keys(variants);
  for (const key of keys) await measure(key, 300); // JIT warm-up, discarded
  const results = Object.fromEntries(keys.map((key) => [key, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? keys : [...keys].reverse();
    const line = [];
    for (const key of order) {
      const result = await measure(key, RUN_MS);
      results[key].push(result);
      line.push(`${key} ${fmt(result.opsPerSec)} ops/s`);
    }
    console.log(`round ${String(round + 1).padStart(2)}: ${line.join('  ')}`);
  }
  console.log(
    `\n${IN_FLIGHT} calls in flight, getServiceState + setLinkedPodIfAbsent, ${ROUNDS} rounds`,
  );
  for (const key of keys) {
    const runs = results[key];
    const ratios = runs.map((r, i) => r.opsPerSec / results.A[i].opsPerSec);
    const ratio = median(ratios);
    console.log(
      `${key} ${variants[key].label.padEnd(34)} median ${fmt(median(runs.map((r) => r.opsPerSec)))} ops/s` +
        `  ${median(runs.map((r) => r.cpuMicrosPerCall)).toFixed(2)} µs CPU/call` +
        (key === 'A'
          ? ''
          : `  ratio to A ${ratio.toFixed(4)}  overhead ${((1 - ratio) * 100).toFixed(2)}%`),
    );
  }
} finally {
  await executor.close();
  client.disconnect();
  await server.stop();
}
