/* global process, console, fetch, URL */
// `--workers N` against one process: GET link of the BUILT server (dist/main.js, every feature
// on) with 1 worker and with N (default 2), on a real Redis, autocannon over loopback. The two
// cases alternate in short rounds; the ratio is the median over rounds of N workers' req/s over
// the single process' req/s in the same round. The load generator runs on the same machine:
// on a host with few cores it takes one of them, so the ratio says what the spare cores give,
// not what N cores would.
//
//   node bench/workers.bench.js                        (build first: pnpm build)
//   BENCH_WORKERS=4 BENCH_SECONDS=20 BENCH_ROUNDS=5 BENCH_CONNECTIONS=64 node bench/workers.bench.js
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort, startRedis } from '@stateful-route/test-redis';

const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const SLICE = Math.max(1, Math.round(SECONDS / ROUNDS));
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const LINK = '/v1/namespaces/bench-workers/users/user123/links/room';

// The process, and whether `workers` servers listen yet (their log lines say so).
function start(port, redisUrl, workers) {
  const child = spawn(
    process.execPath,
    [MAIN, '--port', String(port), '--redis', redisUrl, '--workers', String(workers)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let listening = 0;
  child.stdout.on('data', (chunk) => {
    listening += chunk.toString().split('Server listening at').length - 1;
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null)
      console.error(`--workers ${workers} exited ${code}\n${stderr}`);
  });
  return { child, ready: () => listening >= workers };
}

async function waitReady(url, server) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if (server.ready() && (await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within 60 s`);
    await sleep(100);
  }
}

async function run(url, seconds) {
  const result = await autocannon({ url: url + LINK, connections: CONNECTIONS, duration: seconds });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${url}: ${bad} failed requests`);
  return result.requests.average;
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const redis = await startRedis();
const children = [];
try {
  const onePort = await freePort();
  const manyPort = await freePort();
  const oneServer = start(onePort, redis.url, 1);
  const manyServer = start(manyPort, redis.url, WORKERS);
  children.push(oneServer.child, manyServer.child);
  const one = `http://127.0.0.1:${onePort}`;
  const many = `http://127.0.0.1:${manyPort}`;
  await waitReady(one, oneServer);
  await waitReady(many, manyServer);
  await fetch(one + LINK, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ podId: 3, persistSeconds: -1, mode: 'set' }),
  });
  await run(one, 1); // warm-up
  await run(many, 1);

  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither always runs on the warmer machine.
    const order = round % 2 === 0 ? [one, many] : [many, one];
    const rps = {};
    for (const url of order) rps[url] = await run(url, SLICE);
    rows.push({ one: rps[one], many: rps[many], ratio: rps[many] / rps[one] });
  }
  console.log(
    `GET link, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICE} s, ` +
      `${availableParallelism()} cores shared with the load generator`,
  );
  console.log('round | 1 worker req/s | %d workers req/s | ratio', WORKERS);
  rows.forEach((row, i) =>
    console.log(
      `${i + 1} | ${Math.round(row.one)} | ${Math.round(row.many)} | ${row.ratio.toFixed(2)}`,
    ),
  );
  console.log(`ratio ${WORKERS} workers / 1: ${median(rows.map((r) => r.ratio)).toFixed(2)}`);
} finally {
  for (const child of children) await stop(child);
  await redis.stop();
}
