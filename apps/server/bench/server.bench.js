/* global process, console, fetch, URL */
// Load benchmark of the server: in one run, a trivial Fastify hello route and the link
// routes of the BUILT server (dist/main.js) with validation, bearer auth and metrics on,
// against a real Redis, over loopback with autocannon. Prints req/s, p99 and the ratio of
// each link route to the hello route. Cases alternate (hello, link routes, hello, ...) and
// the ratio uses the mean of the hello runs on either side, so machine drift cancels.
//
//   pnpm --filter @stateful-route/server bench          (build first: pnpm build)
//   BENCH_SECONDS=10 BENCH_CONNECTIONS=64 BENCH_ROUNDS=1 node bench/server.bench.js
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort, startRedis } from '@stateful-route/test-redis';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const TOKEN = 'bench-token-0123456789';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const HELLO = fileURLToPath(new URL('./hello-server.js', import.meta.url));

function startProcess(file, args) {
  const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${file} exited with ${code}\n${stderr}`);
  });
  return child;
}

async function waitFor(url) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 20 s`);
    await sleep(50);
  }
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function run(options, seconds) {
  return autocannon({ connections: CONNECTIONS, pipelining: 1, duration: seconds, ...options });
}

async function measure(name, options) {
  if (WARMUP_SECONDS > 0) await run(options, WARMUP_SECONDS);
  const result = await run(options, SECONDS);
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${name}: ${bad} failed requests (non-2xx, errors or timeouts)`);
  return {
    name,
    rps: result.requests.average,
    p99: result.latency.p99,
    total: result.requests.total,
  };
}

const redis = await startRedis();
const helloPort = await freePort();
const serverPort = await freePort();
const hello = startProcess(HELLO, [String(helloPort)]);
const server = startProcess(MAIN, [
  '--port',
  String(serverPort),
  '--redis',
  redis.url,
  '--token',
  TOKEN,
  '--log-level',
  'warn',
]);
try {
  await waitFor(`http://127.0.0.1:${helloPort}/hello`);
  await waitFor(`http://127.0.0.1:${serverPort}/readyz`);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const link = `http://127.0.0.1:${serverPort}/v1/namespaces/bench/users/user123/links/room`;
  // The link the GET case reads.
  await fetch(link, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ podId: 3, persistSeconds: -1, mode: 'set' }),
  });

  const cases = {
    hello: { url: `http://127.0.0.1:${helloPort}/hello` },
    'GET link (getLinkedPod)': { url: link, headers },
    'PUT link if-absent (script)': {
      url: link,
      method: 'PUT',
      headers,
      body: JSON.stringify({ podId: 4, persistSeconds: 300, mode: 'if-absent' }),
    },
  };
  console.log(
    `server load benchmark: ${CONNECTIONS} connections, ${SECONDS} s per case (+${WARMUP_SECONDS} s warm-up), ` +
      `${ROUNDS} round(s), Node ${process.version}, loopback, Redis ${redis.url}`,
  );
  console.log('link routes: JSON schema validation, bearer auth, executor + HTTP metrics, Redis\n');

  const helloRuns = [];
  const linkRuns = {};
  helloRuns.push(await measure('hello', cases.hello));
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of Object.keys(cases).filter((n) => n !== 'hello')) {
      (linkRuns[name] ??= []).push(await measure(name, cases[name]));
    }
    helloRuns.push(await measure('hello', cases.hello));
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const helloRps = mean(helloRuns.map((r) => r.rps));
  const rows = [
    ['case', 'req/s', 'p99 ms', 'ratio to hello'],
    [
      'hello (mean of runs)',
      helloRps.toFixed(0),
      mean(helloRuns.map((r) => r.p99)).toFixed(1),
      '1.00',
    ],
    ...helloRuns.map((r, i) => [`  hello run ${i + 1}`, r.rps.toFixed(0), r.p99.toFixed(1), '']),
  ];
  for (const [name, runs] of Object.entries(linkRuns)) {
    const rps = mean(runs.map((r) => r.rps));
    rows.push([
      name,
      rps.toFixed(0),
      mean(runs.map((r) => r.p99)).toFixed(1),
      (rps / helloRps).toFixed(2),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  '),
    );
  }
  console.log('\n(target: ratio >= 0.65 for the link routes; a figure, not a gate)');
} finally {
  await Promise.all([stop(hello), stop(server)]);
  await redis.stop();
}
