/* global process, console, fetch, URL */
// Load benchmark of the server, with an ablation: in one run, a trivial Fastify hello route,
// the link routes of the BUILT server (the real bin, dist/main.js, as users run it: JSON schema
// validation, bearer auth, HTTP and executor metrics, analyzer, request ids, logger at its
// default level `info`), a bare Fastify route calling the executor (reference), and the built
// server with ONE feature left out per case (bench/ablation-server.js), against a real Redis,
// over loopback with autocannon.
//
// Each case gets BENCH_SECONDS in total, cut into BENCH_ROUNDS slices; in every round each case
// runs one slice (each round starting further down the list), with a hello slice before the
// round and after every BENCH_HELLO_EVERY cases, so a busy machine slows every case alike. A
// case's ratio is the median over rounds of its req/s over the mean of the hello slices on
// either side of it. The ablation cases run the route of BENCH_ABLATE (GET, default, or PUT)
// on processes of their own, next to a control (the same launcher, nothing left out): a
// feature costs the gap between the control and the case without it. Each case also shows
// its server process's CPU time per request (Linux), raw and over the hello server's.
// BENCH_RATE=<req/s> runs every case at that fixed rate: the ratios are then 1, and the CPU
// time per request compares the cases at equal load.
//
//   pnpm --filter @stateful-route/server bench          (build first: pnpm build)
//   BENCH_SECONDS=10 BENCH_ROUNDS=5 BENCH_CONNECTIONS=64 node bench/server.bench.js
//   BENCH_ABLATE=PUT node bench/server.bench.js         (ablation on PUT link if-absent)
//   BENCH_ABLATE=none node bench/server.bench.js        (headline cases only)
//   BENCH_RATE=2500 node bench/server.bench.js          (CPU per request at equal load)
//   BENCH_SERVER_ARGS='--auto-pipelining off' node bench/server.bench.js
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { freePort, startRedis } from '@stateful-route/test-redis';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const HELLO_EVERY = Math.max(1, Number(process.env.BENCH_HELLO_EVERY ?? 3));
// A fixed request rate for every case (req/s; 0: as fast as each case goes). At one rate the
// ratios say nothing, but the CPU time per request compares cases at equal load.
const RATE = Number(process.env.BENCH_RATE ?? 0);
const ABLATE = (process.env.BENCH_ABLATE ?? 'GET').toUpperCase();
const SERVER_ARGS = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean);
const SLICE = Math.max(1, Math.round(SECONDS / ROUNDS));
const TOKEN = 'bench-token-0123456789';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const ABLATION = fileURLToPath(new URL('./ablation-server.js', import.meta.url));
const HELLO = fileURLToPath(new URL('./hello-server.js', import.meta.url));
const BARE = fileURLToPath(new URL('./bare-server.js', import.meta.url));
if (!['GET', 'PUT', 'NONE'].includes(ABLATE)) throw new Error('BENCH_ABLATE: GET, PUT or none');

// One feature left out per ablation case: [label, ablation-server.js --without value, extra
// server flags]. The logger case keeps every feature and runs at `silent` instead of `info`.
// The first is the control: the same launcher with nothing left out, what the others are
// compared with (a process serving one case only warms up and idles unlike the bin, which
// serves two).
const CONTROL = 'control: every feature, through the ablation launcher';
const ABLATIONS = [
  [CONTROL, 'none', []],
  ['schema validation', 'validation', []],
  ['bearer auth', 'auth', []],
  ['HTTP metrics', 'http-metrics', []],
  ['executor metrics', 'executor-metrics', []],
  ['analyzer', 'analyzer', []],
  ['request-id header', 'request-id', []],
  ['logger (info -> silent)', 'none', ['--log-level', 'silent']],
  // Both read the executor's per-call telemetry: without only one of them it is still kept.
  ['executor metrics and analyzer', 'executor-metrics,analyzer', []],
  [
    'all of the above',
    'validation,auth,http-metrics,executor-metrics,analyzer,request-id',
    ['--log-level', 'silent'],
  ],
];

function startProcess(file, args) {
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), file, ...args],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.on('exit', (code) => {
    if (code !== 0 && code !== null) console.error(`${file} exited with ${code}\n${stderr}`);
  });
  return child;
}

async function waitFor(url, child) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server of ${url} exited before answering`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within 30 s`);
    await sleep(50);
  }
}

async function stop(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

// CPU time (user + system) a process has used, in seconds, from /proc (Linux); undefined
// elsewhere. Less sensitive to a busy machine than req/s: it says what a request costs.
const TICKS_PER_SECOND = 100;
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

// The server process behind each case's options, for its CPU time.
const pidOf = new Map();

async function run(name, options, seconds) {
  const pid = pidOf.get(options);
  const cpuBefore = pid === undefined ? undefined : cpuSeconds(pid);
  const result = await autocannon({
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    ...(RATE > 0 ? { overallRate: RATE } : {}),
    ...options,
  });
  if (result.non2xx > 0) throw new Error(`${name}: ${result.non2xx} non-2xx replies`);
  // On an overloaded machine a few requests can time out (10 s): said, not fatal.
  if (result.errors + result.timeouts > 0) {
    console.log(`(${name}: ${result.errors} errors, ${result.timeouts} timeouts in a slice)`);
  }
  const cpuAfter = pid === undefined ? undefined : cpuSeconds(pid);
  const cpuUsPerRequest =
    cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0
      ? undefined
      : ((cpuAfter - cpuBefore) * 1e6) / result.requests.total;
  return { rps: result.requests.average, p99: result.latency.p99, cpuUsPerRequest };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

const serverFlags = (port, redisUrl) => [
  '--port',
  String(port),
  '--redis',
  redisUrl,
  '--token',
  TOKEN,
  ...SERVER_ARGS,
];

const redis = await startRedis();
const children = [];
try {
  const helloPort = await freePort();
  const serverPort = await freePort();
  const barePort = await freePort();
  const helloChild = startProcess(HELLO, [String(helloPort)]);
  const bareChild = startProcess(BARE, [String(barePort), redis.url]);
  // The headline: the real bin, every feature on, default log level.
  const serverChild = startProcess(MAIN, serverFlags(serverPort, redis.url));
  children.push(helloChild, bareChild, serverChild);
  const ablationPorts = [];
  const ablationChildren = [];
  for (const [, without, extra] of ABLATE === 'NONE' ? [] : ABLATIONS) {
    const port = await freePort();
    ablationPorts.push(port);
    const child = startProcess(ABLATION, [
      '--without',
      without,
      ...serverFlags(port, redis.url),
      ...extra,
    ]);
    children.push(child);
    ablationChildren.push(child);
  }
  await waitFor(`http://127.0.0.1:${helloPort}/hello`, helloChild);
  await waitFor(
    `http://127.0.0.1:${barePort}/v1/namespaces/bench/users/nobody/links/room`,
    bareChild,
  );
  await waitFor(`http://127.0.0.1:${serverPort}/readyz`, serverChild);
  for (const [i, port] of ablationPorts.entries())
    await waitFor(`http://127.0.0.1:${port}/readyz`, ablationChildren[i]);

  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const linkPath = '/v1/namespaces/bench/users/user123/links/room';
  // The link the GET cases read.
  await fetch(`http://127.0.0.1:${serverPort}${linkPath}`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ podId: 3, persistSeconds: -1, mode: 'set' }),
  });
  const getLink = (port) => ({ url: `http://127.0.0.1:${port}${linkPath}`, headers });
  const putLink = (port) => ({
    url: `http://127.0.0.1:${port}${linkPath}`,
    method: 'PUT',
    headers,
    body: JSON.stringify({ podId: 4, persistSeconds: 300, mode: 'if-absent' }),
  });
  const helloCase = { url: `http://127.0.0.1:${helloPort}/hello` };
  const GET_FULL = 'GET link (getLinkedPod: GET), full server';
  const PUT_FULL = 'PUT link if-absent (Lua script), full server';
  const BARE_PUT = 'PUT link if-absent, bare Fastify + executor (reference)';
  const cases = {
    'GET link, bare Fastify + executor (reference)': {
      url: `http://127.0.0.1:${barePort}${linkPath}`,
    },
    [BARE_PUT]: putLink(barePort),
    [GET_FULL]: getLink(serverPort),
    [PUT_FULL]: putLink(serverPort),
  };
  ABLATIONS.forEach(([label], i) => {
    if (ABLATE === 'NONE') return;
    const name =
      label === CONTROL ? `${ABLATE} link, ${CONTROL}` : `${ABLATE} link without ${label}`;
    cases[name] = (ABLATE === 'GET' ? getLink : putLink)(ablationPorts[i]);
  });
  const names = Object.keys(cases);
  pidOf.set(helloCase, helloChild.pid);
  pidOf.set(cases['GET link, bare Fastify + executor (reference)'], bareChild.pid);
  pidOf.set(cases[BARE_PUT], bareChild.pid);
  pidOf.set(cases[GET_FULL], serverChild.pid);
  pidOf.set(cases[PUT_FULL], serverChild.pid);
  ablationChildren.forEach((child, i) => pidOf.set(cases[names[4 + i]], child.pid));

  console.log(
    `server load benchmark: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SLICE} s per case ` +
      `(+${WARMUP_SECONDS} s warm-up each), hello every ${HELLO_EVERY} cases, ` +
      `Node ${process.version}, loopback, real Redis`,
  );
  console.log(
    `full server: the bin with JSON schema validation, bearer auth, HTTP + executor metrics, ` +
      `analyzer, request ids, log level info${SERVER_ARGS.length ? `, ${SERVER_ARGS.join(' ')}` : ''}`,
  );
  if (ABLATE !== 'NONE')
    console.log(`ablation: the built server without one feature, on ${ABLATE} link`);
  console.log('');
  if (WARMUP_SECONDS > 0) {
    await run('hello', helloCase, WARMUP_SECONDS);
    for (const name of names) await run(name, cases[name], WARMUP_SECONDS);
  }

  // The slices in the order they ran: { name, rps, p99 }, hello included.
  const slices = [];
  const slice = async (name, options) =>
    slices.push({ name, ...(await run(name, options, SLICE)) });
  // Each round starts further down the list, so that no case always runs at the same place
  // in a round (next to the same neighbours, at the same point of a machine's load pattern).
  const shift = Math.max(1, Math.ceil(names.length / ROUNDS));
  for (let round = 0; round < ROUNDS; round++) {
    await slice('hello', helloCase);
    for (let i = 0; i < names.length; i++) {
      if (i > 0 && i % HELLO_EVERY === 0) await slice('hello', helloCase);
      const name = names[(i + round * shift) % names.length];
      await slice(name, cases[name]);
    }
  }
  await slice('hello', helloCase);

  // Each case slice over the mean of the nearest hello slice before and after it: its req/s,
  // and its server CPU time per request (from /proc; Linux only).
  const ratios = Object.fromEntries(names.map((name) => [name, []]));
  const cpuRatios = Object.fromEntries(names.map((name) => [name, []]));
  slices.forEach((s, i) => {
    if (s.name === 'hello') return;
    let before = i;
    while (slices[before].name !== 'hello') before--;
    let after = i;
    while (slices[after].name !== 'hello') after++;
    const [b, a] = [slices[before], slices[after]];
    ratios[s.name].push(s.rps / ((b.rps + a.rps) / 2));
    if (s.cpuUsPerRequest !== undefined && b.cpuUsPerRequest && a.cpuUsPerRequest) {
      cpuRatios[s.name].push(s.cpuUsPerRequest / ((b.cpuUsPerRequest + a.cpuUsPerRequest) / 2));
    }
  });
  const of = (name) => slices.filter((s) => s.name === name);
  const cpuOf = (name) => {
    const values = of(name)
      .map((r) => r.cpuUsPerRequest)
      .filter((x) => x !== undefined);
    return values.length ? median(values) : undefined;
  };
  const cpuRatioOf = (name) => (cpuRatios[name].length ? median(cpuRatios[name]) : undefined);
  const fullGet = median(ratios[GET_FULL]);
  const fullPut = median(ratios[PUT_FULL]);
  const controlName = `${ABLATE} link, ${CONTROL}`;
  const controlRatio = ABLATE === 'NONE' ? undefined : median(ratios[controlName]);
  const controlCpu = ABLATE === 'NONE' ? undefined : cpuRatioOf(controlName);
  const signed = (x, digits) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
  const rows = [
    [
      'case',
      'req/s (mean)',
      'p99 ms',
      'ratio to hello',
      'vs control',
      'CPU us/req',
      'CPU x hello',
      'vs control',
      'rounds (ratio to hello)',
    ],
  ];
  const helloCpu = cpuOf('hello');
  rows.push([
    'hello (bare Fastify route)',
    mean(of('hello').map((r) => r.rps)).toFixed(0),
    mean(of('hello').map((r) => r.p99)).toFixed(1),
    '1.00',
    '',
    helloCpu === undefined ? '' : helloCpu.toFixed(1),
    helloCpu === undefined ? '' : '1.00',
    '',
    '',
  ]);
  for (const name of names) {
    const ratio = median(ratios[name]);
    const cpu = cpuOf(name);
    const cpuRatio = cpuRatioOf(name);
    const ablated = name.includes(' without ');
    rows.push([
      name,
      mean(of(name).map((r) => r.rps)).toFixed(0),
      mean(of(name).map((r) => r.p99)).toFixed(1),
      ratio.toFixed(2),
      ablated ? signed(ratio - controlRatio, 2) : '',
      cpu === undefined ? '' : cpu.toFixed(1),
      cpuRatio === undefined ? '' : cpuRatio.toFixed(2),
      ablated && cpuRatio !== undefined && controlCpu !== undefined
        ? signed(cpuRatio - controlCpu, 2)
        : '',
      ratios[name].map((x) => x.toFixed(2)).join(' '),
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) {
    console.log(
      row
        .map((cell, i) => (i === 0 || i === 8 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    );
  }
  console.log(
    '\nvs control: the case minus the control (same launcher and route, nothing left out); a feature costs what the ' +
      'server gains without it (ratio up, CPU down). CPU us/req: user + system time of the ' +
      'server process over the requests of a slice (median); CPU x hello: the same over the ' +
      "hello server's in the neighbouring hello slices (median of rounds).",
  );
  console.log('(aim: GET link >= 0.65, PUT link >= 0.55; a figure, not a gate)\n');
  console.log(`ratio GET link: ${fullGet.toFixed(2)}`);
  console.log(`ratio PUT link: ${fullPut.toFixed(2)}`);
} finally {
  await Promise.all(children.map(stop));
  await redis.stop();
}
