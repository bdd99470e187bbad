// Fault: SCRIPT FLUSH again and again while the server is under load. No request may fail:
// the executor answers NOSCRIPT by sending the script once more.
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, test } from 'vitest';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import { call, codeOf, linkUrl, serverOnRedis } from './server-process.js';

const fixture = serverOnRedis(
  () => startRedis(),
  (redis) => ['--redis', redis.url, '--log-level', 'warn'],
);

test('SCRIPT FLUSH during load through the server: no failed request', async () => {
  const redis = fixture.redis();
  const server = fixture.server();
  const ns = uniqueNamespace('flush');
  const failures: string[] = [];
  let requests = 0;
  let running = true;
  const modes = ['set', 'try', 'if-absent'] as const;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const url = linkUrl(server.url, ns, `u${w}-${i % 40}`);
      const replies = [
        await call(url, {
          method: 'PUT',
          body: { podId: i % 5, persistSeconds: i % 2 ? -1 : 60, mode: modes[i % 3] },
        }),
        await call(`${url}?persistentOnly=true`),
        await call(`${url}?podId=${(i + 1) % 5}&keepSeconds=-1`, { method: 'DELETE' }),
      ];
      requests += replies.length;
      for (const reply of replies) {
        if (reply.status !== 200) failures.push(`${reply.status} ${codeOf(reply.body)}`);
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  const admin = redis.client();
  // A fixed number of flushes, 100 ms apart, however slow the machine is.
  const FLUSHES = 20;
  let flushes = 0;
  const started = performance.now();
  while (flushes < FLUSHES) {
    await sleep(100);
    await admin.script('FLUSH');
    flushes++;
  }
  const elapsed = performance.now() - started;
  running = false;
  await Promise.all(workers);
  const metrics = String((await call(`${server.url}/metrics`)).body);
  const reloads = /^stateful_executor_noscript_reloads_total(?:\{[^}]*\})?\s+(\S+)/m.exec(metrics);
  console.log(
    `[fault script-flush/server] did: ${flushes} SCRIPT FLUSH in ${(elapsed / 1000).toFixed(1)} s ` +
      `under 8 HTTP clients. ` +
      `observed: ${requests} requests, ${failures.length} failed; NOSCRIPT reloads on /metrics: ` +
      `${reloads?.[1] ?? 'not found'}`,
  );
  admin.disconnect();
  expect(failures).toEqual([]);
  expect(Number(reloads?.[1])).toBeGreaterThan(0);
});
