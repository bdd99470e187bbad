/**
 * `link scan`: the links of a namespace without knowing the uids, one bounded page per run
 * (executor-core's `scanLinks`: SCAN on each master, never KEYS). Read-only; needs a direct
 * Redis target, since the server has no route for it.
 */
import type { Command } from 'commander';
import {
  DEFAULT_LINK_SCAN_COUNT,
  MAX_LINK_SCAN_COUNT,
  type LinkScanPage,
} from '@stateful-route/executor-core';
import type { Output } from '../output.js';
import { parsePositiveInteger } from '../parse.js';
import { examples, type Registrar } from './shared.js';

const REDIS = '--redis redis://127.0.0.1:6379';

/** The TTL column: seconds left, or `permanent`. */
export function formatTtl(ttlSeconds: number): string {
  return ttlSeconds < 0 ? 'permanent' : `${ttlSeconds}s`;
}

// Code-unit order, the same on every machine (localeCompare depends on the locale).
const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Prints one page: a table sorted by uid and service, then how to get the next page. */
export function printLinkPage(out: Output, page: LinkScanPage): void {
  const rows = [...page.links]
    .sort((a, b) => order(a.uid, b.uid) || order(a.service, b.service))
    .map((link) => [link.uid, link.service, link.podId, formatTtl(link.ttlSeconds)] as const);
  if (rows.length > 0) out.table(['UID', 'SERVICE', 'POD', 'TTL'], rows);
  else if (page.cursor === null) out.line('no links found');
  else out.line('no links in this page');
  if (page.cursor !== null) out.line(`more: --cursor ${page.cursor}`);
}

/** Registers `link scan` under the `link` command. */
export function registerLinkScan(link: Command, r: Registrar): void {
  r.action(
    link
      .command('scan')
      .description(
        'list the links of a namespace without knowing the uids, one page per run (SCAN-based; read-only; --redis or --redis-cluster only)',
      )
      .requiredOption('--namespace <ns>', 'namespace')
      .option('--service <svc>', 'only the links of this service')
      .option(
        '--count <n>',
        `most links in the page, 1..${MAX_LINK_SCAN_COUNT}`,
        String(DEFAULT_LINK_SCAN_COUNT),
      )
      .option('--cursor <c>', 'continue a scan: the cursor printed after "more:"')
      .addHelpText(
        'after',
        examples(
          `stateful-route link scan --namespace default ${REDIS}`,
          `stateful-route link scan --namespace default --service room --count 1000 ${REDIS}`,
          `stateful-route link scan --namespace default --cursor <cursor from "more:"> ${REDIS}`,
        ),
      ),
    async (ctx, _args, options) => {
      const count = parsePositiveInteger(options['count'] as string, 'count', MAX_LINK_SCAN_COUNT);
      const backend = await ctx.redisBackend('link scan');
      const service = options['service'] as string | undefined;
      const cursor = options['cursor'] as string | undefined;
      const page = await backend.executor.scanLinks(options['namespace'] as string, {
        count,
        ...(service === undefined ? {} : { service }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      ctx.out.result(page, () => printLinkPage(ctx.out, page));
    },
  );
}
