// Many concurrent clients run every link operation on a few uids at a time; each uid's
// history is then checked against the contract's sequential model of a link.
import { performance } from 'node:perf_hooks';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, inject, test } from 'vitest';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { createRedisExecutor, type StatefulExecutor } from '@stateful-route/executor-core';
import {
  checkLinearizable,
  describeHistory,
  type HistoryEntry,
  type LinkOp,
  type LinkOutput,
} from './faults/linearizability-checker.js';

const CLIENTS = 6;
const ROUNDS = 20;
const UIDS_PER_ROUND = 2;
const OPS_PER_CLIENT_PER_ROUND = 60;
const PODS = [0, 1, 2];
const SERVICE = 'room';

// A small deterministic PRNG so that a failing run can be replayed from its seed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomOp(random: () => number): LinkOp {
  const pod = PODS[Math.floor(random() * PODS.length)]!;
  const persist = random() < 0.5 ? -1 : 100;
  switch (Math.floor(random() * 7)) {
    case 0:
      return { kind: 'setLinkedPod', pod, persist };
    case 1:
      return { kind: 'trySetLinkedPod', pod, persist };
    case 2:
      return { kind: 'setLinkedPodIfAbsent', pod, persist };
    case 3:
      return { kind: 'getLinkedPod' };
    case 4:
      return { kind: 'getLinkedPodIfPersist' };
    case 5:
      return { kind: 'removeLinkedPod' };
    default:
      return { kind: 'removeLinkedPodWithId', pod };
  }
}

/** The executor call behind one model operation (keepSeconds varies: it has no effect). */
function invoke(
  executor: Pick<StatefulExecutor, LinkOp['kind']>,
  ns: string,
  uid: string,
  op: LinkOp,
): Promise<LinkOutput> {
  switch (op.kind) {
    case 'setLinkedPod':
      return executor.setLinkedPod(ns, uid, SERVICE, { podId: op.pod, persistSeconds: op.persist });
    case 'trySetLinkedPod':
      return executor.trySetLinkedPod(ns, uid, SERVICE, {
        podId: op.pod,
        persistSeconds: op.persist,
      });
    case 'setLinkedPodIfAbsent':
      return executor.setLinkedPodIfAbsent(ns, uid, SERVICE, {
        podId: op.pod,
        persistSeconds: op.persist,
      });
    case 'getLinkedPod':
      return executor.getLinkedPod(ns, uid, SERVICE);
    case 'getLinkedPodIfPersist':
      return executor.getLinkedPodIfPersist(ns, uid, SERVICE);
    case 'removeLinkedPod':
      return executor.removeLinkedPod(ns, uid, SERVICE, { keepSeconds: 30 });
    case 'removeLinkedPodWithId':
      return executor.removeLinkedPodWithId(ns, uid, SERVICE, { podId: op.pod });
  }
}

/**
 * Runs the workload: in each round, every client makes its calls one after the other on
 * uids drawn from that round's few uids, all clients at once. Returns each uid's history.
 */
async function runWorkload(
  clients: Pick<StatefulExecutor, LinkOp['kind']>[],
  seed: number,
): Promise<Map<string, HistoryEntry[]>> {
  const ns = uniqueNamespace('lin');
  const histories = new Map<string, HistoryEntry[]>();
  for (let round = 0; round < ROUNDS; round++) {
    const uids = Array.from({ length: UIDS_PER_ROUND }, (_, i) => `u${round}-${i}`);
    for (const uid of uids) histories.set(uid, []);
    await Promise.all(
      clients.map(async (executor, client) => {
        const random = prng(seed * 1000 + round * CLIENTS + client);
        for (let i = 0; i < OPS_PER_CLIENT_PER_ROUND; i++) {
          const uid = uids[Math.floor(random() * uids.length)]!;
          const op = randomOp(random);
          const call = performance.now();
          const output = await invoke(executor, ns, uid, op);
          const ret = performance.now();
          histories.get(uid)!.push({ client, op, output, call, ret });
        }
      }),
    );
  }
  return histories;
}

function checkAll(histories: Map<string, HistoryEntry[]>): {
  failures: string[];
  ops: number;
  maxOverlap: number;
  explored: number;
} {
  const failures: string[] = [];
  let ops = 0;
  let explored = 0;
  let maxOverlap = 0;
  for (const [uid, history] of histories) {
    ops += history.length;
    for (const e of history) {
      const overlap = history.filter((o) => o.call <= e.ret && o.ret >= e.call).length;
      maxOverlap = Math.max(maxOverlap, overlap);
    }
    const result = checkLinearizable(history);
    explored += result.explored;
    if (!result.linearizable) failures.push(`uid ${uid}:\n${describeHistory(history)}`);
  }
  return { failures, ops, maxOverlap, explored };
}

async function checkBackend(
  label: string,
  makeClient: (autoPipelining: boolean) => Redis | Cluster,
): Promise<void> {
  const connections: (Redis | Cluster)[] = [];
  const connect = (autoPipelining: boolean) => {
    const client = makeClient(autoPipelining);
    connections.push(client);
    return client;
  };
  // Six clients: auto-pipelining on for half, two of them spread over two connections, one
  // sending full script text (EVAL) instead of SHAs.
  const executors = Array.from({ length: CLIENTS }, (_, i) => {
    const autoPipelining = i % 2 === 0;
    return createRedisExecutor({
      name: `lin-${i}`,
      redis: i >= 4 ? [connect(autoPipelining), connect(autoPipelining)] : connect(autoPipelining),
      scriptTransport: i === 3 ? 'eval' : 'evalsha',
    });
  });
  try {
    const seed = Math.floor(Math.random() * 1e6);
    const started = performance.now();
    const histories = await runWorkload(executors, seed);
    const ran = performance.now() - started;
    const checkStarted = performance.now();
    const { failures, ops, maxOverlap, explored } = checkAll(histories);
    console.log(
      `[linearizability ${label}] seed ${seed}: ${ops} calls on ${histories.size} uids by ` +
        `${CLIENTS} clients in ${ran.toFixed(0)} ms; a call overlapped up to ${maxOverlap - 1} ` +
        `others on its uid; checked in ${(performance.now() - checkStarted).toFixed(0)} ms ` +
        `(${explored} steps); ${failures.length} non-linearizable uid(s)`,
    );
    expect(failures, failures.slice(0, 1).join('\n')).toEqual([]);
    expect(maxOverlap).toBeGreaterThanOrEqual(3);
  } finally {
    await Promise.all(executors.map((e) => e.close()));
    for (const c of connections) c.disconnect();
  }
}

describe('link operations are linearizable per uid', () => {
  test('standalone Redis', async () => {
    const url = inject('redisUrl');
    await checkBackend(
      'standalone',
      (enableAutoPipelining) => new Redis(url, { enableAutoPipelining }),
    );
  });

  test('Redis Cluster', async () => {
    const seeds = inject('clusterSeeds');
    await checkBackend(
      'cluster',
      (enableAutoPipelining) => new Cluster(seeds, { enableAutoPipelining }),
    );
  });

  test('the check catches a racy, non-atomic setLinkedPod (GET then SET)', async () => {
    // The same workload against a deliberately broken implementation that does in two round
    // trips what the script does atomically: the checker must find a lost update.
    const url = inject('redisUrl');
    const raw = Array.from({ length: CLIENTS }, () => new Redis(url));
    const ns = uniqueNamespace('racy');
    try {
      const histories = new Map<string, HistoryEntry[]>();
      await Promise.all(
        raw.map(async (redis, client) => {
          const random = prng(client + 1);
          for (let i = 0; i < 100; i++) {
            const uid = `u${i % 4}`;
            const pod = PODS[Math.floor(random() * PODS.length)]!;
            const key = `sf:{${ns}:lk:${uid}}${SERVICE}`;
            const call = performance.now();
            const previous = await redis.get(key);
            await redis.set(key, String(pod));
            const ret = performance.now();
            if (!histories.has(uid)) histories.set(uid, []);
            histories.get(uid)!.push({
              client,
              op: { kind: 'setLinkedPod', pod, persist: 100 },
              output: previous === null ? -1 : Number(previous),
              call,
              ret,
            });
          }
        }),
      );
      const { failures } = checkAll(histories);
      console.log(
        `[linearizability racy] ${failures.length} of ${histories.size} uids non-linearizable`,
      );
      expect(failures.length).toBeGreaterThan(0);
    } finally {
      for (const r of raw) r.disconnect();
    }
  });
});
