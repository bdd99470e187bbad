// Soak: the server (real Redis, auth and metrics on) under a steady mixed load for more than
// two minutes. Zero errors; the heap after a full GC must not grow between the second and the
// last minute by more than HEAP_GROWTH_BOUND; the latency percentiles are printed.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startRedis, uniqueNamespace, type RedisServer } from '@stateful-route/test-redis';
import { call, codeOf } from './server-process.js';

const DURATION_MS = Number(process.env.SOAK_DURATION_MS ?? 130_000);
const SAMPLE_EVERY_MS = 10_000;
const CONCURRENCY = 16;
const UIDS = 5000;
// Allowed heap growth (after GC) from the 60 s sample to the last one.
const HEAP_GROWTH_BOUND = 0.1;
const TOKEN = 'soak-test-token-0123456789';

let redis: RedisServer;
let child: ChildProcess;
let base: string;

function nextMessage<T>(type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { type: string }) => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as T);
    };
    const onExit = (code: number | null) => reject(new Error(`soak server exited with ${code}`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

beforeAll(async () => {
  redis = await startRedis();
  child = fork(fileURLToPath(new URL('./soak-server.mjs', import.meta.url)), [redis.url, TOKEN], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port } = await nextMessage<{ port: number }>('listening');
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send({ type: 'stop' });
    await exited;
  }
  await redis?.stop();
});

test(`soak: ${DURATION_MS / 1000} s of mixed load, no error, flat heap`, async () => {
  const ns = uniqueNamespace('soak');
  const v1 = `${base}/v1/namespaces/${ns}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  let running = true;
  let seed = 1;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };

  const one = async (): Promise<void> => {
    const uid = `u${random(UIDS)}`;
    const link = `${v1}/users/${uid}/links/room`;
    const pick = random(100);
    let reply: Awaited<ReturnType<typeof call>>;
    let expected = 200;
    if (pick < 35) reply = await call(link, { headers: auth });
    else if (pick < 45) reply = await call(`${link}?persistentOnly=true`, { headers: auth });
    else if (pick < 58) {
      const mode = (['set', 'try', 'if-absent'] as const)[random(3)];
      reply = await call(link, {
        method: 'PUT',
        headers: auth,
        body: { podId: random(8), persistSeconds: random(2) ? -1 : 300, mode },
      });
    } else if (pick < 63) {
      reply = await call(`${link}?keepSeconds=-1`, { method: 'DELETE', headers: auth });
    } else if (pick < 78) reply = await call(`${v1}/services/room/pods`, { headers: auth });
    else if (pick < 85) {
      expected = 204;
      reply = await call(`${v1}/services/room/pods/${random(8)}/state`, {
        method: 'PUT',
        headers: auth,
        body: { state: `load-${random(100)}` },
      });
    } else if (pick < 92) {
      const uids = Array.from({ length: 20 }, () => `u${random(UIDS)}`);
      reply = await call(`${v1}/services/room/links/query`, {
        method: 'POST',
        headers: auth,
        body: { uids },
      });
    } else if (pick < 96) reply = await call(`${v1}/users/${uid}/links`, { headers: auth });
    else reply = await call(`${v1}/services/room/workload`, { headers: auth });
    latencies.push(reply.ms);
    if (reply.status !== expected) {
      const key = `${reply.status} ${codeOf(reply.body) ?? String(reply.body).slice(0, 80)}`;
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  };
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (running) await one();
  });

  const started = performance.now();
  const samples: { at: number; heapUsed: number; rss: number; requests: number }[] = [];
  while (performance.now() - started < DURATION_MS) {
    await sleep(Math.min(SAMPLE_EVERY_MS, DURATION_MS - (performance.now() - started)));
    child.send({ type: 'heap' });
    const heap = await nextMessage<{ heapUsed: number; rss: number }>('heap');
    samples.push({ at: performance.now() - started, ...heap, requests: latencies.length });
  }
  running = false;
  await Promise.all(workers);
  const elapsed = performance.now() - started;

  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  const baseline = samples.find((s) => s.at >= 60_000 - 1000) ?? samples[0]!;
  const last = samples.at(-1)!;
  const growth = (last.heapUsed - baseline.heapUsed) / baseline.heapUsed;
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(
    `[soak] did: ${CONCURRENCY} concurrent HTTP clients, mixed reads and writes on ${UIDS} uids, ` +
      `${(elapsed / 1000).toFixed(0)} s. observed: ${latencies.length} requests ` +
      `(${((latencies.length / elapsed) * 1000).toFixed(0)}/s), ${[...errors.values()].reduce((a, b) => a + b, 0)} errors ` +
      `${JSON.stringify(Object.fromEntries(errors))}; latency p50 ${pct(0.5).toFixed(2)} ms, ` +
      `p99 ${pct(0.99).toFixed(2)} ms, p99.9 ${pct(0.999).toFixed(2)} ms, max ` +
      `${sorted.at(-1)!.toFixed(1)} ms; heap after GC ${samples.map((s) => mb(s.heapUsed)).join(' ')} MB ` +
      `(every ${SAMPLE_EVERY_MS / 1000} s); ${(growth * 100).toFixed(1)}% from ` +
      `${(baseline.at / 1000).toFixed(0)} s to ${(last.at / 1000).toFixed(0)} s (bound ` +
      `${HEAP_GROWTH_BOUND * 100}%); rss ${mb(last.rss)} MB`,
  );
  expect(errors.size).toBe(0);
  expect(latencies.length).toBeGreaterThan(1000);
  expect(growth).toBeLessThan(HEAP_GROWTH_BOUND);
  // Sanity of the pacing: the soak really lasted the stated time.
  expect(elapsed).toBeGreaterThanOrEqual(DURATION_MS - 100);
  // The server's own view agrees: its operation counters moved and none failed.
  const metrics = String((await call(`${base}/metrics`)).body);
  expect(metrics).toMatch(/stateful_executor_operations_total\{[^}]*status="success"[^}]*\} [1-9]/);
  expect(metrics).not.toMatch(
    /stateful_executor_operations_total\{[^}]*status="error"[^}]*\} [1-9]/,
  );
});
