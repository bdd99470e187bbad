// Fault: Redis dies (SIGKILL) in the middle of a load through the server, stays down for a
// while, and comes back with its data (append-only file, fsync always). Requests during the
// outage must fail fast with 503 and a typed code, /metrics must show the lost connection,
// the server must recover by itself, and every link acknowledged before the outage must
// read back unchanged.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import {
  call,
  codeOf,
  connectionStatus,
  linkUrl,
  percentile,
  serverOnRedis,
} from './server-process.js';

const COMMAND_TIMEOUT_MS = 300;
// "Fast" is checked twice: 95% of the requests end within the command timeout plus MARGIN_MS
// (the HTTP round trip and scheduling on a busy 2-core machine), and none waits anywhere
// near the outage (a client without a command timeout would wait all of it).
const MARGIN_MS = 700;
const HANG_MS = COMMAND_TIMEOUT_MS + 2000;
const OUTAGE_MS = 4000;
const RECOVERY_BOUND_MS = 5000;

const fixture = serverOnRedis(
  () => startRedis({ persistent: true }),
  (redis) => [
    '--redis',
    redis.url,
    '--command-timeout-ms',
    String(COMMAND_TIMEOUT_MS),
    '--log-level',
    'warn',
  ],
);

interface Outcome {
  at: number;
  end: number;
  status: number;
  code: string | undefined;
  kind: 'read' | 'write';
}

test('Redis restart under load: fast 503s, visible in /metrics, self-healing, no loss', async () => {
  const redis = fixture.redis();
  const server = fixture.server();
  const ns = uniqueNamespace('restart');
  const PRE = 200;
  for (let i = 0; i < PRE; i++) {
    const reply = await call(linkUrl(server.url, ns, `pre-${i}`), {
      method: 'PUT',
      body: { podId: i, persistSeconds: -1, mode: 'set' },
    });
    expect(reply.status).toBe(200);
  }

  const outcomes: Outcome[] = [];
  const acknowledged = new Map<string, number>();
  let running = true;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const n = (w * 31 + i) % PRE;
      const read = await call(linkUrl(server.url, ns, `pre-${n}`));
      outcomes.push({
        at: performance.now() - read.ms,
        end: performance.now(),
        status: read.status,
        code: codeOf(read.body),
        kind: 'read',
      });
      if (read.status === 200) expect(read.body).toEqual({ podId: n });
      const uid = `load-${w}-${i}`;
      const write = await call(linkUrl(server.url, ns, uid), {
        method: 'PUT',
        body: { podId: i, persistSeconds: -1, mode: 'set' },
      });
      outcomes.push({
        at: performance.now() - write.ms,
        end: performance.now(),
        status: write.status,
        code: codeOf(write.body),
        kind: 'write',
      });
      if (write.status === 200) acknowledged.set(uid, i);
      if (read.status !== 200 || write.status !== 200) await sleep(20);
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  await sleep(1000);

  const killedAt = performance.now();
  await redis.kill('SIGKILL');
  console.log(`[fault redis-restart] did: SIGKILL Redis under 8 concurrent HTTP clients`);
  const statusSamples: Record<string, number>[] = [];
  let healthzDuringOutage = 0;
  while (performance.now() - killedAt < OUTAGE_MS) {
    await sleep(500);
    const metrics = await call(`${server.url}/metrics`);
    statusSamples.push(connectionStatus(String(metrics.body)));
    if ((await call(`${server.url}/healthz`)).status === 200) healthzDuringOutage++;
  }
  const readyDuringOutage = await call(`${server.url}/readyz`);
  // Recovery is measured from the moment Redis is started again (its boot included).
  const restartedAt = performance.now();
  await redis.restart();
  console.log(
    `[fault redis-restart] did: restarted Redis ${(restartedAt - killedAt).toFixed(0)} ms after ` +
      `the kill; it answered PING ${(performance.now() - restartedAt).toFixed(0)} ms later`,
  );

  // Recovered: 1 s of nothing but 200s after the restart.
  let recoveredAt: number | undefined;
  while (performance.now() - restartedAt < RECOVERY_BOUND_MS + 2000) {
    await sleep(100);
    const lastFailure = outcomes.findLast((o) => o.status !== 200)?.end ?? 0;
    const okSince = outcomes.filter((o) => o.at > lastFailure && o.status === 200).length;
    if (lastFailure > 0 && okSince > 20 && performance.now() - lastFailure > 1000) {
      recoveredAt = Math.max(lastFailure, restartedAt);
      break;
    }
  }
  running = false;
  await Promise.all(workers);
  const metricsAfter = connectionStatus(String((await call(`${server.url}/metrics`)).body));

  const failed = outcomes.filter((o) => o.status !== 200);
  const statuses = [...new Set(failed.map((o) => `${o.status} ${o.code}`))];
  const slowest = Math.max(...outcomes.map((o) => o.end - o.at));
  const slowestFailed = Math.max(0, ...failed.map((o) => o.end - o.at));
  const p95 = percentile(
    outcomes.map((o) => o.end - o.at),
    0.95,
  );
  const recoveryMs = recoveredAt === undefined ? Infinity : recoveredAt - restartedAt;
  console.log(
    `[fault redis-restart] observed: ${outcomes.length} requests, ${failed.length} failed ` +
      `(${statuses.join(', ')}); slowest failed request ${slowestFailed.toFixed(0)} ms, slowest ` +
      `request ${slowest.toFixed(0)} ms, p95 ${p95.toFixed(0)} ms (command timeout ` +
      `${COMMAND_TIMEOUT_MS} ms, outage ${OUTAGE_MS} ms); ` +
      `connection status during the outage ${JSON.stringify(statusSamples)}, after ` +
      `${JSON.stringify(metricsAfter)}; /readyz during the outage ${readyDuringOutage.status}; ` +
      `/healthz answered ${healthzDuringOutage}/${statusSamples.length}; all requests 200 again ` +
      `${recoveryMs.toFixed(0)} ms after the restart began (bound ${RECOVERY_BOUND_MS} ms)`,
  );

  // Requests during the outage failed, fast, with 503 and a backend code.
  expect(failed.length).toBeGreaterThan(0);
  for (const o of failed) {
    expect(o.status).toBe(503);
    expect(['SR_REDIS_CONNECTION', 'SR_REDIS_TIMEOUT']).toContain(o.code);
  }
  expect(p95).toBeLessThan(COMMAND_TIMEOUT_MS + MARGIN_MS);
  expect(slowest).toBeLessThan(HANG_MS);
  // The outage showed on /metrics: no connection ready while Redis was down, ready after.
  expect(statusSamples.length).toBeGreaterThan(0);
  for (const sample of statusSamples) expect(sample.ready ?? 0).toBe(0);
  expect(metricsAfter.ready).toBeGreaterThanOrEqual(1);
  expect(readyDuringOutage.status).toBe(503);
  expect(healthzDuringOutage).toBe(statusSamples.length);
  expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);

  // Nothing acknowledged was lost.
  const lost: string[] = [];
  for (let i = 0; i < PRE; i++) {
    const read = await call(`${linkUrl(server.url, ns, `pre-${i}`)}?persistentOnly=true`);
    if ((read.body as { podId?: number }).podId !== i) lost.push(`pre-${i}`);
  }
  for (const [uid, pod] of acknowledged) {
    const read = await call(`${linkUrl(server.url, ns, uid)}?persistentOnly=true`);
    if ((read.body as { podId?: number }).podId !== pod) lost.push(uid);
  }
  console.log(
    `[fault redis-restart] observed: ${PRE + acknowledged.size - lost.length}/` +
      `${PRE + acknowledged.size} acknowledged permanent links read back unchanged`,
  );
  expect(lost).toEqual([]);
});
