/* global process, console */
// The section-5 workload (mostly getServiceState and setLinkedPodIfAbsent, some
// setServiceState, getLinkedPod, trySetLinkedPod) against a real redis-server with 64 calls
// in flight: first the original Go port's way (EVAL of the full script, no pipelining, no
// cache, one connection), then with the optimizer's findings applied, then tuned by trials.
// Prints throughputs, p99s and ratios, and writes a reporter report to docs/.
//
// Run: pnpm bench (root, builds first) or, after a build, node packages/optimizer/bench/workload.js
// Env: BENCH_SECONDS (measured seconds per run, default 6), BENCH_TRIAL_MS (default 1000),
// BENCH_ROUNDS (tune rounds per configuration, default 3).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startRedis } from '@stateful-route/test-redis';
import { createRedisExecutor } from '@stateful-route/executor-core';
import { compare, runWorkload, DEFAULT_MIX } from '@stateful-route/analyzer';
import { render } from '@stateful-route/reporter';
import { applyActions, evaluate, tune } from '@stateful-route/optimizer';

const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const trialMs = Number(process.env.BENCH_TRIAL_MS ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
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
const workload = { concurrency, namespace: 'bench', redis: admin };

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

async function measure(label, executor, prepare = false) {
  await runWorkload(executor, { ...workload, durationMs: 1000, prepare });
  const result = await runWorkload(executor, {
    ...workload,
    durationMs: seconds * 1000,
    prepare: false,
  });
  const line = {
    label,
    config: describeConfig(executor.describe()),
    throughput: result.throughput,
    p99: p99(result.snapshot),
    errors: result.errors,
    hits: result.snapshot.executorStats?.nearCacheHits ?? 0,
    snapshot: result.snapshot,
  };
  console.log(
    `${label.padEnd(22)} ${fmt(line.throughput).padStart(8)} calls/s  p99 ${line.p99.toFixed(2).padStart(7)} ms  ` +
      `errors ${line.errors}  near-cache hits ${fmt(line.hits)}  [${line.config}]  load ${load()}`,
  );
  return line;
}

console.log(
  `stateful-route optimizer benchmark: redis-server ${server.url}, ${concurrency} calls in flight, ` +
    `${seconds} s per run, mix ${JSON.stringify(DEFAULT_MIX)}, ${os.cpus().length} cores, load ${load()}`,
);
try {
  // 1. The original way.
  const baselineExecutor = original('baseline');
  const baseline = await measure('original (Go port)', baselineExecutor, true);

  // 2. The optimizer's findings on that run, applied to a fresh executor in the same state.
  const findings = evaluate({
    snapshot: baseline.snapshot,
    description: baselineExecutor.describe(),
  });
  console.log(`findings: ${findings.map((f) => `${f.id} (${f.severity})`).join(', ')}`);
  const appliedExecutor = original('applied');
  const applied = await applyActions(appliedExecutor, findings);
  for (const a of applied) console.log(`  applied ${a.id}: ${a.outcome}, ${a.detail}`);
  const withFindings = await measure('findings applied', appliedExecutor);

  // 3. Trials: every candidate configuration, the best by throughput within a p99 guard.
  const tunedExecutor = original('tuned');
  const tuned = await tune(tunedExecutor, {
    workload,
    trialMs,
    rounds,
    p99GuardRatio: 1.5,
  });
  for (const t of tuned.trials) {
    console.log(
      `  trial ${t.label.padEnd(46)} ${fmt(t.throughput).padStart(8)}/s (rounds ${t.rounds.map((r) => fmt(r)).join(', ')}) ` +
        `p99 ${String(t.p99Ms).padStart(7)} ms -> ${t.verdict}`,
    );
  }
  console.log(`tune: ${tuned.reason}`);
  const winner = await measure('tuned (winner)', tunedExecutor);

  // 4. The original again, to see how much the machine drifted during the run.
  const baselineAgain = await measure('original, again', baselineExecutor);

  const base = (baseline.throughput + baselineAgain.throughput) / 2;
  const best = winner.throughput >= withFindings.throughput ? winner : withFindings;
  const ratio = best.throughput / base;
  console.log(
    `\nthroughput: original ${fmt(base)} calls/s (mean of two runs), findings applied ${fmt(withFindings.throughput)} ` +
      `(${(withFindings.throughput / base).toFixed(2)}x), tuned ${fmt(winner.throughput)} (${(winner.throughput / base).toFixed(2)}x)`,
  );
  console.log(
    `p99: original ${baseline.p99.toFixed(2)} / ${baselineAgain.p99.toFixed(2)} ms, findings applied ${withFindings.p99.toFixed(2)} ms, tuned ${winner.p99.toFixed(2)} ms`,
  );
  console.log(`ratio (best of applied/tuned vs original): ${ratio.toFixed(2)}x`);

  // 5. The report: the best run compared with the original, with the findings of the original.
  const comparison = compare(baseline.snapshot, best.snapshot, {
    thresholds: ['errorRate<0.1%'],
  });
  const generatedAt = new Date().toISOString();
  const report = {
    title: `Optimizer benchmark: ${best.label} vs the original Go port's configuration`,
    snapshot: best.snapshot,
    comparison,
    findings,
    generatedAt,
  };
  const rows = [
    baseline,
    withFindings,
    ...tuned.trials.map((t) => ({
      label: `trial: ${t.label}`,
      config: `${t.verdict} (rounds: ${t.rounds.map((r) => fmt(r)).join(', ')})`,
      throughput: t.throughput,
      p99: t.p99Ms,
      errors: t.errors,
      hits: t.nearCacheHits,
    })),
    winner,
    baselineAgain,
  ];
  const summary = [
    '# Optimizer benchmark',
    '',
    `Generated ${generatedAt} by \`pnpm bench\` (packages/optimizer/bench/workload.js): ` +
      `redis-server ${server.url.replace(/:\d+$/, '')} on this machine, ${concurrency} calls in flight, ` +
      `${seconds} s per measured run, tune trials of ${trialMs} ms x ${rounds} rounds (median), ` +
      `Node ${process.version}, ${os.cpus().length} cores shared by client and server ` +
      `(1-minute load average at the end: ${load()}). Mix: ${Object.entries(DEFAULT_MIX)
        .map(([op, w]) => `${op} ${w}%`)
        .join(', ')}.`,
    '',
    `**${ratio.toFixed(2)}x** the original's throughput (${fmt(best.throughput)} vs ${fmt(base)} calls/s, ` +
      `p99 ${best.p99.toFixed(2)} vs ${baseline.p99.toFixed(2)} ms) with: ${best.config}.`,
    '',
    `Tune: ${tuned.reason}`,
    '',
    '| run | calls/s | p99 ms | errors | near-cache hits | configuration / verdict |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${fmt(r.throughput)} | ${Number(r.p99).toFixed(2)} | ${r.errors} | ${fmt(r.hits)} | ${r.config} |`,
    ),
    '',
    '---',
    '',
  ].join('\n');
  writeFileSync(path.join(docs, 'benchmark-report.md'), summary + render(report, 'markdown'));
  writeFileSync(path.join(docs, 'benchmark-report.html'), render(report, 'html'));
  console.log(`wrote ${path.join(docs, 'benchmark-report.md')} and benchmark-report.html`);

  await Promise.all([baselineExecutor, appliedExecutor, tunedExecutor].map((e) => e.close()));
} finally {
  for (const c of clients) c.disconnect();
  await server.stop();
}
