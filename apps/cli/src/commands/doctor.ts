/**
 * `doctor`: judges the target, never its own traffic. On Redis (or each master of a
 * cluster) it reads what the target says about itself (INFO, CONFIG GET save, SLOWLOG GET,
 * CLUSTER INFO, PINGs, SCRIPT EXISTS) and prints a check list; on a server it asks whether the
 * server is ready and what its optimizer finds in the live traffic it has served. It writes
 * nothing. Exit 1 when a check fails (or, with `--strict`, warns).
 */
import type { Command } from 'commander';
import type { Finding } from '@stateful-route/optimizer';
import { failing, printChecks, summarize, type Check } from '../checks.js';
import { ExitCodes } from '../errors.js';
import { ServerClient } from '../http-client.js';
import { parsePositiveInteger } from '../parse.js';
import { checkRedisTarget, LATENCY_PINGS } from '../redis-checks.js';
import { checkServerTarget } from '../server-checks.js';
import { examples, type Registrar } from './shared.js';

/** Registers `doctor`. */
export function registerDoctor(program: Command, r: Registrar): void {
  r.action(
    program
      .command('doctor')
      .description(
        'check the target and print a check list (ok / info / warn / fail, with the measured value): ' +
          'on Redis its version, role, cluster state, maxmemory and policy, persistence, latency, slow log, ' +
          'scripts and fragmentation (read-only); on a server its readiness and the findings on its live ' +
          'traffic. Exit 1 when a check fails',
      )
      .option('--strict', 'exit 1 on a warning too')
      .option('--pings <n>', 'PINGs per node for the latency figure', String(LATENCY_PINGS))
      .addHelpText(
        'after',
        examples(
          'stateful-route doctor --redis redis://127.0.0.1:6379',
          'stateful-route doctor --redis-cluster 10.0.0.1:7000,10.0.0.2:7000 --strict',
          'stateful-route doctor --server http://127.0.0.1:8080 --token $TOKEN --json',
        ),
      ),
    async (ctx, _args, options) => {
      const pings = parsePositiveInteger(options['pings'] as string, 'pings', 1000);
      const strict = options['strict'] === true;
      const target = ctx.target();
      let checks: Check[];
      let findings: Finding[] | undefined;
      const source = ctx.describeTarget();
      if (target.kind === 'server') {
        const client = new ServerClient(
          target.url,
          target.token,
          ctx.connectOptions().commandTimeoutMs,
        );
        ({ checks, findings } = await checkServerTarget(client));
      } else {
        // Unreachable or refused credentials: thrown here, exit 3 like every command.
        const backend = await ctx.redisBackend('doctor');
        checks = await checkRedisTarget({
          client: backend.client,
          executor: backend.executor,
          pings,
        });
      }
      const summary = summarize(checks);
      ctx.out.result(
        { source, target: target.kind, checks, summary, ...(findings ? { findings } : {}) },
        () => {
          ctx.out.line(`doctor: ${source}`);
          printChecks(ctx.out, checks);
        },
      );
      return failing(checks, strict) ? ExitCodes.FINDINGS : ExitCodes.OK;
    },
  );
}
