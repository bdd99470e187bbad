/**
 * `doctor`: the optimizer's findings, with their evidence. On a Redis target it runs a short
 * probe workload under its own namespace (deleted afterwards) and evaluates the rules on
 * what it measured; on a server it asks for the server's own findings.
 */
import type { Command } from 'commander';
import { createAnalyzer, runWorkload } from '@stateful-route/analyzer';
import { diagnose, type Finding } from '@stateful-route/optimizer';
import { ExitCodes, RemoteError, CliErrorCodes } from '../errors.js';
import { ServerClient } from '../http-client.js';
import { formatNumber, type Output } from '../output.js';
import { parseDuration, parsePositiveInteger } from '../parse.js';
import { benchNamespace } from '../probe.js';
import { every } from '../progress.js';
import { examples, type Registrar } from './shared.js';

/** Whether findings call for action (exit 1): a warning or a critical one. */
export function actionable(findings: readonly Finding[]): boolean {
  return findings.some(
    (finding) => finding.severity === 'warning' || finding.severity === 'critical',
  );
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

/** Prints findings, most severe first, each with its evidence and recommendation. */
export function printFindings(out: Output, findings: readonly Finding[]): void {
  const { style } = out;
  if (findings.length === 0) {
    out.line(style.green('no findings: nothing to fix'));
    return;
  }
  const sorted = [...findings].sort(
    (a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity],
  );
  for (const finding of sorted) {
    const tag =
      finding.severity === 'critical'
        ? style.red('CRITICAL')
        : finding.severity === 'warning'
          ? style.yellow('WARNING')
          : style.dim('info');
    out.line(`${tag}  ${style.bold(finding.title)}  ${style.dim(`(${finding.id})`)}`);
    for (const evidence of finding.evidence) {
      const unit = evidence.unit ? ` ${evidence.unit}` : '';
      const where = [evidence.operation, evidence.window].filter(Boolean).join(', ');
      out.line(
        `    ${evidence.metric}: ${formatNumber(evidence.observed, 3)}${unit} ` +
          `(threshold ${formatNumber(evidence.threshold, 3)}${unit})${where ? ` [${where}]` : ''}`,
      );
    }
    out.line(`    -> ${finding.recommendation}`);
    if (finding.action) {
      out.line(
        style.dim(`    action: ${finding.action.id}${finding.action.safe ? ' (safe)' : ''}`),
      );
    }
  }
}

/** Registers `doctor`. */
export function registerDoctor(program: Command, r: Registrar): void {
  r.action(
    program
      .command('doctor')
      .description(
        "the optimizer's findings: after a short probe workload on a Redis target (under its own " +
          'namespace, deleted afterwards), or from a server (GET /v1/optimizations). Exit 1 on a warning or critical finding',
      )
      .option('--duration <time>', 'length of the probe workload on a Redis target', '3s')
      .option('--concurrency <n>', 'calls in flight during the probe', '64')
      .addHelpText(
        'after',
        examples(
          'stateful-route doctor --redis redis://127.0.0.1:6379',
          'stateful-route doctor --server http://127.0.0.1:8080 --token $TOKEN --json',
        ),
      ),
    async (ctx, _args, options) => {
      const durationMs = parseDuration(options['duration'] as string, 'duration', 100);
      const concurrency = parsePositiveInteger(
        options['concurrency'] as string,
        'concurrency',
        10_000,
      );
      const target = ctx.target();
      let findings: Finding[];
      let source: string;
      let namespace: string | undefined;
      if (target.kind === 'server') {
        const client = new ServerClient(
          target.url,
          target.token,
          ctx.connectOptions().commandTimeoutMs,
        );
        const reply = await client.json<unknown>('/v1/optimizations');
        findings = findingsOf(reply);
        source = `${target.url}/v1/optimizations`;
      } else {
        const backend = await ctx.redisBackend('doctor');
        namespace = benchNamespace(ctx, backend);
        const analyzer = createAnalyzer({ executor: backend.executor, redis: backend.client });
        ctx.onClose(async () => analyzer.close());
        const bar = ctx.progress();
        const stop = every(200, (elapsed) => bar.update(elapsed / durationMs, 'probing'));
        try {
          await runWorkload(backend.executor, {
            durationMs,
            concurrency,
            namespace,
            analyzer,
            ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
          });
        } finally {
          stop();
          bar.done();
        }
        findings = await diagnose({ analyzer, executor: backend.executor, redis: backend.client });
        source = `a ${formatNumber(durationMs / 1000, 1)} s probe on ${ctx.describeTarget()}`;
      }
      ctx.out.result({ source, ...(namespace ? { namespace } : {}), findings }, () => {
        ctx.out.line(`findings from ${source}:`);
        printFindings(ctx.out, findings);
      });
      return actionable(findings) ? ExitCodes.FINDINGS : ExitCodes.OK;
    },
  );
}

function findingsOf(reply: unknown): Finding[] {
  const list = Array.isArray(reply) ? reply : (reply as { findings?: unknown } | null)?.findings;
  if (!Array.isArray(list)) {
    throw new RemoteError(
      200,
      CliErrorCodes.REMOTE,
      'the server replied to /v1/optimizations without findings',
    );
  }
  return list as Finding[];
}
