// What the measuring harness costs per call, side by side in one run on the memory backend
// (no I/O, so the harness is all that differs): CPU time of this process per call for
//   raw       a raw loop of the default mix's calls, 64 in flight, nothing attached
//   recorded  the same raw loop with the executor's telemetry recording latencies (what any
//             attached consumer makes the executor pay: the part executor-core owns)
//   harness   runWorkload with its own analyzer, default mix, 64 in flight
// Rounds alternate (raw recorded harness, then harness recorded raw, ...) so that drift in
// machine load hits every variant alike; figures are medians of the per-round values.
// The last line is the harness figure: harness minus raw, median of the per-round
// differences. Prints figures; asserts nothing.
//
// Plain ESM against dist: `pnpm --filter @stateful-route/analyzer bench` (builds first).
// Env: ROUNDS (default 20), RUN_MS per variant and round (default 300).
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createMemoryExecutor } from '@stateful-route/executor-core';
import { DEFAULT_MIX, runWorkload } from '@stateful-route/analyzer';

const ROUNDS = Number(process.env.ROUNDS ?? 20);
const RUN_MS = Number(process.env.RUN_MS ?? 300);
const IN_FLIGHT = 64;
// runWorkload's defaults: 4 services, 8 pods, 10 000 uids, the default mix.
const SERVICES = 4;
const PODS = 8;
const UIDS = 10_000;
const NAMESPACE = 'harness-bench';

const executor = createMemoryExecutor({ name: 'harness-bench' });

// The raw loop's calls, drawn up front from the default mix: the loop itself only reads them.
const TABLE = 1 << 16;
const operations = Object.keys(DEFAULT_MIX);
const weights = Object.values(DEFAULT_MIX);
const totalWeight = weights.reduce((a, b) => a + b, 0);
let state = 12345;
const random = () => {
  state = (state * 1103515245 + 12345) >>> 0;
  return state / 2 ** 32;
};
const table = Array.from({ length: TABLE }, () => {
  let r = random() * totalWeight;
  let index = 0;
  while (r >= weights[index] && index < weights.length - 1) r -= weights[index++];
  return {
    operation: operations[index],
    service: `svc-${Math.floor(random() * SERVICES)}`,
    uid: `u-${Math.floor(random() * UIDS)}`,
    pod: Math.floor(random() * PODS),
    state: `{"load":${Math.floor(random() * 100)},"routable":1}`,
  };
});
const replicas = `{"replicas":${PODS}}`;

function rawCall(c) {
  switch (c.operation) {
    case 'getServiceState':
      return executor.getServiceState(NAMESPACE, c.service);
    case 'setLinkedPodIfAbsent':
      return executor.setLinkedPodIfAbsent(NAMESPACE, c.uid, c.service, {
        podId: c.pod,
        persistSeconds: 300,
      });
    case 'getLinkedPod':
      return executor.getLinkedPod(NAMESPACE, c.uid, c.service);
    case 'trySetLinkedPod':
      return executor.trySetLinkedPod(NAMESPACE, c.uid, c.service, {
        podId: c.pod,
        persistSeconds: -1,
      });
    case 'getWorkloadState':
      return executor.getWorkloadState(NAMESPACE, c.service);
    case 'setServiceState':
      return executor.setServiceState(NAMESPACE, c.service, c.pod, c.state);
    case 'setWorkloadState':
      return executor.setWorkloadState(NAMESPACE, c.service, replicas);
    default:
      throw new Error(`no raw call for ${c.operation}`);
  }
}

async function rawWorker(start, calls) {
  for (let i = 0; i < calls; i++) {
    try {
      await rawCall(table[(start + i) & (TABLE - 1)]);
    } catch {
      // Counted like runWorkload does: the loop goes on.
    }
  }
}

async function rawLoop(calls) {
  const workers = [];
  const perWorker = Math.ceil(calls / IN_FLIGHT);
  for (let w = 0; w < IN_FLIGHT; w++) workers.push(rawWorker(w * 1024, perWorker));
  await Promise.all(workers);
  return perWorker * IN_FLIGHT;
}

function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

// Each variant: { calls, cpuUs, wallMs } of one round.
let rawCalls = 0; // sized so that a raw round lasts about RUN_MS
const variants = {
  raw: async () => rawLoop(rawCalls),
  recorded: async () => {
    const attachment = executor.telemetry.attach({ latency: true });
    try {
      return await rawLoop(rawCalls);
    } finally {
      attachment.release();
    }
  },
  harness: async () => {
    // The raw loop's namespace, kept between rounds; the rounds warm each other up, and a
    // warm-up inside this variant would be CPU that its calls do not account for.
    const result = await runWorkload(executor, {
      durationMs: RUN_MS,
      namespace: NAMESPACE,
      prepare: false,
      keep: true,
      warmupMs: 0,
    });
    return result.operations;
  },
};

async function measure(name) {
  const wall = performance.now();
  const cpu = cpuMicros();
  const calls = await variants[name]();
  const cpuUs = cpuMicros() - cpu;
  const wallMs = performance.now() - wall;
  return { calls, cpuPerCall: cpuUs / calls, perSecond: calls / (wallMs / 1000) };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

// Data for every read, then a warm-up of every path and the raw round's size.
for (let s = 0; s < SERVICES; s++) {
  for (let pod = 0; pod < PODS; pod++) {
    await executor.setServiceState(NAMESPACE, `svc-${s}`, pod, `{"load":${pod},"routable":1}`);
  }
  await executor.setWorkloadState(NAMESPACE, `svc-${s}`, replicas);
}
rawCalls = 200_000;
const warm = await measure('raw');
rawCalls = Math.max(IN_FLIGHT, Math.round((warm.perSecond * RUN_MS) / 1000));
await measure('recorded');
await measure('harness');

const names = Object.keys(variants);
const results = Object.fromEntries(names.map((name) => [name, []]));
const differences = { harness: [], recorded: [] };
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? names : [...names].reverse();
  const figures = {};
  for (const name of order) figures[name] = await measure(name);
  for (const name of names) results[name].push(figures[name]);
  differences.harness.push(figures.harness.cpuPerCall - figures.raw.cpuPerCall);
  differences.recorded.push(figures.recorded.cpuPerCall - figures.raw.cpuPerCall);
}
await executor.close();

const labels = {
  raw: 'raw loop, nothing attached',
  recorded: 'raw loop, telemetry recording latencies',
  harness: 'runWorkload + analyzer',
};
process.stdout.write(
  `memory backend, default mix, ${IN_FLIGHT} in flight, ${ROUNDS} alternating rounds of ~${RUN_MS} ms (medians)\n`,
);
for (const name of names) {
  const cpu = median(results[name].map((r) => r.cpuPerCall));
  const rate = median(results[name].map((r) => r.perSecond));
  process.stdout.write(
    `${labels[name].padEnd(42)} ${cpu.toFixed(2).padStart(6)} µs CPU/call ${Math.round(rate)
      .toLocaleString('en-US')
      .padStart(11)} calls/s\n`,
  );
}
const recording = median(differences.recorded);
const harness = median(differences.harness);
process.stdout.write(
  `of which the executor's recording path (recorded - raw): ${recording.toFixed(2)} µs per call\n`,
);
process.stdout.write(
  `harness: ${harness.toFixed(2)} µs of CPU per call (runWorkload + analyzer vs a raw loop, memory backend)\n`,
);
