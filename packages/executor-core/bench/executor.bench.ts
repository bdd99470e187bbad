/**
 * Executor overhead against bare ioredis, side by side in one run on one real redis-server:
 * setLinkedPod with the EVAL transport and with the default (EVALSHA) one, and
 * getServiceState, each sequential and with 64 calls in flight. The bare calls send the same
 * commands (the same script by SHA or as text, HGETALL) through the same client, so the
 * ratio executor/bare is the executor's own cost. Prints a table; never fails on figures.
 *
 * A second table measures the executor's own CPU per call against a client stub that answers
 * at once (no socket, no Redis), which isolates the overhead from a noisy machine.
 *
 * Run: pnpm --filter @stateful-route/executor-core bench   (or `pnpm bench` at the root)
 * Env: BENCH_TIME_MS (per task and round, default 150), BENCH_ROUNDS (default 6).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { startRedis, uniqueNamespace } from '@stateful-route/test-redis';
import { createRedisExecutor, type StatefulExecutor } from '@stateful-route/executor-core';

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 150);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const IN_FLIGHT = 64;
const UIDS = 1024;

// The package's own script file, so the bare calls run exactly what the executor runs.
const SET_LINKED_POD = readFileSync(
  new URL('../../lua/set-linked-pod.lua', import.meta.url),
  'utf8',
);
const SET_LINKED_POD_SHA = createHash('sha1').update(SET_LINKED_POD).digest('hex');

type Call = (i: number) => Promise<unknown>;

interface Case {
  name: string;
  executor: Call;
  bare: Call;
}

// CPU time, not wall time: on a shared machine other processes stretch wall time, while
// the CPU this process spends per call is what the executor adds.
async function cpuPerCall(call: Call, calls: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i += IN_FLIGHT) {
    const batch: Promise<unknown>[] = new Array(IN_FLIGHT);
    for (let k = 0; k < IN_FLIGHT; k++) batch[k] = call(i + k);
    await Promise.all(batch);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const server = await startRedis();
  const client = new Redis(server.url);
  const ns = uniqueNamespace('bench');
  const svc = 'room';
  const evalsha = createRedisExecutor({ redis: client, name: 'bench-evalsha' });
  const evalText = createRedisExecutor({
    redis: client,
    name: 'bench-eval',
    scriptTransport: 'eval',
  });
  await evalsha.loadScripts();
  for (let pod = 0; pod < 8; pod++)
    await evalsha.setServiceState(ns, svc, pod, `${pod * 10}-1700000000`);

  // Bare calls build their keys the same way a hand-written client would.
  const linkArgs = (i: number): [string, string, string, string, string] => {
    const uid = `user${i % UIDS}`;
    return [`sf:{${ns}:lk:${uid}}${svc}`, `sf:{${ns}:lk:${uid}}`, svc, String(i & 7), '-1'];
  };
  const uid = (i: number) => `user${i % UIDS}`;
  const link =
    (ex: StatefulExecutor): Call =>
    (i) =>
      ex.setLinkedPod(ns, uid(i), svc, { podId: i & 7, persistSeconds: -1 });

  const cases: Case[] = [
    {
      name: 'setLinkedPod (eval)',
      executor: link(evalText),
      bare: (i) => client.eval(SET_LINKED_POD, 2, ...linkArgs(i)),
    },
    {
      name: 'setLinkedPod (evalsha, default)',
      executor: link(evalsha),
      bare: (i) => client.evalsha(SET_LINKED_POD_SHA, 2, ...linkArgs(i)),
    },
    {
      name: 'getServiceState',
      executor: () => evalsha.getServiceState(ns, svc),
      bare: () => client.hgetall(`sf:{${ns}:state:${svc}}`),
    },
  ];

  // ops/s of each task, one entry per round; the median is reported.
  const figures = new Map<string, number[]>();
  let counter = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Short rounds, many of them: load from other processes then hits bare and executor alike.
    const bench = new Bench({
      time: TIME_MS,
      warmup: round === 0,
      warmupTime: 100,
      warmupIterations: 50,
    });
    for (const c of cases) {
      // Alternate bare and executor so that drift (other load on the machine) hits both.
      const variants: [string, Call][] = [
        ['bare', c.bare],
        ['executor', c.executor],
      ];
      if (round % 2) variants.reverse();
      for (const [who, call] of variants) {
        bench.add(`${c.name}|${who}|1`, () => call(counter++));
        bench.add(`${c.name}|${who}|${IN_FLIGHT}`, () => {
          const calls: Promise<unknown>[] = new Array(IN_FLIGHT);
          for (let k = 0; k < IN_FLIGHT; k++) calls[k] = call(counter++);
          return Promise.all(calls);
        });
      }
    }
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`${task.name}: ${result.state}`);
      const perIteration = Number(task.name.split('|')[2]);
      const opsPerSecond = (1000 / result.period) * perIteration;
      const list = figures.get(task.name) ?? [];
      list.push(opsPerSecond);
      figures.set(task.name, list);
    }
  }

  interface Row {
    operation: string;
    'in flight': number;
    'bare ioredis ops/s': number;
    'executor ops/s': number;
    'executor/bare': number;
  }
  const rows: Row[] = [];
  for (const c of cases) {
    for (const inFlight of [1, IN_FLIGHT]) {
      const bare = median(figures.get(`${c.name}|bare|${inFlight}`)!);
      const executor = median(figures.get(`${c.name}|executor|${inFlight}`)!);
      rows.push({
        operation: c.name,
        'in flight': inFlight,
        'bare ioredis ops/s': Math.round(bare),
        'executor ops/s': Math.round(executor),
        'executor/bare': Number((executor / bare).toFixed(3)),
      });
    }
  }
  const evalRow = (inFlight: number) =>
    rows.find((r) => r.operation === 'setLinkedPod (eval)' && r['in flight'] === inFlight)!;
  const shaRow = (inFlight: number) =>
    rows.find(
      (r) => r.operation.startsWith('setLinkedPod (evalsha') && r['in flight'] === inFlight,
    )!;

  console.log(
    `executor-core bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ` +
      `redis-server on 127.0.0.1:${server.port}, ${ROUNDS} rounds x ${TIME_MS} ms per task, median of rounds`,
  );
  console.table(rows);
  for (const inFlight of [1, IN_FLIGHT]) {
    const speedup = shaRow(inFlight)['executor ops/s'] / evalRow(inFlight)['executor ops/s'];
    console.log(
      `setLinkedPod, ${inFlight} in flight: evalsha transport is ${speedup.toFixed(2)}x the eval transport`,
    );
  }
  // Node's CPU per call against the real server: when the client process is the bottleneck
  // (as it is near 7 to 8 us of CPU per Redis call), throughput goes as its inverse.
  const cpu = new Map<string, number[]>();
  for (let round = 0; round <= 3; round++) {
    for (const c of cases) {
      for (const [who, call] of [
        ['bare', c.bare],
        ['executor', c.executor],
      ] as const) {
        const us = await cpuPerCall((i) => call(counter + i), 64 * 100);
        counter += 64 * 100;
        if (round === 0) continue; // warm-up
        const list = cpu.get(`${c.name}|${who}`) ?? [];
        list.push(us);
        cpu.set(`${c.name}|${who}`, list);
      }
    }
  }
  console.log('\nnode CPU per call against redis-server (64 in flight, median of 3 rounds):');
  console.table(
    cases.map((c) => {
      const bare = median(cpu.get(`${c.name}|bare`)!);
      const executor = median(cpu.get(`${c.name}|executor`)!);
      return {
        operation: c.name,
        'bare ioredis CPU us': Number(bare.toFixed(2)),
        'executor CPU us': Number(executor.toFixed(2)),
        'bare/executor (CPU-bound throughput ratio)': Number((bare / executor).toFixed(3)),
      };
    }),
  );

  const stats = evalsha.stats();
  console.log(
    `executor stats (evalsha): ${stats.scriptCallsBySha} calls by SHA, ${stats.noscriptReloads} NOSCRIPT reloads`,
  );

  await evalsha.close();
  await evalText.close();
  client.disconnect();
  await server.stop();

  await overheadOnStub();
}

/** The executor's own CPU per call: the same calls against a client stub that answers at once. */
async function overheadOnStub(): Promise<void> {
  const stub = new Redis({ lazyConnect: true });
  const linkReply = ['3'];
  const flat: string[] = [];
  for (let pod = 0; pod < 8; pod++) flat.push(String(pod), `${pod * 10}-1700000000`);
  // Instance properties shadow ioredis' command methods; nothing reaches a socket. hgetall
  // answers what ioredis' reply transformer would build; call() (the executor's HGETALL)
  // the flat reply. Anything else fails loudly instead of waiting for a connection.
  Object.assign(stub, {
    evalsha: () => Promise.resolve(linkReply),
    hgetall: () => {
      const hash: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
      return Promise.resolve(hash);
    },
    call: (command: string) =>
      command.toUpperCase() === 'HGETALL'
        ? Promise.resolve([...flat])
        : Promise.reject(new Error(`stub: unexpected ${command}`)),
  });
  stub.options.enableOfflineQueue = false;
  const executor = createRedisExecutor({ redis: stub, name: 'bench-stub' });
  const ns = 'bench';
  const svc = 'room';
  const pairs: [string, Call, Call][] = [
    [
      'setLinkedPod (evalsha)',
      (i) =>
        stub.evalsha(
          SET_LINKED_POD_SHA,
          2,
          `sf:{${ns}:lk:user${i % UIDS}}${svc}`,
          `sf:{${ns}:lk:user${i % UIDS}}`,
          svc,
          String(i & 7),
          '-1',
        ),
      (i) =>
        executor.setLinkedPod(ns, `user${i % UIDS}`, svc, { podId: i & 7, persistSeconds: -1 }),
    ],
    [
      'getServiceState',
      () => stub.hgetall(`sf:{${ns}:state:${svc}}`),
      () => executor.getServiceState(ns, svc),
    ],
  ];
  const micros = new Map<string, number[]>();
  for (let round = 0; round <= ROUNDS; round++) {
    for (const [name, bare, ex] of pairs) {
      for (const [who, call] of [
        ['bare', bare],
        ['executor', ex],
      ] as const) {
        const us = await cpuPerCall(call, 64 * 1500);
        if (round === 0) continue; // warm-up
        const list = micros.get(`${name}|${who}`) ?? [];
        list.push(us);
        micros.set(`${name}|${who}`, list);
      }
    }
  }
  console.log(
    '\nexecutor CPU per call on a client stub (64 in flight, median of rounds, microseconds of CPU):',
  );
  console.table(
    pairs.map(([name]) => {
      const bare = median(micros.get(`${name}|bare`)!);
      const executor = median(micros.get(`${name}|executor`)!);
      return {
        operation: name,
        'stub call us': Number(bare.toFixed(2)),
        'executor call us': Number(executor.toFixed(2)),
        'added by executor us': Number((executor - bare).toFixed(2)),
      };
    }),
  );
  await executor.close();
  stub.disconnect();
}

await main();
