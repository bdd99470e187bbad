// docs/errors.md must be what the generator writes from the code tables the packages export:
// a code added, renamed or re-described without regenerating the page fails here. And the
// registry itself must hold: every code described, every class named exported and branded.
import { readFile } from 'node:fs/promises';
import * as analyzer from '@stateful-route/analyzer';
import * as cli from '@stateful-route/cli';
import * as executorCore from '@stateful-route/executor-core';
import * as metrics from '@stateful-route/metrics';
import * as optimizer from '@stateful-route/optimizer';
import * as reporter from '@stateful-route/reporter';
import * as server from '@stateful-route/server';
import { describe, expect, it } from 'vitest';
import {
  CODE_TABLES,
  errorCodeRows,
  GENERATED_MARKER,
  renderErrors,
  type CodeTable,
} from '../src/error-codes.js';
import { repositoryRoot } from '../src/server-process.js';

const { isStatefulRouteError, ERROR_BRAND } = executorCore;

const target = `${repositoryRoot}docs/errors.md`;

// What each package exports, to find the classes its descriptions name.
const EXPORTS: Record<string, Record<string, unknown>> = {
  '@stateful-route/executor-core': executorCore,
  '@stateful-route/metrics': metrics,
  '@stateful-route/analyzer': analyzer,
  '@stateful-route/optimizer': optimizer,
  '@stateful-route/reporter': reporter,
  '@stateful-route/server': server,
  '@stateful-route/cli': cli,
};

// Every code docs/errors.md listed when it was written by hand: codes are stable, so each
// stays in the registry (a retired one would stay too, marked so, and never be reused).
const STABLE_CODES = [
  'SR_VALIDATION',
  'SR_REDIS_CONNECTION',
  'SR_REDIS_TIMEOUT',
  'SR_REDIS_AUTH',
  'SR_REDIS_CLUSTER',
  'SR_REDIS_BUSY',
  'SR_EXECUTOR_CLOSED',
  'SR_REDIS_OOM',
  'SR_REDIS_SCRIPT',
  'SR_REDIS_COMMAND',
  'SR_CORRUPT_VALUE',
  'SR_UNSUPPORTED',
  'SR_METRICS_OPTIONS',
  'SR_METRICS_CONFLICT',
  'SR_CLI_USAGE',
  'SR_CLI_UNREACHABLE',
  'SR_CLI_REMOTE',
  'SR_CLI_INTERNAL',
  'SR_OPTIMIZER_INVALID_OPTION',
  'SR_ANALYZER_INVALID_OPTION',
  'SR_ANALYZER_THRESHOLD_SYNTAX',
  'SR_ANALYZER_EXPOSITION_PARSE',
  'SR_ANALYZER_SNAPSHOT_SCHEMA',
  'SR_REPORTER_FORMAT',
  'SR_REPORTER_INVALID_REPORT',
  'SR_UNAUTHORIZED',
  'SR_BAD_REQUEST',
  'SR_NOT_FOUND',
  'SR_METHOD_NOT_ALLOWED',
  'SR_REQUEST_TIMEOUT',
  'SR_BODY_TOO_LARGE',
  'SR_UNSUPPORTED_MEDIA_TYPE',
  'SR_HEADERS_TOO_LARGE',
  'SR_SHUTTING_DOWN',
  'SR_METRICS_UNAVAILABLE',
  'SR_INTERNAL',
  'SR_CONFIG',
];

describe('docs/errors.md', () => {
  it('is what the generator writes from the code tables (regenerate: pnpm --filter @stateful-route/docs-gen gen)', async () => {
    const current = await readFile(target, 'utf8');
    expect(current).toContain(GENERATED_MARKER);
    expect(current).toBe(await renderErrors(current, target));
  });

  it('lists every code of every table, with its package, status and exit code', async () => {
    const current = await readFile(target, 'utf8');
    for (const row of errorCodeRows()) {
      const line = current
        .split('\n')
        .find((l) => l.startsWith(`| \`${row.code}\``) && l.includes(`\`${row.packageName}\``));
      expect(line, `${row.code} of ${row.packageName}`).toBeDefined();
      const cells = line!
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      expect(cells.at(-2)).toBe(row.httpStatus);
      expect(cells.at(-1)).toBe(row.exitCode);
    }
  });

  it('a code edited in a table changes the page: the freshness check can fail', async () => {
    const current = await readFile(target, 'utf8');
    const rows = errorCodeRows().map((row) =>
      row.code === 'SR_NOT_FOUND' ? { ...row, meaning: 'no route here.' } : row,
    );
    expect(await renderErrors(current, target, rows)).not.toBe(current);
    await expect(renderErrors('# no marker\n', target)).rejects.toThrow(/no line/);
  });
});

describe('the registry of codes', () => {
  const rows = errorCodeRows();

  it('keeps every code the page ever listed', () => {
    const codes = new Set(rows.map((row) => row.code));
    for (const code of STABLE_CODES) expect(codes.has(code), code).toBe(true);
  });

  it('gives each code one owner (the server shares SR_VALIDATION with the executor, by design)', () => {
    const owners = new Map<string, string[]>();
    for (const row of rows)
      owners.set(row.code, [...(owners.get(row.code) ?? []), row.packageName]);
    for (const [code, packages] of owners) {
      if (code === executorCore.ErrorCodes.VALIDATION) {
        expect(packages).toEqual(['@stateful-route/executor-core', '@stateful-route/server']);
      } else {
        expect(packages, code).toHaveLength(1);
      }
    }
  });

  it('describes every code of a table and nothing else (a widened table is refused)', () => {
    const broken: CodeTable = {
      packageName: '@stateful-route/example',
      surface: 'library',
      codes: { A: 'SR_EXAMPLE_A', B: 'SR_EXAMPLE_B' },
      descriptions: { SR_EXAMPLE_A: { classes: [], meaning: 'a' } },
    };
    expect(() => errorCodeRows([broken])).toThrow(/SR_EXAMPLE_B/);
  });

  it.each(CODE_TABLES.map((table) => [table.packageName, table] as const))(
    '%s: each class named is exported and carries the brand',
    (packageName, table) => {
      const exported = EXPORTS[packageName]!;
      for (const [code, { classes }] of Object.entries(table.descriptions)) {
        for (const name of classes) {
          const cls = exported[name] as { prototype: Record<symbol, unknown> } | undefined;
          expect(typeof cls, `${packageName} exports ${name} (${code})`).toBe('function');
          expect(cls!.prototype[ERROR_BRAND], `${name} is branded`).toBe(true);
        }
      }
    },
  );
});

// One error of each package, recognised by executor-core's guard: the brand crosses package
// boundaries without a runtime dependency (metrics and the reporter set it themselves).
describe('the brand across packages', () => {
  it.each([
    ['executor-core', new executorCore.ValidationError('uid', 'blank', 'x')],
    ['executor-core', new executorCore.TimeoutError('x')],
    ['metrics', new metrics.MetricsOptionsError('buckets', 'x')],
    ['metrics', new metrics.MetricsConflictError('sr_ops_total', 'x')],
    ['analyzer', new analyzer.ThresholdSyntaxError('p99<<5ms', 'x')],
    ['analyzer', new analyzer.InvalidOptionError('alpha', 'x')],
    ['optimizer', new optimizer.OptimizerOptionError('rounds', 'x')],
    ['reporter', new reporter.UnsupportedFormatError('pdf', ['json'])],
    ['server', new server.RequestValidationError('uids', 'x')],
    ['server', new server.UnauthorizedError()],
    ['cli', new cli.UsageError('x')],
    ['cli', new cli.RemoteError(404, 'SR_NOT_FOUND', 'x')],
  ])('an error of %s passes isStatefulRouteError: %s', (_pkg, error) => {
    expect(isStatefulRouteError(error)).toBe(true);
    // ... and keeps its own class: the brand does not make it an executor error.
    expect(error instanceof executorCore.StatefulRouteError).toBe(_pkg === 'executor-core');
  });

  it('a plain Error with an SR_ code does not', () => {
    expect(isStatefulRouteError(Object.assign(new Error('x'), { code: 'SR_X' }))).toBe(false);
    expect(
      isStatefulRouteError(Object.assign(new Error('x'), { code: 'SR_ANALYZER_INVALID_OPTION' })),
    ).toBe(false);
  });

  it('the two option errors are distinct classes with distinct codes', () => {
    const analyzerOption = new analyzer.InvalidOptionError('alpha', 'x');
    const optimizerOption = new optimizer.OptimizerOptionError('rounds', 'x');
    expect(analyzerOption).not.toBeInstanceOf(optimizer.OptimizerOptionError);
    expect(optimizerOption).not.toBeInstanceOf(analyzer.InvalidOptionError);
    expect(analyzerOption.code).toBe('SR_ANALYZER_INVALID_OPTION');
    expect(optimizerOption.code).toBe('SR_OPTIMIZER_INVALID_OPTION');
    expect(optimizer).not.toHaveProperty('InvalidOptionError');
  });
});
