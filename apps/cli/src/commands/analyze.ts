/**
 * `analyze`: the figures of a running deployment without touching its code. Scrapes a
 * Prometheus `/metrics` endpoint twice, `--duration` apart, and turns the two scrapes into
 * a snapshot (rates from counters, latency percentiles estimated from histogram buckets).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { fromExposition } from '@stateful-route/analyzer';
import { UsageError } from '../errors.js';
import { writeTextFile } from '../files.js';
import { ServerClient } from '../http-client.js';
import { formatNumber } from '../output.js';
import { parseDuration, quote } from '../parse.js';
import { every } from '../progress.js';
import { printSnapshot } from '../snapshot-view.js';
import { examples, type Registrar } from './shared.js';

/** Registers `analyze`. */
export function registerAnalyze(program: Command, r: Registrar): void {
  r.action(
    program
      .command('analyze')
      .description(
        'scrape a /metrics endpoint twice and print per-operation rates and latency estimates (read-only)',
      )
      .option('--url <url>', 'the Prometheus endpoint (default: <--server>/metrics)')
      .option('--duration <time>', 'time between the two scrapes (e.g. 30s, 2m)', '30s')
      .option(
        '--metrics-token <token>',
        'bearer token for /metrics when the server has --metrics-token (env STATEFUL_ROUTE_METRICS_TOKEN)',
      )
      .option('--executor <name>', "only this executor's series (its `executor` label)")
      .option('--out <file>', 'save the snapshot (JSON) for report')
      .addHelpText(
        'after',
        examples(
          'stateful-route analyze --url http://127.0.0.1:8080/metrics --duration 30s',
          'stateful-route analyze --server http://127.0.0.1:8080 --duration 1m --json > live.json',
        ),
      ),
    async (ctx, _args, options) => {
      const durationMs = parseDuration(options['duration'] as string, 'duration', 100);
      const url = metricsUrl(
        options['url'] as string | undefined,
        ctx.globals.server ?? ctx.io.env['STATEFUL_ROUTE_SERVER'],
      );
      const timeoutMs = ctx.connectOptions().commandTimeoutMs;
      // /metrics is open unless the server sets its own metrics token; the /v1 token is not it.
      const token =
        (options['metricsToken'] as string | undefined) ??
        ctx.io.env['STATEFUL_ROUTE_METRICS_TOKEN'];
      const client = new ServerClient(url, token, timeoutMs);

      const before = await client.text('');
      const started = Date.now();
      const bar = ctx.progress();
      const stop = every(200, (elapsed) =>
        bar.update(
          elapsed / durationMs,
          `${formatNumber(elapsed / 1000, 1)}s/${formatNumber(durationMs / 1000, 1)}s`,
        ),
      );
      try {
        // Ctrl-C ends the wait early: the second scrape still happens, over a shorter span.
        await sleep(durationMs, undefined, ctx.io.signal ? { signal: ctx.io.signal } : {}).catch(
          () => {},
        );
      } finally {
        stop();
        bar.done();
      }
      const after = await client.text('');
      const seconds = (Date.now() - started) / 1000;
      const executor = options['executor'] as string | undefined;
      const snapshot = fromExposition(
        before,
        after,
        seconds,
        executor === undefined ? {} : { executor },
      );
      if (options['out'] !== undefined) {
        await writeTextFile(options['out'] as string, JSON.stringify(snapshot, null, 2), '--out');
      }
      ctx.out.result(snapshot, () => {
        ctx.out.line(`${url} over ${formatNumber(seconds, 1)} s:`);
        printSnapshot(ctx.out, snapshot);
        if (options['out'] !== undefined)
          ctx.out.line(`snapshot saved to ${String(options['out'])}`);
      });
    },
  );
}

function metricsUrl(url: string | undefined, server: string | undefined): string {
  const chosen = url ?? (server ? `${server.replace(/\/+$/, '')}/metrics` : undefined);
  if (chosen === undefined) {
    throw new UsageError('analyze needs --url http://host:port/metrics (or --server URL)', {
      field: 'url',
    });
  }
  try {
    const parsed = new URL(chosen);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new UsageError(`--url: must be an http:// or https:// URL (got ${quote(chosen)})`, {
      field: 'url',
    });
  }
  return chosen;
}
