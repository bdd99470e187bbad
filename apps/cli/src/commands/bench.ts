/**
 * `bench`: the benchmark workload (contract section 5) against a Redis target, under a
 * namespace of its own that is deleted at the end, after a warm-up that is not measured,
 * with a progress bar, a results table, a saved snapshot (`--out`) and a comparison with a
 * baseline (`--baseline`, `--threshold`). Ctrl-C stops it early: what was measured is
 * printed, the keys are deleted, and the exit code is 130.
 */
import type { Command } from 'commander';
import {
  assertSnapshot,
  DEFAULT_MIX,
  runWorkload,
  type AnalysisSnapshot,
} from '@stateful-route/analyzer';
import { OPERATIONS, type OperationName } from '@stateful-route/executor-core';
import { ExitCodes, UsageError } from '../errors.js';
import { newBenchNamespace } from '../cleanup.js';
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
      .option('--duration <time>', 'how long to measure (500ms, 10s, 2m)', '10s')
      .option(
        '--warmup <time>',
        'traffic driven before measuring and counted nowhere, so a cold start is not measured',
        '1s',
      )
      .option('--no-warmup', 'measure from the first call')
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
          'and deletes every key of that namespace when it ends (also on errors and Ctrl-C).\n' +
          'Ctrl-C stops the run early: what was measured is printed, and the exit code is 130.\n',
      ),
    async (ctx, _args, options) => {
      const durationMs = parseDuration(options['duration'] as string, 'duration', 100);
      const warmupMs =
        options['warmup'] === false ? 0 : parseDuration(options['warmup'] as string, 'warmup', 0);
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
      // runWorkload deletes the keys of its namespace when it ends (also on an error or an
      // abort), and refuses one that already holds keys: a fresh name is always empty.
      const namespace = newBenchNamespace();

      const bar = ctx.progress();
      let result;
      try {
        result = await runWorkload(backend.executor, {
          durationMs,
          warmupMs,
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
          onProgress: (progress) => {
            const total = progress.phase === 'warmup' ? warmupMs : durationMs;
            bar.update(
              progress.elapsedMs / total,
              `${progress.phase === 'warmup' ? 'warming up ' : ''}` +
                `${formatNumber(progress.elapsedMs / 1000, 1)}s/${formatNumber(total / 1000, 1)}s ` +
                `${formatNumber(progress.operations)} calls, ${formatNumber(progress.errors)} errors`,
            );
          },
        });
      } finally {
        bar.done();
      }
      const interrupted = ctx.io.signal?.aborted === true;
      const snapshot: AnalysisSnapshot = result.snapshot;
      // One figure everywhere: the snapshot's, which `report` and `--baseline` read too.
      const throughput = snapshot.totals.throughput;
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
          warmupMs,
          warmupOperations: result.warmupOperations,
          concurrency,
          operations: result.operations,
          errors: result.errors,
          throughput,
          deletedKeys: result.deletedKeys,
          ...(interrupted ? { interrupted: true } : {}),
          ...(options['out'] !== undefined ? { out: options['out'] } : {}),
          snapshot,
          ...(comparison ? { comparison: comparison.json } : {}),
        },
        () => {
          ctx.out.line(
            `bench on ${ctx.describeTarget()}: ${formatNumber(throughput, 1)} ops/s ` +
              `with ${concurrency} in flight, after ${warmupMs > 0 ? `a ${formatNumber(warmupMs / 1000, 1)} s warm-up` : 'no warm-up'} ` +
              `(namespace ${namespace}, ${formatNumber(result.deletedKeys)} keys deleted)`,
          );
          printSnapshot(ctx.out, snapshot);
          if (options['out'] !== undefined)
            ctx.out.line(`snapshot saved to ${String(options['out'])}`);
          if (comparison) printComparison(ctx.out, comparison);
        },
      );
      if (interrupted) {
        // Said on stderr, so that `--json` output stays one document.
        ctx.out.note(
          `bench: interrupted (Ctrl-C) after ${formatNumber(result.elapsedMs / 1000, 1)} s of ` +
            `${formatNumber(durationMs / 1000, 1)} s: the figures above cover only that part; ` +
            `its keys were deleted`,
        );
        return ExitCodes.INTERRUPTED;
      }
      return comparison && !comparison.passed ? ExitCodes.FINDINGS : ExitCodes.OK;
    },
  );
}
