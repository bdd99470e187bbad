/**
 * `bench`: the benchmark workload (contract section 5) against a Redis target, under a
 * namespace of its own that is deleted at the end, with a progress bar, a results table,
 * a saved snapshot (`--out`) and a comparison with a baseline (`--baseline`, `--threshold`).
 */
import type { Command } from 'commander';
import {
  assertSnapshot,
  DEFAULT_MIX,
  runWorkload,
  type AnalysisSnapshot,
} from '@stateful-route/analyzer';
import { OPERATIONS, type OperationName } from '@stateful-route/executor-core';
import { benchNamespace } from '../probe.js';
import { ExitCodes, UsageError } from '../errors.js';
import { readJsonFile, writeTextFile } from '../files.js';
import { formatNumber } from '../output.js';
import { parseDuration, parsePositiveInteger, quote } from '../parse.js';
import { printSnapshot } from '../snapshot-view.js';
import { checkThresholdSyntax, compareWithBaseline, printComparison } from '../comparison.js';
import { examples, type Registrar } from './shared.js';

/**
 * Parses `getServiceState=60,setLinkedPodIfAbsent=30`.
 * @throws SR_CLI_USAGE naming `mix` (exit 2)
 */
export function parseMix(value: string): Partial<Record<OperationName, number>> {
  const mix: Partial<Record<OperationName, number>> = {};
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const match = /^([A-Za-z]+)=([0-9]+(?:\.[0-9]+)?)$/.exec(part);
    if (!match) {
      throw new UsageError(`--mix: each entry must be operation=weight (got ${quote(part)})`, {
        field: 'mix',
      });
    }
    const name = match[1]!;
    if (!(OPERATIONS as readonly string[]).includes(name)) {
      throw new UsageError(
        `--mix: unknown operation ${quote(name)}; operations are ${OPERATIONS.join(', ')}`,
        { field: 'mix' },
      );
    }
    mix[name as OperationName] = Number(match[2]);
  }
  if (!Object.values(mix).some((weight) => weight > 0)) {
    throw new UsageError('--mix: give at least one operation with a weight > 0', { field: 'mix' });
  }
  return mix;
}

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

const DEFAULT_MIX_TEXT = Object.entries(DEFAULT_MIX)
  .map(([name, weight]) => `${name}=${weight}`)
  .join(',');

/** Registers `bench`. */
export function registerBench(program: Command, r: Registrar): void {
  r.action(
    program
      .command('bench')
      .description(
        "benchmark a Redis target with the routers' and servers' traffic; writes only under its own " +
          'namespace stateful-route-bench-<random> and deletes those keys at the end',
      )
      .option('--duration <time>', 'how long to drive traffic (500ms, 10s, 2m)', '10s')
      .option('--concurrency <n>', 'calls in flight at once', '64')
      .option('--keys <n>', 'distinct uids the link operations use', '10000')
      .option('--services <n>', 'services (svc-0...)', '4')
      .option('--pods <n>', 'pods per service', '8')
      .option('--mix <weights>', `operation=weight,... (default ${DEFAULT_MIX_TEXT})`)
      .option('--seed <n>', 'PRNG seed; the same seed replays the same calls', '1')
      .option('--out <file>', 'save the analysis snapshot (JSON) for report and --baseline')
      .option(
        '--baseline <file>',
        'compare with a saved snapshot; exit 1 on a significant regression or a failed threshold',
      )
      .option(
        '--threshold <check>',
        "an SLO check, e.g. 'getServiceState.p99<5ms' or 'errorRate<0.1%' (repeatable; exit 1 when one fails)",
        collect,
      )
      .addHelpText(
        'after',
        examples(
          'stateful-route bench --redis redis://127.0.0.1:6379 --duration 10s --out base.json',
          "stateful-route bench --redis redis://127.0.0.1:6379 --mix 'getServiceState=60,setLinkedPodIfAbsent=30,getLinkedPod=10'",
          "stateful-route bench --redis redis://127.0.0.1:6379 --baseline base.json --threshold 'getServiceState.p99<5ms'",
        ) +
          '\nData: bench never touches existing keys. It writes under stateful-route-bench-<random>\n' +
          'and deletes every key of that namespace when it ends (also on errors and Ctrl-C).\n',
      ),
    async (ctx, _args, options) => {
      const durationMs = parseDuration(options['duration'] as string, 'duration', 100);
      const concurrency = parsePositiveInteger(
        options['concurrency'] as string,
        'concurrency',
        10_000,
      );
      const uids = parsePositiveInteger(options['keys'] as string, 'keys', 100_000_000);
      const services = parsePositiveInteger(options['services'] as string, 'services', 10_000);
      const pods = parsePositiveInteger(options['pods'] as string, 'pods', 100_000);
      const seed = parsePositiveInteger(options['seed'] as string, 'seed', 2 ** 31);
      const mix = options['mix'] === undefined ? undefined : parseMix(options['mix'] as string);
      const thresholds = (options['threshold'] as string[] | undefined) ?? [];
      const baselinePath = options['baseline'] as string | undefined;
      // Read the baseline first: a typo in its path should not cost a whole run.
      const baseline =
        baselinePath === undefined ? undefined : await readJsonFile(baselinePath, '--baseline');
      if (baseline !== undefined) assertSnapshot(baseline, `--baseline ${baselinePath}`);
      checkThresholdSyntax(thresholds);

      const backend = await ctx.redisBackend('bench');
      const namespace = benchNamespace(ctx, backend);

      const bar = ctx.progress();
      let result;
      try {
        result = await runWorkload(backend.executor, {
          durationMs,
          concurrency,
          namespace,
          services,
          pods,
          uids,
          seed,
          ...(mix ? { mix } : {}),
          redis: backend.client,
          ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
          progressIntervalMs: 100,
          onProgress: (progress) =>
            bar.update(
              progress.elapsedMs / durationMs,
              `${formatNumber(progress.elapsedMs / 1000, 1)}s/${formatNumber(durationMs / 1000, 1)}s ` +
                `${formatNumber(progress.operations)} calls, ${formatNumber(progress.errors)} errors`,
            ),
        });
      } finally {
        bar.done();
      }
      const snapshot: AnalysisSnapshot = result.snapshot;
      if (options['out'] !== undefined) {
        await writeTextFile(options['out'] as string, JSON.stringify(snapshot, null, 2), '--out');
      }

      const comparison =
        baseline !== undefined || thresholds.length > 0
          ? compareWithBaseline(baseline, snapshot, thresholds)
          : undefined;

      ctx.out.result(
        {
          namespace,
          target: ctx.describeTarget(),
          durationMs: result.elapsedMs,
          concurrency,
          operations: result.operations,
          errors: result.errors,
          throughput: result.throughput,
          ...(options['out'] !== undefined ? { out: options['out'] } : {}),
          snapshot,
          ...(comparison ? { comparison: comparison.json } : {}),
        },
        () => {
          ctx.out.line(
            `bench on ${ctx.describeTarget()}: ${formatNumber(result.throughput, 1)} ops/s ` +
              `with ${concurrency} in flight (namespace ${namespace}, deleted)`,
          );
          printSnapshot(ctx.out, snapshot);
          if (options['out'] !== undefined)
            ctx.out.line(`snapshot saved to ${String(options['out'])}`);
          if (comparison) printComparison(ctx.out, comparison);
        },
      );
      return comparison && !comparison.passed ? ExitCodes.FINDINGS : ExitCodes.OK;
    },
  );
}
