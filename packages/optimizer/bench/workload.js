/* global process, console */
// The section-5 workload (mostly getServiceState and setLinkedPodIfAbsent, some
// setServiceState, getLinkedPod, trySetLinkedPod) against a real redis-server with 64 calls
// in flight: first the original Go port's way (EVAL of the full script, no pipelining, no
// cache, one connection), then with the optimizer's findings applied, then tuned by trials.
// Prints throughputs, p99s and ratios, and writes a reporter report to docs/.
//
// Run: pnpm bench (root, builds first) or, after a build, node packages/optimizer/bench/workload.js
// Env: BENCH_SECONDS (seconds per side-by-side run, default 1.5), BENCH_SIDE_ROUNDS (default
// 8), BENCH_TRIAL_MS (tune trial, default 800), BENCH_ROUNDS (tune rounds, default 5, as tune()).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '@stateful-route/test-redis';
import { createRedisExecutor } from '@stateful-route/executor-core';
import { compare, runWorkload, DEFAULT_MIX } from '@stateful-route/analyzer';
import { render } from '@stateful-route/reporter';
import { applyActions, evaluate, tune } from '@stateful-route/optimizer';

const seconds = Number(process.env.BENCH_SECONDS ?? 1.5);
const sideRounds = Number(process.env.BENCH_SIDE_ROUNDS ?? 8);
const trialMs = Number(process.env.BENCH_TRIAL_MS ?? 800);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const load = () => os.loadavg()[0].toFixed(1);
const concurrency = 64;
const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs');

const server = await startRedis();
const clients = [];
const client = () => {
  const redis = new Redis(server.url);
  clients.push(redis);
  return redis;
};
/** An executor in the original Go port's configuration. */
const original = (name) =>
  createRedisExecutor({
    redis: client(),
    name,
    scriptTransport: 'eval',
    connectionFactory: () => client(),
  });
const admin = client();
// One namespace shared by every run (the first prepares it), warmed by this script's own
// rounds: runWorkload's warm-up would be CPU its calls do not account for.
const workload = { concurrency, namespace: 'bench', redis: admin, keep: true, warmupMs: 0 };

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const p99 = (snapshot) => {
  // Overall p99 from every operation's histogram (bounds in µs, upper edges).
  const buckets = new Map();
  for (const op of Object.values(snapshot.operations)) {
    op.histogram.bounds.forEach((b, i) =>
      buckets.set(b, (buckets.get(b) ?? 0) + op.histogram.counts[i]),
    );
  }
  const total = [...buckets.values()].reduce((a, b) => a + b, 0);
  let seen = 0;
  for (const bound of [...buckets.keys()].sort((a, b) => a - b)) {
    seen += buckets.get(bound);
    if (seen >= total * 0.99) return bound / 1000;
  }
  return 0;
};
const describeConfig = (d) =>
  `${d.scriptTransport}, ${d.autoPipelining ? 'pipelining' : 'no pipelining'}, ` +
  `${d.connections} conn${d.connections === 1 ? '' : 's'}, ${d.nearCache?.enabled ? 'near cache' : 'no cache'}`;

// CPU seconds redis-server has used (user + sys, main thread and children).
const redisCpu = async () => {
  const info = await admin.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
};

async function run(executor, durationMs, prepare = false) {
  const redisBefore = await redisCpu();
  const nodeBefore = process.cpuUsage();
  const result = await runWorkload(executor, { ...workload, durationMs, prepare });
  const node = process.cpuUsage(nodeBefore);
  const cpuMs = (node.user + node.system) / 1000 + ((await redisCpu()) - redisBefore) * 1000;
  return {
    // CPU of this process and of redis-server per 1000 calls: what a call costs, whatever
    // else the machine is doing (throughput on a shared machine depends on the neighbours).
    cpuPerKCall: cpuMs / (result.operations / 1000),
    // Deterministic for a given mix: round trips per call (near-cache hits make none), and
    // time spent inside Redis per call (INFO commandstats, script bodies included).
    roundTripsPerCall:
      1 - (result.snapshot.executorStats?.nearCacheHits ?? 0) / Math.max(1, result.operations),
    redisUsPerCall:
      Object.values(result.snapshot.redis?.commandstats ?? {}).reduce((a, c) => a + c.usec, 0) /
      result.operations,
    throughput: result.throughput,
    p99: p99(result.snapshot),
    errors: result.errors,
    hits: result.snapshot.executorStats?.nearCacheHits ?? 0,
    snapshot: result.snapshot,
  };
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

console.log(
  `stateful-route optimizer benchmark: redis-server ${server.url}, ${concurrency} calls in flight, ` +
    `mix ${JSON.stringify(DEFAULT_MIX)}, ${os.cpus().length} cores, load ${load()}`,
);
try {
  // 1. The original way, measured once to find what is wrong with it.
  const baselineExecutor = original('baseline');
  await run(baselineExecutor, 1000, true);
  const first = await run(baselineExecutor, 3000);
  const findings = evaluate({ snapshot: first.snapshot, description: baselineExecutor.describe() });
  console.log(
    `original: ${fmt(first.throughput)} calls/s, p99 ${first.p99.toFixed(2)} ms; findings: ` +
      findings.map((f) => `${f.id} (${f.severity})`).join(', '),
  );

  // 2. The findings' safe actions, applied to a second executor made the original way.
  const appliedExecutor = original('applied');
  const applied = await applyActions(appliedExecutor, findings);
  for (const a of applied) console.log(`  applied ${a.id}: ${a.outcome}, ${a.detail}`);

  // 3. Trials: every candidate configuration, the best by throughput within a p99 guard.
  const tunedExecutor = original('tuned');
  const tuned = await tune(tunedExecutor, { workload, trialMs, rounds, p99GuardRatio: 1.5 });
  for (const t of tuned.trials) {
    console.log(
      `  trial ${t.label.padEnd(46)} ${fmt(t.throughput).padStart(8)}/s (rounds ${t.rounds.map((r) => fmt(r)).join(', ')}) ` +
        `p99 ${String(t.p99Ms).padStart(7)} ms, at ${fmt(tuned.guardRate)}/s ${String(t.p99AtGuardLoadMs ?? '-').padStart(6)} ms -> ${t.verdict}`,
    );
  }
  console.log(`tune: ${tuned.reason}`);

  // 4. Side by side: the three executors in alternating order (A B C, then C B A, ...), so
  // that the machine's drift hits them alike; figures are medians over the rounds, ratios
  // the medians of the per-round ratios.
  const contenders = [
    { label: 'original (Go port)', executor: baselineExecutor, runs: [] },
    { label: 'findings applied', executor: appliedExecutor, runs: [] },
    { label: 'tuned (winner)', executor: tunedExecutor, runs: [] },
  ];
  for (const c of contenders) await run(c.executor, 500); // warm
  for (let round = 0; round < sideRounds; round++) {
    const order = round % 2 ? [...contenders].reverse() : contenders;
    for (const c of order) c.runs.push(await run(c.executor, seconds * 1000));
  }
  const lines = contenders.map((c) => {
    const ratios = c.runs.map((r, i) => r.throughput / contenders[0].runs[i].throughput);
    return {
      label: c.label,
      config: describeConfig(c.executor.describe()),
      throughput: median(c.runs.map((r) => r.throughput)),
      p99: median(c.runs.map((r) => r.p99)),
      errors: c.runs.reduce((a, r) => a + r.errors, 0),
      hits: c.runs.reduce((a, r) => a + r.hits, 0),
      ratio: median(ratios),
      cpuPerKCall: median(c.runs.map((r) => r.cpuPerKCall)),
      roundTripsPerCall: median(c.runs.map((r) => r.roundTripsPerCall)),
      redisUsPerCall: median(c.runs.map((r) => r.redisUsPerCall)),
      rounds: c.runs.map((r) => r.throughput),
      runs: c.runs,
      ratios,
    };
  });
  for (const l of lines) {
    console.log(
      `${l.label.padEnd(20)} ${fmt(l.throughput).padStart(8)} calls/s  p99 ${l.p99.toFixed(2).padStart(7)} ms  ` +
        `${l.ratio.toFixed(2)}x  CPU ${l.cpuPerKCall.toFixed(1)} ms/1000 calls  ` +
        `${l.roundTripsPerCall.toFixed(2)} round trips, ${l.redisUsPerCall.toFixed(2)} µs in Redis per call  ` +
        `errors ${l.errors}  ` +
        `near-cache hits ${fmt(l.hits)}  [${l.config}]  ` +
        `rounds ${l.rounds.map((r) => fmt(r)).join(', ')}`,
    );
  }
  const [baseline, withFindings, winner] = lines;
  const best = winner.ratio >= withFindings.ratio ? winner : withFindings;
  console.log(
    `\nratio vs original (median of ${sideRounds} side-by-side rounds): findings applied ` +
      `${withFindings.ratio.toFixed(2)}x, tuned ${winner.ratio.toFixed(2)}x; p99 ${baseline.p99.toFixed(2)} ms -> ` +
      `${withFindings.p99.toFixed(2)} / ${winner.p99.toFixed(2)} ms`,
  );
  const cpuRatio = (l) => baseline.cpuPerKCall / l.cpuPerKCall;
  console.log(
    `round trips per call: original ${baseline.roundTripsPerCall.toFixed(2)}, findings applied ` +
      `${withFindings.roundTripsPerCall.toFixed(2)}, tuned ${winner.roundTripsPerCall.toFixed(2)}; µs inside Redis per call: ` +
      `${baseline.redisUsPerCall.toFixed(2)}, ${withFindings.redisUsPerCall.toFixed(2)}, ${winner.redisUsPerCall.toFixed(2)}`,
  );
  console.log(
    `CPU per 1000 calls (node + redis-server): original ${baseline.cpuPerKCall.toFixed(1)} ms, ` +
      `findings applied ${withFindings.cpuPerKCall.toFixed(1)} ms (${cpuRatio(withFindings).toFixed(2)}x fewer), ` +
      `tuned ${winner.cpuPerKCall.toFixed(1)} ms (${cpuRatio(winner).toFixed(2)}x fewer)`,
  );

  // 5. Batching (a code change, not a switch): a request that needs the pods of 16 uids of one
  // service, as 16 getLinkedPod calls or one batchGetLinkedPod (one MGET), side by side, on an
  // executor with auto-pipelining and without the near cache (which would answer the single
  // reads from memory and never the batch: that compares the cache, not the batching).
  const batchExecutor = createRedisExecutor({
    redis: new Redis(server.url, { enableAutoPipelining: true }),
    name: 'batching',
    closeClients: true,
  });
  const uids = Array.from({ length: 16 }, (_, i) => `u-${i * 7}`);
  const lookup = {
    single: () => Promise.all(uids.map((u) => batchExecutor.getLinkedPod('bench', u, 'svc-0'))),
    batch: () => batchExecutor.batchGetLinkedPod('bench', uids, 'svc-0'),
  };
  const resolved = { single: [], batch: [] };
  for (let round = 0; round < 4; round++) {
    for (const kind of round % 2 ? ['batch', 'single'] : ['single', 'batch']) {
      let requests = 0;
      const until = performance.now() + 1000;
      const started = performance.now();
      // 4 requests in flight: with 16 uids each, 64 lookups in flight as above.
      await Promise.all(
        Array.from({ length: concurrency / uids.length }, async () => {
          while (performance.now() < until) {
            await lookup[kind]();
            requests++;
          }
        }),
      );
      resolved[kind].push((requests * uids.length) / ((performance.now() - started) / 1000));
    }
  }
  const batching = {
    single: median(resolved.single),
    batch: median(resolved.batch),
    ratio: median(resolved.batch.map((b, i) => b / resolved.single[i])),
  };
  console.log(
    `batching: 16 uids per request, ${fmt(batching.single)} uids/s with getLinkedPod each (16 GETs, auto-pipelined), ` +
      `${fmt(batching.batch)} uids/s with batchGetLinkedPod (1 MGET): ${batching.ratio.toFixed(2)}x`,
  );

  // 6. The hottest read alone: getServiceState only, without and with the near cache.
  const plainReader = createRedisExecutor({ redis: client(), name: 'reads-plain' });
  const cachedReader = createRedisExecutor({ redis: client(), name: 'reads-cached' });
  await cachedReader.enableNearCache();
  const readsOnly = { ...workload, mix: { getServiceState: 1 }, prepare: false };
  const reads = { plain: [], cached: [] };
  for (let round = 0; round < 4; round++) {
    const order = round % 2 ? ['cached', 'plain'] : ['plain', 'cached'];
    for (const kind of order) {
      const executor = kind === 'plain' ? plainReader : cachedReader;
      reads[kind].push(
        (await runWorkload(executor, { ...readsOnly, durationMs: 1000 })).throughput,
      );
    }
  }
  const hotRead = {
    plain: median(reads.plain),
    cached: median(reads.cached),
    ratio: median(reads.cached.map((c, i) => c / reads.plain[i])),
  };
  console.log(
    `getServiceState only: ${fmt(hotRead.plain)} calls/s from Redis, ${fmt(hotRead.cached)} calls/s ` +
      `with the near cache: ${hotRead.ratio.toFixed(2)}x`,
  );
  await Promise.all([plainReader.close(), cachedReader.close(), batchExecutor.close()]);

  // 7. The report: the best run compared with the original, with the findings of the original.
  // Compared within one round (both measured back to back, under the same neighbours): the
  // round whose ratio is closest to the median ratio.
  const pick = best.ratios.reduce(
    (at, r, i) => (Math.abs(r - best.ratio) < Math.abs(best.ratios[at] - best.ratio) ? i : at),
    0,
  );
  baseline.snapshot = baseline.runs[pick].snapshot;
  best.snapshot = best.runs[pick].snapshot;
  const comparison = compare(baseline.snapshot, best.snapshot, { thresholds: ['errorRate<0.1%'] });
  const generatedAt = new Date().toISOString();
  const report = {
    title: `Optimizer benchmark: ${best.label} vs the original Go port's configuration`,
    snapshot: best.snapshot,
    comparison,
    findings,
    generatedAt,
  };
  const rows = [
    ...lines.map((l) => ({
      ...l,
      config: `${l.config}; ${l.ratio.toFixed(2)}x (rounds: ${l.rounds.map((r) => fmt(r)).join(', ')})`,
    })),
    ...tuned.trials.map((t) => ({
      label: `trial: ${t.label}`,
      config: `${t.verdict} (rounds: ${t.rounds.map((r) => fmt(r)).join(', ')})`,
      throughput: t.throughput,
      p99: t.p99Ms,
      errors: t.errors,
      hits: t.nearCacheHits,
    })),
  ];
  const summary = [
    '# Optimizer benchmark',
    '',
    `Generated ${generatedAt} by \`pnpm bench\` (packages/optimizer/bench/workload.js): ` +
      `redis-server on this machine, ${concurrency} calls in flight, Node ${process.version}, ` +
      `${os.cpus().length} cores shared by client, server and whatever else runs (1-minute load ` +
      `average at the end: ${load()}). Side by side: ${sideRounds} rounds of ${seconds} s per ` +
      `executor in alternating order; tune trials of ${trialMs} ms x ${rounds} rounds (median). ` +
      `Mix: ${Object.entries(DEFAULT_MIX)
        .map(([op, w]) => `${op} ${w}%`)
        .join(', ')}.`,
    '',
    `**${best.ratio.toFixed(2)}x** the original's throughput (median of per-round ratios; ` +
      `${fmt(best.throughput)} vs ${fmt(baseline.throughput)} calls/s, p99 ${best.p99.toFixed(2)} vs ` +
      `${baseline.p99.toFixed(2)} ms) with: ${best.config}.`,
    '',
    `Tune: ${tuned.reason}`,
    '',
    `CPU per 1000 calls (this process + redis-server, median): original ${baseline.cpuPerKCall.toFixed(1)} ms, ` +
      `findings applied ${withFindings.cpuPerKCall.toFixed(1)} ms (${cpuRatio(withFindings).toFixed(2)}x fewer), ` +
      `tuned ${winner.cpuPerKCall.toFixed(1)} ms (${cpuRatio(winner).toFixed(2)}x fewer). On a machine where ` +
      `client and server saturate the cores, throughput follows this cost.`,
    '',
    `Round trips per call ${baseline.roundTripsPerCall.toFixed(2)} (original) -> ` +
      `${withFindings.roundTripsPerCall.toFixed(2)} (findings applied) / ${winner.roundTripsPerCall.toFixed(2)} (tuned); ` +
      `time inside Redis per call ${baseline.redisUsPerCall.toFixed(2)} -> ${withFindings.redisUsPerCall.toFixed(2)} / ` +
      `${winner.redisUsPerCall.toFixed(2)} µs.`,
    '',
    '| run | calls/s | p99 ms | CPU ms / 1000 calls | round trips / call | errors | near-cache hits | configuration / verdict |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmt(r.throughput)} | ${Number(r.p99).toFixed(2)} | ${r.cpuPerKCall === undefined ? '' : r.cpuPerKCall.toFixed(1)} | ${r.roundTripsPerCall === undefined ? '' : r.roundTripsPerCall.toFixed(2)} | ${r.errors} | ${fmt(r.hits)} | ${r.config} |`,
    ),
    '',
    `Batching (a code change the \`batch-reads\` finding recommends, not a switch): resolving the pods of ` +
      `16 uids of one service per request, ${fmt(batching.single)} uids/s with one getLinkedPod each ` +
      `(16 GETs, auto-pipelined, no near cache) and ${fmt(batching.batch)} uids/s with one batchGetLinkedPod (one MGET): ` +
      `**${batching.ratio.toFixed(2)}x** (median of 4 side-by-side rounds of 1 s).`,
    '',
    `The hottest read alone (\`getServiceState\` only, 64 in flight): ${fmt(hotRead.plain)} calls/s from ` +
      `Redis, ${fmt(hotRead.cached)} calls/s with the near cache: **${hotRead.ratio.toFixed(2)}x** ` +
      `(median of 4 side-by-side rounds of 1 s).`,
    '',
    '---',
    '',
  ].join('\n');
  const markdownFile = path.join(docs, 'benchmark-report.md');
  let markdown = summary + render(report, 'markdown');
  try {
    // The repository's Prettier (root devDependency) keeps `pnpm lint` green on the file.
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(markdownFile)) ?? {};
    markdown = await prettier.format(markdown, { ...config, parser: 'markdown' });
  } catch {
    // Outside the repository: the file is written as rendered.
  }
  writeFileSync(markdownFile, markdown);
  writeFileSync(path.join(docs, 'benchmark-report.html'), render(report, 'html'));
  console.log(`wrote ${path.join(docs, 'benchmark-report.md')} and benchmark-report.html`);

  await Promise.all([baselineExecutor, appliedExecutor, tunedExecutor].map((e) => e.close()));
} finally {
  for (const c of clients) c.disconnect();
  await server.stop();
}
