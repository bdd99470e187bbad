/**
 * `tune`: the optimizer's trials on a Redis target. Each candidate configuration of the
 * CLI's own executor (script transport, autopipelining, connections, near cache) runs the
 * same workload under a namespace of its own (deleted afterwards); the best by throughput,
 * with no error and a p99 within the guard, wins. Nothing on the target is reconfigured:
 * the winning configuration is printed for the operator to apply to the services.
 */
import type { Command } from 'commander';
import { defaultCandidates, tune, type Trial } from '@stateful-route/optimizer';
import { formatMs, formatNumber } from '../output.js';
import { parseDuration, parsePositiveInteger } from '../parse.js';
import { benchNamespace } from '../probe.js';
import { parseMix } from './bench.js';
import { examples, type Registrar } from './shared.js';

const withoutSnapshot = ({ snapshot: _snapshot, ...trial }: Trial): Omit<Trial, 'snapshot'> =>
  trial;

/** Registers `tune`. */
export function registerTune(program: Command, r: Registrar): void {
  r.action(
    program
      .command('tune')
      .description(
        'try executor configurations under the benchmark workload on a Redis target and print the ' +
          'winner (writes only under its own namespace, deleted afterwards)',
      )
      .option('--trial <time>', 'measured length of each trial', '2s')
      .option('--concurrency <n>', 'calls in flight', '64')
      .option('--keys <n>', 'distinct uids the link operations use', '10000')
      .option('--mix <weights>', 'operation=weight,... (default: the bench mix)')
      .option(
        '--rounds <n>',
        'measure every configuration n times (round-robin) and keep its median',
        '1',
      )
      .addHelpText(
        'after',
        examples(
          'stateful-route tune --redis redis://127.0.0.1:6379',
          'stateful-route tune --redis redis://127.0.0.1:6379 --trial 5s --concurrency 128 --json',
        ),
      ),
    async (ctx, _args, options) => {
      const trialMs = parseDuration(options['trial'] as string, 'trial', 100);
      const concurrency = parsePositiveInteger(
        options['concurrency'] as string,
        'concurrency',
        10_000,
      );
      const uids = parsePositiveInteger(options['keys'] as string, 'keys', 100_000_000);
      const mix = options['mix'] === undefined ? undefined : parseMix(options['mix'] as string);
      const rounds = parsePositiveInteger(options['rounds'] as string, 'rounds', 10);
      const backend = await ctx.redisBackend('tune', true);
      const namespace = benchNamespace(ctx, backend);
      const candidates = defaultCandidates();
      // The baseline is the executor's own configuration; a candidate equal to it is not rerun.
      const current = backend.executor.describe();
      const distinct = candidates.filter(
        (c) =>
          c.scriptTransport !== current.scriptTransport ||
          c.autoPipelining !== current.autoPipelining ||
          c.connections !== current.connections ||
          c.nearCache !== (current.nearCache?.enabled ?? false),
      );
      const total = (distinct.length + 1) * rounds;
      const bar = ctx.progress();
      let done = 0;
      bar.update(0, `trial 1/${total}`);
      let result;
      try {
        result = await tune(backend.executor, {
          workload: {
            namespace,
            concurrency,
            uids,
            ...(mix ? { mix } : {}),
            ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
          },
          trialMs,
          candidates,
          rounds,
          apply: false,
          onTrial: (trial) => {
            done += 1;
            bar.update(done / total, `trial ${Math.min(done + 1, total)}/${total}: ${trial.label}`);
          },
        });
      } finally {
        bar.done();
      }
      const json = {
        target: ctx.describeTarget(),
        namespace,
        winner: withoutSnapshot(result.winner),
        baseline: withoutSnapshot(result.baseline),
        speedup: result.speedup,
        reason: result.reason,
        trials: result.trials.map(withoutSnapshot),
      };
      ctx.out.result(json, () => {
        const { style } = ctx.out;
        ctx.out.table(
          ['CONFIGURATION', 'OPS/S', 'P50', 'P99', 'ERRORS', 'VERDICT'],
          result.trials.map((trial) => [
            trial === result.winner ? style.bold(trial.label) : trial.label,
            formatNumber(trial.throughput, 1),
            formatMs(trial.p50Ms),
            formatMs(trial.p99Ms),
            formatNumber(trial.errors),
            trial.verdict,
          ]),
        );
        ctx.out.line();
        ctx.out.line(
          `${style.bold('winner:')} ${result.winner.label} ` +
            `(${formatNumber(result.speedup, 2)}x the baseline's throughput)`,
        );
        ctx.out.line(result.reason);
      });
    },
  );
}
