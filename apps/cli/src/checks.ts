/**
 * The check list `doctor` prints: one line per thing it judged on the target, each `ok`,
 * `info`, `warn` or `fail` with the measured value and the reason. Only a `fail` (or a `warn`
 * under `--strict`) makes the command exit 1.
 */
import type { Output } from './output.js';

/** How a check came out. `info` is said for context and never counts against the target. */
export type CheckStatus = 'ok' | 'info' | 'warn' | 'fail';

/** One judged item of the target. */
export interface Check {
  /** Stable name of the check (`maxmemory-policy`, `latency`, ...), documented in the README. */
  id: string;
  status: CheckStatus;
  /** What was measured or read, as printed (`7.0.15`, `allkeys-lru`, `p50 0.12 ms`). */
  value: string;
  /** Why this status: the rule and its threshold, or what to do about it. */
  reason?: string;
  /** The node it is about (`host:port`) on a cluster or when the target has several. */
  node?: string;
}

/** Counts of each status. */
export type CheckSummary = Record<CheckStatus, number>;

/** How many checks came out with each status. */
export function summarize(checks: readonly Check[]): CheckSummary {
  const summary: CheckSummary = { ok: 0, info: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  return summary;
}

/** Whether the checks call for exit 1: a failure, or a warning when `strict`. */
export function failing(checks: readonly Check[], strict: boolean): boolean {
  return checks.some((c) => c.status === 'fail' || (strict && c.status === 'warn'));
}

/** Prints the check list and a summary line. */
export function printChecks(out: Output, checks: readonly Check[]): void {
  const { style } = out;
  const tags: Record<CheckStatus, string> = {
    ok: style.green('ok  '),
    info: style.dim('info'),
    warn: style.yellow('WARN'),
    fail: style.red('FAIL'),
  };
  const idWidth = Math.max(0, ...checks.map((c) => c.id.length));
  const nodeWidth = Math.max(0, ...checks.map((c) => c.node?.length ?? 0));
  for (const check of checks) {
    const node = nodeWidth > 0 ? `${(check.node ?? '').padEnd(nodeWidth)}  ` : '';
    out.line(`${tags[check.status]}  ${check.id.padEnd(idWidth)}  ${node}${check.value}`);
    if (check.reason !== undefined) {
      out.line(
        `      ${' '.repeat(idWidth)}  ${' '.repeat(node.length)}${style.dim(check.reason)}`,
      );
    }
  }
  const s = summarize(checks);
  const parts = [
    `${s.ok} ok`,
    ...(s.info > 0 ? [`${s.info} info`] : []),
    `${s.warn} warning${s.warn === 1 ? '' : 's'}`,
    `${s.fail} failure${s.fail === 1 ? '' : 's'}`,
  ];
  const line = parts.join(', ');
  out.line(s.fail > 0 ? style.red(line) : s.warn > 0 ? style.yellow(line) : style.green(line));
}
