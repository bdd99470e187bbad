/**
 * `analyze`: the figures of a running deployment without touching its code. Scrapes a
 * Prometheus `/metrics` endpoint twice, `--duration` apart, and turns the two scrapes into
 * a snapshot (rates from counters, latency percentiles estimated from histogram buckets).
 * With `--watch` it keeps scraping and redraws the figures of the last interval each time,
 * like `redis-cli --stat`, until Ctrl-C.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { fromExposition, type AnalysisSnapshot } from '@stateful-route/analyzer';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { writeTextFile } from '../files.js';
import { ServerClient } from '../http-client.js';
import { formatNumber } from '../output.js';
import { parseDuration, quote } from '../parse.js';
import { every } from '../progress.js';
import { scrapeExposition } from '../scrape.js';
import { printSnapshot } from '../snapshot-view.js';
import { examples, type Registrar } from './shared.js';

/** Time between the two scrapes without `--watch`. */
const DEFAULT_DURATION = '30s';
/** Redraw interval of a bare `--watch`. */
const DEFAULT_WATCH_INTERVAL = '2s';
/** Clear the screen and home the cursor (a terminal's redraw). */
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

/** Registers `analyze`. */
export function registerAnalyze(program: Command, r: Registrar): void {
  r.action(
    program
      .command('analyze')
      .description(
        'scrape a /metrics endpoint twice and print per-operation rates and latency estimates (read-only); ' +
          'with --watch, redraw them every interval until Ctrl-C',
      )
      .option('--url <url>', 'the Prometheus endpoint (default: <--server>/metrics)')
      .option(
        '--duration <time>',
        `time between the two scrapes (e.g. 30s, 2m; default ${DEFAULT_DURATION})`,
      )
      .option(
        '--watch [interval]',
        `keep scraping and redraw the last interval's figures every interval (default ${DEFAULT_WATCH_INTERVAL}) until Ctrl-C (exit 0); with --json, one JSON snapshot per line`,
      )
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
          'stateful-route analyze --server http://127.0.0.1:8080 --watch 5s',
        ),
      ),
    async (ctx, _args, options) => {
      const watch = options['watch'] as string | true | undefined;
      if (watch !== undefined && options['duration'] !== undefined) {
        throw new UsageError('--watch takes the interval itself (--watch 5s): drop --duration', {
          field: 'duration',
        });
      }
      if (watch !== undefined && options['out'] !== undefined) {
        throw new UsageError('--out saves one snapshot: it cannot be used with --watch', {
          field: 'out',
        });
      }
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
      const executor = options['executor'] as string | undefined;
      const snapshotOf = (before: string, after: string, seconds: number): AnalysisSnapshot =>
        fromExposition(before, after, seconds, executor === undefined ? {} : { executor });

      if (watch !== undefined) {
        const intervalMs = parseDuration(
          watch === true ? DEFAULT_WATCH_INTERVAL : watch,
          'watch',
          100,
        );
        await watchLoop(ctx, client, url, intervalMs, snapshotOf);
        return;
      }

      const durationMs = parseDuration(
        (options['duration'] as string | undefined) ?? DEFAULT_DURATION,
        'duration',
        100,
      );
      // Checked at once: a wrong URL is said now, not after --duration.
      const before = await scrapeExposition(client);
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
      const after = await scrapeExposition(client);
      const seconds = (Date.now() - started) / 1000;
      const snapshot = snapshotOf(before, after, seconds);
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

/**
 * Scrapes every `intervalMs` and prints the snapshot of each interval: redrawn in place on a
 * terminal, one block after another when piped, one JSON line each with `--json`. Ends when
 * the command's signal is aborted (Ctrl-C); a failed scrape ends it with that error.
 */
async function watchLoop(
  ctx: CommandContext,
  client: ServerClient,
  url: string,
  intervalMs: number,
  snapshotOf: (before: string, after: string, seconds: number) => AnalysisSnapshot,
): Promise<void> {
  const signal = ctx.io.signal;
  const redraw = ctx.io.isTTY.stdout && !ctx.out.json;
  let before = await scrapeExposition(client);
  let started = Date.now();
  if (redraw) {
    ctx.out.raw(`${CLEAR_SCREEN}${url}: first figures in ${formatNumber(intervalMs / 1000, 1)} s`);
  }
  for (let frame = 1; !signal?.aborted; frame++) {
    const waited = await sleep(intervalMs, true, signal ? { signal } : {}).catch(() => false);
    if (!waited) break;
    const after = await scrapeExposition(client);
    const now = Date.now();
    const snapshot = snapshotOf(before, after, (now - started) / 1000);
    before = after;
    started = now;
    if (ctx.out.json) {
      ctx.out.raw(JSON.stringify(snapshot));
      continue;
    }
    const time = new Date(now).toISOString().slice(11, 19);
    ctx.out.line(
      `${redraw ? CLEAR_SCREEN : ''}${url}, every ${formatNumber(intervalMs / 1000, 1)} s, #${frame} at ${time} UTC (Ctrl-C to stop):`,
    );
    printSnapshot(ctx.out, snapshot);
    if (!redraw) ctx.out.line();
  }
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
