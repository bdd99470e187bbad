/**
 * Placement (issue 17) beside the way routers place users today, side by side in one run on
 * real redis-servers (a standalone one and a 3-master Cluster started here):
 * - `allocate`: one call per new user (claim and link; docs/placement.md).
 * - `read-all + setLinkedPodIfAbsent`: the router reads every pod's state (the load each pod
 *   last reported), picks the least loaded one below capacity, and links the user to it with
 *   `setLinkedPodIfAbsent`. Pods report their load every `REPORT_MS` (as pods do), so routers
 *   act on figures up to that old.
 * Each round places `USERS` new users on `PODS` pods whose capacities add up to exactly
 * `USERS`, through `ROUTERS` executors (own connections) with 64 calls in flight in all, so a
 * pod can only be overfilled by a wrong choice. The two ways alternate, each in a fresh
 * namespace, and each is timed with tinybench (one iteration = one round).
 *
 * Printed per topology: allocations/s (median over rounds), p99 latency of one placement,
 * users placed above capacity (summed over pods, at the end of each round: the worst round) and
 * users refused. Then the sweep of a dead pod's 20 000 links at batch 100 and 200, with the
 * longest single Redis call (SLOWLOG). Never fails on figures.
 *
 * Run: pnpm --filter @stateful-route/executor-core bench:placement
 * Env: BENCH_ROUNDS (default 5), BENCH_USERS (default 10 000).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Cluster, Redis } from 'ioredis';
import { Bench } from 'tinybench';
import {
  startRedis,
  startRedisCluster,
  uniqueNamespace,
  type RedisClusterServer,
  type RedisServer,
} from '@stateful-route/test-redis';
import {
  createRedisExecutor,
  type RedisClient,
  type RedisExecutor,
} from '@stateful-route/executor-core';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const PODS = 50;
const CAPACITY = Math.ceil(USERS / PODS);
const ROUTERS = 4;
const IN_FLIGHT = 64;
const REPORT_MS = 100;
const SVC = 'room';

interface Figures {
  rate: number[];
  p99: number[];
  over: number[];
  refused: number[];
}

interface Round {
  latencies: number[];
  over: number;
  refused: number;
}

// Runs `place` for USERS new uids, IN_FLIGHT at a time spread over the routers.
async function drive(
  routers: readonly RedisExecutor[],
  place: (router: RedisExecutor, uid: string) => Promise<boolean>,
): Promise<{ latencies: number[]; refused: number }> {
  const latencies: number[] = [];
  let refused = 0;
  let next = 0;
  const worker = async (router: RedisExecutor): Promise<void> => {
    while (next < USERS) {
      const uid = `u-${next++}`;
      const started = performance.now();
      const placed = await place(router, uid);
      latencies.push(performance.now() - started);
      if (!placed) refused += 1;
    }
  };
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, (_, i) => worker(routers[i % routers.length]!)),
  );
  return { latencies, refused };
}

async function allocateRound(routers: readonly RedisExecutor[]): Promise<Round> {
  const ns = uniqueNamespace('bench-pl');
  const admin = routers[0]!;
  for (let pod = 0; pod < PODS; pod++) {
    await admin.registerPod(ns, SVC, pod, { capacity: CAPACITY, ttlSeconds: 600 });
  }
  const { latencies, refused } = await drive(routers, async (router, uid) => {
    try {
      await router.allocate(ns, uid, SVC, { persistSeconds: -1 });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'SR_NO_CAPACITY') return false;
      throw error;
    }
  });
  const { pods } = await admin.placement(ns, SVC);
  const over = Object.values(pods).reduce((sum, pod) => sum + Math.max(0, pod.load - CAPACITY), 0);
  await admin.deleteNamespaceKeys(ns);
  return { latencies, over, refused };
}

async function readAllRound(routers: readonly RedisExecutor[]): Promise<Round> {
  const ns = uniqueNamespace('bench-ra');
  const admin = routers[0]!;
  // What each pod knows: the users linked to it. It reports the count every REPORT_MS.
  const users = new Array<number>(PODS).fill(0);
  const report = () =>
    Promise.all(users.map((load, pod) => admin.setServiceState(ns, SVC, pod, String(load))));
  await report();
  let reporting = true;
  const reporter = (async () => {
    while (reporting) {
      await new Promise((resolve) => setTimeout(resolve, REPORT_MS));
      await report();
    }
  })();
  const { latencies, refused } = await drive(routers, async (router, uid) => {
    const states = await router.getServiceState(ns, SVC);
    let best = -1;
    let bestLoad = Infinity;
    for (const [pod, state] of Object.entries(states)) {
      const load = Number(state);
      if (load < CAPACITY && load < bestLoad) {
        best = Number(pod);
        bestLoad = load;
      }
    }
    if (best === -1) return false;
    const linked = await router.setLinkedPodIfAbsent(ns, uid, SVC, {
      podId: best,
      persistSeconds: -1,
    });
    users[linked] = (users[linked] ?? 0) + 1;
    return true;
  });
  reporting = false;
  await reporter;
  const over = users.reduce((sum, load) => sum + Math.max(0, load - CAPACITY), 0);
  await admin.deleteNamespaceKeys(ns);
  return { latencies, over, refused };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

async function measure(topology: string, connect: () => RedisClient): Promise<void> {
  const routers = Array.from({ length: ROUTERS }, (_, i) =>
    createRedisExecutor({ redis: connect(), name: `router-${i}`, closeClients: true }),
  );
  await Promise.all(routers.map((router) => router.loadScripts()));
  const ways: [string, (routers: readonly RedisExecutor[]) => Promise<Round>][] = [
    ['allocate', allocateRound],
    ['read-all + setLinkedPodIfAbsent', readAllRound],
  ];
  const figures = new Map<string, Figures>(
    ways.map(([name]) => [name, { rate: [], p99: [], over: [], refused: [] }]),
  );
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ iterations: 1, time: 0, warmup: false });
    // Alternate the order so that drift on the machine hits both ways.
    for (const [name, run] of round % 2 ? [...ways].reverse() : ways) {
      bench.add(name, async () => {
        const result = await run(routers);
        const f = figures.get(name)!;
        f.p99.push(p99(result.latencies));
        f.over.push(result.over);
        f.refused.push(result.refused);
      });
    }
    await bench.run();
    for (const task of bench.tasks) {
      if (task.result.state !== 'completed') throw new Error(`${task.name}: ${task.result.state}`);
      figures.get(task.name)!.rate.push(USERS / (task.result.period / 1000));
    }
  }
  await Promise.all(routers.map((router) => router.close()));
  console.log(`\n${topology}: ${USERS} new users per round on ${PODS} pods of ${CAPACITY}`);
  console.table(
    ways.map(([name]) => {
      const f = figures.get(name)!;
      return {
        way: name,
        'allocations/s': Math.round(median(f.rate)),
        'p99 ms': Number(median(f.p99).toFixed(2)),
        'over capacity (worst round)': Math.max(...f.over),
        'refused (worst round)': Math.max(...f.refused),
      };
    }),
  );
}

// The sweep of one dead pod's links at two batch sizes, with every Redis command's duration
// logged (SLOWLOG at 0 µs): the longest single call is what the 5 ms bound is about.
async function measureSweep(url: string): Promise<void> {
  const LINKS = 20_000;
  const client = new Redis(url, { enableAutoPipelining: true });
  const executor = createRedisExecutor({ redis: client, name: 'sweeper' });
  await executor.loadScripts();
  const rows = [];
  for (const batch of [100, 200]) {
    const ns = uniqueNamespace('bench-sweep');
    await executor.registerPod(ns, SVC, 1, { capacity: LINKS, ttlSeconds: 600 });
    for (let i = 0; i < LINKS; i += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, k) =>
          executor.allocate(ns, `u-${i + k}`, SVC, { persistSeconds: -1 }),
        ),
      );
    }
    // The last heartbeat, with a 1 s lease: then the pod is dead.
    await executor.registerPod(ns, SVC, 1, { capacity: LINKS, ttlSeconds: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await client.config('SET', 'slowlog-log-slower-than', '0');
    await client.config('SET', 'slowlog-max-len', String(LINKS * 50));
    await client.slowlog('RESET');
    const started = performance.now();
    const result = await executor.sweepDeadPods(ns, SVC, { batch });
    const ms = performance.now() - started;
    // The bench's own SLOWLOG RESET (freeing the previous entries) is not the sweep's.
    const log = (
      (await client.slowlog('GET', LINKS * 50)) as [number, number, number, string[]][]
    ).filter((entry) => !/^(slowlog|config)$/i.test(entry[3][0] ?? ''));
    await client.config('SET', 'slowlog-log-slower-than', '10000');
    const scripts = log.filter((entry) => /^evalsha$/i.test(entry[3][0] ?? ''));
    const longest = log.reduce((most, entry) => (entry[2] > most[2] ? entry : most), log[0]!);
    rows.push({
      batch,
      'links swept': result.swept,
      'sweep ms': Math.round(ms),
      'Redis calls': log.length,
      'longest call µs': longest[2],
      'longest call': (longest[3] ?? []).slice(0, 2).join(' ').slice(0, 40),
      'longest script µs': scripts.reduce((most, entry) => Math.max(most, entry[2]), 0),
    });
    await executor.deleteNamespaceKeys(ns);
  }
  await executor.close();
  client.disconnect();
  console.log(`\nsweep of a dead pod with ${LINKS} links (standalone, SLOWLOG at 0 µs)`);
  console.table(rows);
}

async function main(): Promise<void> {
  console.log(
    `placement bench: ${ROUNDS} rounds, ${ROUTERS} routers, ${IN_FLIGHT} in flight, pods report every ${REPORT_MS} ms; ` +
      `node ${process.version}, ${os.cpus().length} cpus`,
  );
  let standalone: RedisServer | undefined;
  let cluster: RedisClusterServer | undefined;
  try {
    standalone = await startRedis();
    const url = standalone.url;
    await measure('standalone', () => new Redis(url, { enableAutoPipelining: true }));
    await measureSweep(url);
    cluster = await startRedisCluster();
    const seeds = cluster.seeds;
    await measure('cluster (3 masters)', () => new Cluster(seeds, { enableAutoPipelining: true }));
  } finally {
    await standalone?.stop();
    await cluster?.stop();
  }
}

await main();
