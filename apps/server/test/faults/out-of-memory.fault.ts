// Fault: Redis is full (maxmemory 2mb, noeviction). Writes must answer 507 SR_REDIS_OOM and
// change nothing; reads must keep answering 200.
import { expect, test } from 'vitest';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import { call, codeOf, linkUrl, serverOnRedis } from './server-process.js';

const fixture = serverOnRedis(
  () => startRedis({ args: ['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction'] }),
  (redis) => ['--redis', redis.url, '--log-level', 'warn'],
);

test('Redis out of memory: writes 507 SR_REDIS_OOM and change nothing, reads 200', async () => {
  const redis = fixture.redis();
  const server = fixture.server();
  const ns = uniqueNamespace('oom');
  const base = `${server.url}/v1/namespaces/${ns}`;
  const setup = [
    await call(linkUrl(server.url, ns, 'perm'), {
      method: 'PUT',
      body: { podId: 4, persistSeconds: -1, mode: 'set' },
    }),
    await call(`${base}/services/room/pods/0/state`, { method: 'PUT', body: { state: 'READY' } }),
    await call(`${base}/services/room/workload`, { method: 'PUT', body: { state: 'w1' } }),
  ];
  expect(setup.map((r) => r.status)).toEqual([200, 204, 204]);

  const admin = redis.client();
  const chunk = 'x'.repeat(16 * 1024);
  let filled = 0;
  for (;;) {
    try {
      await admin.set(`filler:${filled}`, chunk);
      filled++;
    } catch {
      break;
    }
  }
  const snapshot = async () => {
    const keys = (await admin.keys(`sf:{${ns}:*`)).sort();
    return Promise.all(keys.map(async (k) => [k, (await admin.dumpBuffer(k))?.toString('hex')]));
  };
  const before = await snapshot();

  const writes = {
    set: await call(linkUrl(server.url, ns, 'new'), {
      method: 'PUT',
      body: { podId: 1, persistSeconds: -1, mode: 'set' },
    }),
    try: await call(linkUrl(server.url, ns, 'perm'), {
      method: 'PUT',
      body: { podId: 4, persistSeconds: 60, mode: 'try' },
    }),
    ifAbsent: await call(linkUrl(server.url, ns, 'new'), {
      method: 'PUT',
      body: { podId: 1, persistSeconds: 60, mode: 'if-absent' },
    }),
    state: await call(`${base}/services/room/pods/1/state`, {
      method: 'PUT',
      body: { state: 'READY' },
    }),
    workload: await call(`${base}/services/room/workload`, {
      method: 'PUT',
      body: { state: 'w2' },
    }),
  };
  const reads = {
    link: await call(linkUrl(server.url, ns, 'perm')),
    persistent: await call(`${linkUrl(server.url, ns, 'perm')}?persistentOnly=true`),
    links: await call(`${base}/users/perm/links`),
    batch: await call(`${base}/services/room/links/query`, {
      method: 'POST',
      body: { uids: ['perm', 'new'] },
    }),
    pods: await call(`${base}/services/room/pods`),
    workload: await call(`${base}/services/room/workload`),
  };
  const after = await snapshot();
  const summary = (r: Record<string, { status: number; body: unknown }>) =>
    Object.entries(r)
      .map(([k, v]) => `${k} ${v.status}${v.status >= 400 ? ` ${codeOf(v.body)}` : ''}`)
      .join(', ');
  console.log(
    `[fault out-of-memory/server] did: maxmemory 2mb noeviction, filled with ${filled} x 16 KiB. ` +
      `observed: writes: ${summary(writes)}; reads: ${summary(reads)}`,
  );
  for (const reply of Object.values(writes)) {
    expect(reply.status).toBe(507);
    expect(codeOf(reply.body)).toBe('SR_REDIS_OOM');
  }
  expect(reads.link).toMatchObject({ status: 200, body: { podId: 4 } });
  expect(reads.persistent).toMatchObject({ status: 200, body: { podId: 4 } });
  expect(reads.links).toMatchObject({ status: 200, body: { links: { room: 4 } } });
  expect(reads.batch).toMatchObject({ status: 200, body: { pods: { 4: ['perm'] } } });
  expect(reads.pods).toMatchObject({ status: 200, body: { pods: { 0: 'READY' } } });
  expect(reads.workload).toMatchObject({ status: 200, body: { state: 'w1' } });
  expect(after).toEqual(before);
  admin.disconnect();
});
