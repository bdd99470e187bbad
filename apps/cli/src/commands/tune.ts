/**
 * `tune`: the optimizer's trials on a Redis target. Each candidate configuration of the
 * CLI's own executor (script transport, autopipelining, connections, near cache) runs the
 * same workload under a namespace of its own (deleted afterwards), in interleaved rounds; the
 * fastest by median, with no error and a p99 within the guard, wins when its lead over the
 * runner-up is significant, else a stated tie-break chooses. Nothing on the target is
 * reconfigured: the winner is printed as the `createRedisExecutor` code and the server flags
 * for the operator to apply to the services.
 */
import type { Command } from 'commander';
import {
  DEFAULT_TUNE_ROUNDS,
  MAX_TUNE_ROUNDS,
  defaultCandidates,
  pText,
  tune,
  type LeadTest,
  type Trial,
} from '@stateful-route/optimizer';
import { formatMs, formatNumber } from '../output.js';
import { parseDuration, parsePositiveInteger } from '../parse.js';
import { benchNamespace } from '../probe.js';
import { parseMix } from './bench.js';
import { examples, type Registrar } from './shared.js';

const withoutSnapshot = ({ snapshot: _snapshot, ...trial }: Trial): Omit<Trial, 'snapshot'> =>
  trial;

const signed = (value: number): string => `${value >= 0 ? '+' : ''}${formatNumber(value, 1)}%`;

/** `+12.3% (per round +8.1% to +15.0%), p=0.004: significant at 0.05` */
function leadLine(lead: LeadTest, alpha: number): string {
  const range = `per round ${signed(lead.minPercent)} to ${signed(lead.maxPercent)}`;
  if (lead.rounds < 2) return `${signed(lead.leadPercent)} (${range}): one round, no test`;
  const verdict = lead.significant ? 'significant' : 'NOT significant';
  return `${signed(lead.leadPercent)} (${range}), p ${pText(lead.pValue)}: ${verdict} at ${alpha}`;
}

/** Registers `tune`. */
export function registerTune(program: Command, r: Registrar): void {
  r.action(
    program
      .command('tune')
      .description(
        'try executor configurations under the benchmark workload on a Redis target and print the ' +
          'winner (writes only under its own namespace, deleted afterwards)',
      )
      .option(
        '--trial <time>',
        'measured length of each trial (plus a quarter of it to warm up)',
        '1s',
      )
      .option('--concurrency <n>', 'calls in flight', '64')
      .option('--keys <n>', 'distinct uids the link operations use', '10000')
      .option('--mix <weights>', 'operation=weight,... (default: the bench mix)')
      .option(
        '--rounds <n>',
        `rounds: each measures every configuration once, in alternating order; the median counts ` +
          `and the lead is tested over them (1-${MAX_TUNE_ROUNDS})`,
        String(DEFAULT_TUNE_ROUNDS),
      )
      .addHelpText(
        'after',
        examples(
          'stateful-route tune --redis redis://127.0.0.1:6379',
          'stateful-route tune --redis redis://127.0.0.1:6379 --trial 5s --concurrency 128 --json',
        ) +
          '\nTakes about (configurations) x (rounds + 1) x 1.25 x trial: 9 x 6 x 1.25 s = 68 s by default\n(the extra trial of each is paced, for the latency guard).\n',
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
      const rounds = parsePositiveInteger(options['rounds'] as string, 'rounds', MAX_TUNE_ROUNDS);
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
          onProgress: (p) => {
            bar.update(
              p.done / p.total,
              `trial ${Math.min(p.done + 1, p.total)}/${p.total} (round ${p.round}/${p.rounds}): ${p.label}`,
            );
          },
        });
      } finally {
        bar.done();
      }
      const json = {
        target: ctx.describeTarget(),
        namespace,
        rounds: result.rounds,
        alpha: result.alpha,
        guardRate: result.guardRate,
        guardReference: result.guardReference?.label ?? null,
        winner: withoutSnapshot(result.winner),
        baseline: withoutSnapshot(result.baseline),
        fastest: result.fastest.label,
        chosenBy: result.chosenBy,
        lead: result.lead,
        tieBreak: result.tieBreak,
        versusBaseline: result.versusBaseline,
        speedup: result.speedup,
        reason: result.reason,
        options: result.options,
        clientOptions: result.clientOptions,
        paste: result.paste,
        serverFlags: result.serverFlags,
        serverNotes: result.serverNotes,
        trials: result.trials.map(withoutSnapshot),
      };
      ctx.out.result(json, () => {
        const { style } = ctx.out;
        ctx.out.table(
          [
            'CONFIGURATION',
            'OPS/S',
            'MIN',
            'MAX',
            'CV',
            'P50',
            'P99',
            'P99 AT LOAD',
            'ERRORS',
            'VERDICT',
          ],
          result.trials.map((trial) => [
            trial === result.winner ? style.bold(trial.label) : trial.label,
            formatNumber(trial.throughput, 1),
            formatNumber(trial.spread.min, 1),
            formatNumber(trial.spread.max, 1),
            `${formatNumber(trial.spread.cvPercent, 1)}%`,
            formatMs(trial.p50Ms),
            formatMs(trial.p99Ms),
            trial.p99AtGuardLoadMs === undefined ? '-' : formatMs(trial.p99AtGuardLoadMs),
            formatNumber(trial.errors),
            trial.verdict,
          ]),
        );
        ctx.out.line(
          style.dim(
            `OPS/S: median of ${result.rounds} interleaved round${result.rounds === 1 ? '' : 's'}; ` +
              'MIN, MAX and CV (coefficient of variation) over the rounds; P50, P99 at full ' +
              `speed; P99 AT LOAD: paced at ${formatNumber(result.guardRate, 1)} calls/s, what ` +
              'the latency guard compares',
          ),
        );
        ctx.out.line();
        ctx.out.line(
          `${style.bold('winner:')} ${result.winner.label} ` +
            (result.guardReference === result.baseline
              ? `(${result.speedup.toFixed(2)}x the baseline's median throughput`
              : '(the baseline failed') +
            `${result.chosenBy === 'tie-break' ? '; no significant winner: chosen by the tie-break' : ''})`,
        );
        if (result.lead) {
          ctx.out.line(
            `${style.bold('lead:')} ${result.fastest.label} over ${result.lead.over}: ` +
              leadLine(result.lead, result.alpha),
          );
        }
        if (result.versusBaseline) {
          ctx.out.line(
            `${style.bold('vs baseline:')} ${leadLine(result.versusBaseline, result.alpha)}`,
          );
        }
        ctx.out.line(result.reason);
        ctx.out.line();
        ctx.out.line(style.bold('To build an executor in this configuration:'));
        ctx.out.line(result.paste);
        ctx.out.line();
        ctx.out.line(`${style.bold('stateful-route-server flags:')} ${result.serverFlags}`);
        for (const note of result.serverNotes) ctx.out.line(`  ${note}`);
      });
    },
  );
}
