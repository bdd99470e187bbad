/* global process, console */
// Monitoring overhead at 64 calls in flight against a real redis-server (issue 12).
//
// Variants, run in alternating rounds (A B C D E, then E D C B A, ...) so that drift in
// machine load hits all of them alike; every figure is the median of the per-round ratios:
//   A  uninstrumented: no consumer, no subscriber (the executor records nothing)
//   B  instrumentExecutor() from this package: the executor records each call once into its
//      telemetry, the metrics read it at scrape time
//   C  the obvious design: a diagnostics subscriber calling prom-client Histogram.observe +
//      Counter.inc with labels on every call
//   D  empty diagnostics-channel subscribers: what a third-party tracer (OpenTelemetry) pays
//   E  metrics + analyzer, as the server attaches them (both read the same recording)
//
// On a machine shared with other work, wall-clock throughput swings from round to round; the
// CPU time per call (this process only) and the per-part costs measured without I/O at the
// end are the steadier figures.
//
// Plain ESM against dist: `pnpm --filter @stateful-route/metrics bench` (the turbo `bench`
// task builds first). Env: ROUNDS (default 20), RUN_MS per variant and round (default 250).
import diagnostics from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { Bench } from 'tinybench';
import { Counter, Histogram, Registry } from 'prom-client';
import { CHANNELS, createMemoryExecutor, createRedisExecutor } from '@stateful-route/executor-core';
import { createAnalyzer } from '@stateful-route/analyzer';
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
function call(n) {
  return (n & 1) === 0
    ? executor.getServiceState(ns, 'room')
    : executor.setLinkedPodIfAbsent(ns, uids[n % UIDS], 'room', {
        podId: n % PODS,
        persistSeconds: 300,
      });
}
// The calibration variants F and G change the call itself, not the executor. G observes the
// end of each call through one more promise reaction (a closure and a derived promise: what
// any wrapper that sees the end of a call costs); F does the same and reads the clock at the
// start and at the end (what timing a call costs). F - G is the clock pair in situ, G - A the
// reaction: the floor of any recording that times every call.
let sink = 0;
function observed(n) {
  return call(n).then((value) => {
    sink += n;
    return value;
  });
}
function clockPair(n) {
  const started = performance.now();
  return call(n).then((value) => {
    sink += performance.now() - started;
    return value;
  });
}
let callOf = call;
async function worker(calls) {
  for (let i = 0; i < calls; i++) await callOf(next++);
}
// One sample: CALLS_PER_SAMPLE calls by IN_FLIGHT workers, so 64 calls are always in flight.
function sample() {
  const workers = [];
  for (let w = 0; w < IN_FLIGHT; w++) workers.push(worker(CALLS_PER_SAMPLE / IN_FLIGHT));
  return Promise.all(workers);
}

const operation = diagnostics.tracingChannel(CHANNELS.operation);
function naive() {
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
}
function emptySubscribers() {
  const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
  operation.subscribe(handlers);
  return () => operation.unsubscribe(handlers);
}
function metricsAndAnalyzer(target) {
  const dispose = instrumentExecutor({ registry: new Registry(), executorInstance: target });
  const analyzer = createAnalyzer({ executor: target, processMetrics: false });
  return () => {
    analyzer.close();
    dispose();
  };
}
const variants = {
  A: { label: 'uninstrumented', attach: () => () => {} },
  B: {
    label: 'instrumentExecutor',
    attach: (target) => instrumentExecutor({ registry: new Registry(), executorInstance: target }),
  },
  C: { label: 'naive prom-client subscriber', attach: naive },
  D: { label: 'diagnostics subscribers only (tracer)', attach: emptySubscribers },
  E: { label: 'metrics + analyzer (the server)', attach: metricsAndAnalyzer },
  F: { label: 'calibration: A + 2 clock reads', attach: swapCall(clockPair) },
  G: { label: 'calibration: A + 1 promise reaction', attach: swapCall(observed) },
};
function swapCall(replacement) {
  return () => {
    callOf = replacement;
    return () => {
      callOf = call;
    };
  };
}

async function measure(key, time) {
  const detach = variants[key].attach(executor);
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

// The same calls on the memory executor, no I/O: what each variant adds to a call's CPU
// by itself, best of several repetitions (CPU time: other processes stretch wall time only).
async function cpuNanosWithoutIo(key) {
  const memory = createMemoryExecutor({ name: `bench-memory-${key}` });
  const detach = variants[key].attach(memory);
  try {
    let best = Infinity;
    for (let rep = 0; rep < 9; rep++) {
      const started = process.cpuUsage();
      for (let i = 0; i < 20_000; i++) {
        if ((i & 1) === 0) await memory.getServiceState(ns, 'room');
        else await memory.getLinkedPod(ns, uids[i % UIDS], 'room');
      }
      const used = process.cpuUsage(started);
      best = Math.min(best, ((used.user + used.system) * 1000) / 20_000);
    }
    return best;
  } finally {
    detach();
    await memory.close();
  }
}

// The recording path reads the clock twice per call (start and settle): on machines where a
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
  const costs = {};
  for (const key of ['A', 'B', 'C', 'D', 'E']) costs[key] = await cpuNanosWithoutIo(key);
  const perCall = median(results.A.map((r) => r.cpuMicrosPerCall)) * 1000;
  const share = (ns) => `${((ns / perCall) * 100).toFixed(2)}%`;
  const clock = clockReadNanos().ns;
  console.log(
    `\nper call without I/O (memory executor), over A: metrics ${(costs.B - costs.A).toFixed(0)} ns, ` +
      `metrics + analyzer ${(costs.E - costs.A).toFixed(0)} ns, tracer subscribers ` +
      `${(costs.D - costs.A).toFixed(0)} ns, naive ${(costs.C - costs.A).toFixed(0)} ns; one ` +
      `performance.now() ${clock.toFixed(0)} ns (two per recorded call: ${share(2 * clock)} of ` +
      `A's ${(perCall / 1000).toFixed(2)} µs CPU per Redis call); metrics' share of a Redis call ` +
      `${share(costs.B - costs.A)}, metrics + analyzer ${share(costs.E - costs.A)}`,
  );
  console.log(`naive prom-client design: ${pct(1 - ratio('C', 'A', 'opsPerSec'))} throughput`);
  console.log(`tracer subscribers only:  ${pct(1 - ratio('D', 'A', 'opsPerSec'))} throughput`);
  console.log(
    `CPU per call over A: metrics ${pct(ratio('B', 'A', 'cpuMicrosPerCall') - 1)}, ` +
      `metrics+analyzer ${pct(ratio('E', 'A', 'cpuMicrosPerCall') - 1)}`,
  );
  // In situ, with Redis: throughput and CPU per call that the floor parts cost by themselves.
  const cpuOver = (key, base) =>
    (
      median(results[key].map((r, i) => r.cpuMicrosPerCall - results[base][i].cpuMicrosPerCall)) *
      1000
    ).toFixed(0);
  console.log(
    `calibration in situ (median of per-round differences): one promise reaction ` +
      `${pct(1 - ratio('G', 'A', 'opsPerSec'))} throughput, ${cpuOver('G', 'A')} ns CPU/call; ` +
      `reaction + clock pair ${pct(1 - ratio('F', 'A', 'opsPerSec'))} throughput, ` +
      `${cpuOver('F', 'A')} ns CPU/call; metrics ${cpuOver('B', 'A')} ns, metrics + analyzer ` +
      `${cpuOver('E', 'A')} ns CPU/call`,
  );
  const overhead = (key) => ((1 - ratio(key, 'A', 'opsPerSec')) * 100).toFixed(2);
  if (sink === -1) console.log(sink); // keeps the calibration work observable
  console.log(`overhead metrics: ${overhead('B')}%`);
  console.log(`overhead metrics+analyzer: ${overhead('E')}%`);
} finally {
  await executor.close();
  client.disconnect();
  await server.stop();
}
