// Fault: a Redis Cluster master dies (SIGKILL) under load through the server. Requests to its
// slots fail fast with 503 and a typed code until its replica is promoted, then the server
// recovers by itself; every permanent link the replica had before the kill reads back.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  startRedisCluster,
  uniqueNamespace,
  type RedisClusterServer,
  type RedisServer,
} from '@stateful-route/test-redis';
import { call, codeOf, linkUrl, startServer, type ServerProcess } from './server-process.js';

const COMMAND_TIMEOUT_MS = 500;
const MARGIN_MS = 700;
const RECOVERY_BOUND_MS = 8000;

let cluster: RedisClusterServer;
let server: ServerProcess;
beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000 });
  server = await startServer([
    '--redis-cluster',
    cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
    '--command-timeout-ms',
    String(COMMAND_TIMEOUT_MS),
    '--log-level',
    'error',
  ]);
});
afterAll(async () => {
  await server?.stop();
  await cluster?.stop();
});

async function replicationOffset(node: RedisServer, field: string): Promise<number> {
  const client = node.client();
  try {
    const info = await client.info('replication');
    return Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? -1);
  } finally {
    client.disconnect();
  }
}

test('master failover through the server: fast 503s, self-healing, replicated links kept', async () => {
  const ns = uniqueNamespace('sfo');
  const PRE = 200;
  for (let i = 0; i < PRE; i++) {
    const reply = await call(linkUrl(server.url, ns, `pre-${i}`), {
      method: 'PUT',
      body: { podId: i, persistSeconds: -1, mode: 'set' },
    });
    expect(reply.status).toBe(200);
  }
  // The replicas have everything: each one's processed offset reached its master's.
  for (const [i, master] of cluster.masters.entries()) {
    const target = await replicationOffset(master, 'master_repl_offset');
    const replica = cluster.replicas[i]!;
    const deadline = Date.now() + 5000;
    while ((await replicationOffset(replica, 'slave_repl_offset')) < target) {
      if (Date.now() > deadline) throw new Error(`replica ${replica.port} did not catch up`);
      await sleep(20);
    }
  }

  const outcomes: { at: number; end: number; status: number; code: string | undefined }[] = [];
  let running = true;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const n = (w * 53 + i) % PRE;
      const reply =
        i % 2
          ? await call(linkUrl(server.url, ns, `pre-${n}`))
          : await call(linkUrl(server.url, ns, `load-${w}-${i}`), {
              method: 'PUT',
              body: { podId: i, persistSeconds: 60, mode: 'set' },
            });
      const end = performance.now();
      outcomes.push({ at: end - reply.ms, end, status: reply.status, code: codeOf(reply.body) });
      if (reply.status === 200 && i % 2) expect(reply.body).toEqual({ podId: n });
      if (reply.status !== 200) await sleep(20);
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  await sleep(1000);
  const victim = cluster.masters[0]!;
  const killedAt = performance.now();
  await victim.kill('SIGKILL');
  console.log(`[fault cluster-failover/server] did: SIGKILL master :${victim.port} under load`);

  let recoveredAt: number | undefined;
  while (performance.now() - killedAt < RECOVERY_BOUND_MS + 3000) {
    await sleep(100);
    const lastFailure = outcomes.findLast((o) => o.status !== 200)?.end;
    if (lastFailure === undefined) continue;
    const okSince = outcomes.filter((o) => o.at > lastFailure).length;
    if (okSince > 50 && performance.now() - lastFailure > 1500) {
      recoveredAt = lastFailure;
      break;
    }
  }
  running = false;
  await Promise.all(workers);
  const failed = outcomes.filter((o) => o.status !== 200);
  const statuses = [...new Set(failed.map((o) => `${o.status} ${o.code}`))];
  const slowest = Math.max(...outcomes.map((o) => o.end - o.at));
  const recoveryMs = recoveredAt === undefined ? Infinity : recoveredAt - killedAt;
  console.log(
    `[fault cluster-failover/server] observed: ${outcomes.length} requests, ${failed.length} ` +
      `failed (${statuses.join(', ')}); slowest request ${slowest.toFixed(0)} ms (command ` +
      `timeout ${COMMAND_TIMEOUT_MS} ms); all requests 200 again ${recoveryMs.toFixed(0)} ms ` +
      `after the kill (bound ${RECOVERY_BOUND_MS} ms)`,
  );
  for (const o of failed) {
    expect(o.status).toBe(503);
    expect(['SR_REDIS_CONNECTION', 'SR_REDIS_TIMEOUT', 'SR_REDIS_CLUSTER']).toContain(o.code);
  }
  expect(slowest).toBeLessThan(COMMAND_TIMEOUT_MS + MARGIN_MS);
  expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);

  await cluster.waitForOk();
  const lost: number[] = [];
  for (let i = 0; i < PRE; i++) {
    const read = await call(`${linkUrl(server.url, ns, `pre-${i}`)}?persistentOnly=true`);
    if ((read.body as { podId?: number }).podId !== i) lost.push(i);
  }
  console.log(
    `[fault cluster-failover/server] observed: ${PRE - lost.length}/${PRE} replicated permanent ` +
      `links read back`,
  );
  expect(lost).toEqual([]);
});
