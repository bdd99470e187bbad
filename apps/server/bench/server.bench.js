/* global process, console, fetch, URL */
// Load benchmark of the server: in one run, a trivial Fastify hello route and the link
// routes of the BUILT server (dist/main.js) with validation, bearer auth and metrics on,
// against a real Redis, over loopback with autocannon. Each case gets BENCH_SECONDS in total,
// cut into BENCH_ROUNDS slices that alternate (hello, GET link, PUT link, hello, ...), so a
// busy machine slows every case alike; the ratio printed is the median over rounds of the
// link route's req/s over the mean of the hello slices on either side of it.
//
//   pnpm --filter @stateful-route/server bench          (build first: pnpm build)
//   BENCH_SECONDS=10 BENCH_ROUNDS=5 BENCH_CONNECTIONS=64 node bench/server.bench.js
//   BENCH_SERVER_ARGS='--auto-pipelining off' node bench/server.bench.js
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort, startRedis } from '@stateful-route/test-redis';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
const SLICE = Math.max(1, Math.round(SECONDS / ROUNDS));
const TOKEN = 'bench-token-0123456789';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const HELLO = fileURLToPath(new URL('./hello-server.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-server.js', import.meta.url));

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

async function run(name, options, seconds) {
  const result = await autocannon({
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    ...options,
  });
  const bad = result.non2xx + result.errors + result.timeouts;
  if (bad > 0) throw new Error(`${name}: ${bad} failed requests (non-2xx, errors or timeouts)`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const redis = await startRedis();
const helloPort = await freePort();
const serverPort = await freePort();
const barePort = await freePort();
const hello = startProcess(HELLO, [String(helloPort)]);
const bare = startProcess(BARE, [String(barePort), redis.url]);
const server = startProcess(MAIN, [
  '--port',
  String(serverPort),
  '--redis',
  redis.url,
  '--token',
  TOKEN,
  '--log-level',
  'warn',
  ...SERVER_ARGS,
]);
try {
  await waitFor(`http://127.0.0.1:${helloPort}/hello`);
  await waitFor(`http://127.0.0.1:${serverPort}/readyz`);
  await waitFor(`http://127.0.0.1:${barePort}/v1/namespaces/bench/users/nobody/links/room`);
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const link = `http://127.0.0.1:${serverPort}/v1/namespaces/bench/users/user123/links/room`;
  // The link the GET case reads.
  await fetch(link, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ podId: 3, persistSeconds: -1, mode: 'set' }),
  });
  const helloCase = { url: `http://127.0.0.1:${helloPort}/hello` };
  const linkCases = {
    'GET link, bare Fastify + executor (reference)': {
      url: `http://127.0.0.1:${barePort}/v1/namespaces/bench/users/user123/links/room`,
    },
    'GET link (getLinkedPod: GET)': { url: link, headers },
    'PUT link if-absent (Lua script)': {
      url: link,
      method: 'PUT',
      headers,
      body: JSON.stringify({ podId: 4, persistSeconds: 300, mode: 'if-absent' }),
    },
  };
  console.log(
    `server load benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICE} s per case ` +
      `(+${WARMUP_SECONDS} s warm-up each), Node ${process.version}, loopback, real Redis`,
  );
  console.log(
    `link routes: built server with JSON schema validation, bearer auth, executor + HTTP metrics, analyzer${SERVER_ARGS.length ? `, ${SERVER_ARGS.join(' ')}` : ''}\n`,
  );
  if (WARMUP_SECONDS > 0) {
    await run('hello', helloCase, WARMUP_SECONDS);
    for (const [name, options] of Object.entries(linkCases))
      await run(name, options, WARMUP_SECONDS);
  }

  const helloRuns = [await run('hello', helloCase, SLICE)];
  const linkRuns = Object.fromEntries(Object.keys(linkCases).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, options] of Object.entries(linkCases)) {
      linkRuns[name].push(await run(name, options, SLICE));
    }
    helloRuns.push(await run('hello', helloCase, SLICE));
  }
  const rows = [['case', 'req/s (mean)', 'p99 ms (mean)', 'ratio to hello (median of rounds)']];
  rows.push([
    'hello (bare Fastify route)',
    mean(helloRuns.map((r) => r.rps)).toFixed(0),
    mean(helloRuns.map((r) => r.p99)).toFixed(1),
    '1.00',
  ]);
  for (const [name, runs] of Object.entries(linkRuns)) {
    const ratios = runs.map((r, i) => r.rps / ((helloRuns[i].rps + helloRuns[i + 1].rps) / 2));
    rows.push([
      name,
      mean(runs.map((r) => r.rps)).toFixed(0),
      mean(runs.map((r) => r.p99)).toFixed(1),
      `${median(ratios).toFixed(2)}  (rounds: ${ratios.map((x) => x.toFixed(2)).join(' ')})`,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, i) => (i === 0 || i === 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  '),
    );
  }
  console.log('\n(aim: ratio >= 0.65 for the link routes; a figure, not a gate)');
} finally {
  await Promise.all([stop(hello), stop(server), stop(bare)]);
  await redis.stop();
}
