/* global process, console */
// Monitoring overhead at 64 calls in flight against a real redis-server.
//
// Variants, run in alternating rounds (A B C D, then D C B A, ...) so that drift in machine
// load hits all of them alike; every figure is the median of the per-round ratios:
//   A  no subscriber: the executor skips tracing entirely (the uninstrumented executor)
//   B  instrumentExecutor() from this package
//   C  the obvious design: a subscriber calling prom-client Histogram.observe + Counter.inc
//      with labels on every call
//   D  empty start/asyncEnd subscribers: what executor-core's tracing costs by itself
//      (B - D is what this package adds on top)
//
// On a machine shared with other work, wall-clock throughput swings from round to round; the
// CPU time per call (this process only) and the per-call subscriber cost measured without I/O
// at the end are the steadier figures.
//
// Plain ESM against dist: `pnpm --filter @stateful-route/metrics bench` (the turbo `bench`
// task builds first). Env: ROUNDS (default 20), RUN_MS per variant and round (default 250).
import diagnostics from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import { Counter, Histogram, Registry } from 'prom-client';
import { CHANNELS, createRedisExecutor, OperationMessage } from '@stateful-route/executor-core';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import { DEFAULT_BUCKETS, instrumentExecutor } from '@stateful-route/metrics';

const ROUNDS = Number(process.env.ROUNDS ?? 20);
const RUN_MS = Number(process.env.RUN_MS ?? 250);
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
// One sample: CALLS_PER_SAMPLE calls by IN_FLIGHT workers, so 64 calls are always in flight.
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
        const status = m.errorType === undefined ? 'success' : 'error';
        counter.inc({ operation: m.operation, status });
      };
      operation.asyncEnd.subscribe(onEnd);
      return () => operation.asyncEnd.unsubscribe(onEnd);
    },
  },
  D: {
    label: 'empty subscribers (tracing only)',
    attach: () => {
      const onStart = () => {};
      const onEnd = () => {};
      operation.start.subscribe(onStart);
      operation.asyncEnd.subscribe(onEnd);
      return () => {
        operation.start.unsubscribe(onStart);
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
    const { latency } = bench.tasks[0].result;
    // The median sample, not the mean: on a shared machine a few samples are slowed by other
    // processes, and the median of ~5 samples shrugs them off.
    return {
      opsPerSec: (CALLS_PER_SAMPLE / latency.p50) * 1000,
      cpuMicrosPerCall: (used.user + used.system) / (next - before),
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
const pct = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

// What each subscriber costs per call by itself: synthetic messages published the way
// executor-core does (start + asyncEnd), no I/O. CPU time, best of several repetitions.
function subscriberNanos(key) {
  const messages = Array.from({ length: 1000 }, (_, i) => {
    const m = new OperationMessage(
      i % 2 ? 'getServiceState' : 'setLinkedPodIfAbsent',
      'bench',
      'redis',
      1,
    );
    m.duration = 0.05 + (i % 20) * 0.05;
    return m;
  });
  const detach = variants[key].attach();
  try {
    // CPU time, not wall time: other processes on a shared machine stretch wall time only.
    let best = Infinity;
    for (let rep = 0; rep < 15; rep++) {
      const started = process.cpuUsage();
      for (let r = 0; r < 100; r++) {
        for (const m of messages) {
          operation.start.publish(m);
          operation.asyncEnd.publish(m);
        }
      }
      const used = process.cpuUsage(started);
      best = Math.min(best, ((used.user + used.system) * 1000) / (100 * messages.length));
    }
    return best;
  } finally {
    detach();
  }
}

// The traced path reads the clock twice per call (start and settle): on machines where a
// clock read is a system call (some VMs) that alone is a visible share of a call.
function clockReadNanos() {
  const n = 200_000;
  let sink = 0;
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += performance.now();
  const used = process.cpuUsage(started);
  return { ns: ((used.user + used.system) * 1000) / n, sink };
}

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
      line.push(`${key} ${fmt(result.opsPerSec).padStart(6)} ops/s`);
    }
    console.log(`round ${String(round + 1).padStart(2)}: ${line.join('  ')}`);
  }

  const ratio = (key, base, field) =>
    median(results[key].map((r, i) => r[field] / results[base][i][field]));
  console.log(
    `\n${IN_FLIGHT} calls in flight, getServiceState + setLinkedPodIfAbsent, ${ROUNDS} rounds ` +
      `of ${RUN_MS} ms per variant; ratios are medians of the per-round ratios`,
  );
  for (const key of keys) {
    const runs = results[key];
    let line =
      `${key} ${variants[key].label.padEnd(33)}` +
      `${fmt(median(runs.map((r) => r.opsPerSec))).padStart(7)} ops/s` +
      `  ${median(runs.map((r) => r.cpuMicrosPerCall)).toFixed(2)} µs CPU/call`;
    if (key !== 'A') {
      const throughput = ratio(key, 'A', 'opsPerSec');
      line +=
        `  throughput ratio to A ${throughput.toFixed(4)} (overhead ${pct(1 - throughput)})` +
        `  CPU/call ${pct(ratio(key, 'A', 'cpuMicrosPerCall') - 1)}`;
    }
    console.log(line);
  }
  console.log(
    `\nmonitoring overhead, instrumentExecutor vs uninstrumented (B/A): ` +
      `${pct(1 - ratio('B', 'A', 'opsPerSec'))} throughput`,
  );
  console.log(
    `naive prom-client design vs uninstrumented (C/A):             ` +
      `${pct(1 - ratio('C', 'A', 'opsPerSec'))} throughput`,
  );
  console.log(
    `on top of executor-core's tracing (vs D): instrumentExecutor ` +
      `${pct(1 - ratio('B', 'D', 'opsPerSec'))}, naive ${pct(1 - ratio('C', 'D', 'opsPerSec'))}`,
  );
  const costs = Object.fromEntries(keys.map((key) => [key, subscriberNanos(key)]));
  const perCall = median(results.A.map((r) => r.cpuMicrosPerCall)) * 1000;
  console.log(
    `subscriber cost per call without I/O, over no subscriber: instrumentExecutor ` +
      `${(costs.B - costs.A).toFixed(0)} ns (${(costs.B - costs.D).toFixed(0)} ns over empty ` +
      `subscribers), naive ${(costs.C - costs.A).toFixed(0)} ns (${(costs.C - costs.D).toFixed(0)} ns); ` +
      `that is ${(((costs.B - costs.D) / perCall) * 100).toFixed(2)}% vs ` +
      `${(((costs.C - costs.D) / perCall) * 100).toFixed(2)}% of A's ${(perCall / 1000).toFixed(2)} µs CPU/call`,
  );
  console.log(
    `one performance.now() here: ${clockReadNanos().ns.toFixed(0)} ns (the traced path reads it twice per call)`,
  );
} finally {
  await executor.close();
  client.disconnect();
  await server.stop();
}
