// Fault: Redis stops answering (CLIENT PAUSE). Every request that needs Redis must fail with
// 503 SR_REDIS_TIMEOUT at the command timeout, and /healthz must keep answering at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import { call, codeOf, linkUrl, percentile, serverOnRedis } from './server-process.js';

const COMMAND_TIMEOUT_MS = 300;
// 95% of requests end within the timeout plus this; none waits for the pause to end.
const MARGIN_MS = 500;
const HANG_MS = 1500;
const PAUSE_MS = 2500;

const fixture = serverOnRedis(
  () => startRedis(),
  (redis) => [
    '--redis',
    redis.url,
    '--command-timeout-ms',
    String(COMMAND_TIMEOUT_MS),
    '--log-level',
    'warn',
  ],
);

test('slow Redis: 503 SR_REDIS_TIMEOUT at the command timeout, /healthz answers', async () => {
  const redis = fixture.redis();
  const server = fixture.server();
  const ns = uniqueNamespace('slow');
  const base = `${server.url}/v1/namespaces/${ns}`;
  expect(
    (
      await call(linkUrl(server.url, ns, 'u1'), {
        method: 'PUT',
        body: { podId: 1, persistSeconds: -1, mode: 'set' },
      })
    ).status,
  ).toBe(200);
  const admin = redis.client();
  await admin.call('CLIENT', 'PAUSE', String(PAUSE_MS), 'ALL');
  const pausedAt = performance.now();

  const requests: [string, Parameters<typeof call>[1]][] = [
    [linkUrl(server.url, ns, 'u1'), {}],
    [`${linkUrl(server.url, ns, 'u1')}?persistentOnly=true`, {}],
    [
      linkUrl(server.url, ns, 'u2'),
      { method: 'PUT', body: { podId: 2, persistSeconds: 60, mode: 'try' } },
    ],
    [`${linkUrl(server.url, ns, 'u3')}?keepSeconds=-1`, { method: 'DELETE' }],
    [`${base}/users/u1/links`, {}],
    [`${base}/services/room/links/query`, { method: 'POST', body: { uids: ['u1', 'u2'] } }],
    [`${base}/services/room/pods/0/state`, { method: 'PUT', body: { state: 'READY' } }],
    [`${base}/services/room/pods`, {}],
    [`${base}/services/room/workload`, {}],
    [`${base}/workloads/query`, { method: 'POST', body: { services: ['room', 'lobby'] } }],
  ];
  const results: { url: string; status: number; code: string | undefined; ms: number }[] = [];
  const healthz: number[] = [];
  let healthzFailures = 0;
  const probing = (async () => {
    while (performance.now() - pausedAt < PAUSE_MS - 300) {
      const reply = await call(`${server.url}/healthz`);
      if (reply.status !== 200) healthzFailures++;
      healthz.push(reply.ms);
      await sleep(50);
    }
  })();
  while (performance.now() - pausedAt < PAUSE_MS - COMMAND_TIMEOUT_MS - MARGIN_MS) {
    const wave = await Promise.all(requests.map(([url, init]) => call(url, init)));
    wave.forEach((reply, i) =>
      results.push({
        url: requests[i]![0],
        status: reply.status,
        code: codeOf(reply.body),
        ms: reply.ms,
      }),
    );
  }
  await probing;
  const codes = [...new Set(results.map((r) => `${r.status} ${r.code}`))];
  const slowest = Math.max(...results.map((r) => r.ms));
  const p95 = percentile(
    results.map((r) => r.ms),
    0.95,
  );
  const fastest = Math.min(...results.map((r) => r.ms));
  console.log(
    `[fault slow-redis/server] did: CLIENT PAUSE ${PAUSE_MS} ALL, --command-timeout-ms ` +
      `${COMMAND_TIMEOUT_MS}. observed: ${results.length} requests on 10 routes -> ` +
      `${codes.join(', ')}, ${fastest.toFixed(0)} to ${slowest.toFixed(0)} ms (p95 ` +
      `${p95.toFixed(0)} ms); /healthz ` +
      `answered ${healthz.length - healthzFailures}/${healthz.length} times, slowest ` +
      `${Math.max(...healthz).toFixed(0)} ms`,
  );
  expect(results.length).toBeGreaterThanOrEqual(30);
  expect(codes).toEqual(['503 SR_REDIS_TIMEOUT']);
  expect(fastest).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 5);
  expect(p95).toBeLessThan(COMMAND_TIMEOUT_MS + MARGIN_MS);
  expect(slowest).toBeLessThan(HANG_MS);
  expect(healthzFailures).toBe(0);
  expect(healthz.length).toBeGreaterThanOrEqual(10);
  expect(Math.max(...healthz)).toBeLessThan(300);

  // Once Redis answers again, so does the server, with the data intact. A timed-out write
  // is indeterminate, not undone: Redis may still run the queued command when it wakes up.
  await sleep(Math.max(0, PAUSE_MS + 300 - (performance.now() - pausedAt)));
  const after = await call(linkUrl(server.url, ns, 'u1'));
  expect(after).toMatchObject({ status: 200, body: { podId: 1 } });
  const timedOutWrite = await call(linkUrl(server.url, ns, 'u2'));
  const applied = (timedOutWrite.body as { podId?: number }).podId === 2;
  console.log(
    `[fault slow-redis/server] observed: after the pause, u1 still -> ${JSON.stringify(after.body)}; ` +
      `u2, whose writes all timed out, -> ${JSON.stringify(timedOutWrite.body)}: the timed-out ` +
      `write was ${applied ? '' : 'not '}applied after all (a timeout is indeterminate)`,
  );
  admin.disconnect();
});
