/**
 * The registry of error codes: the code table and descriptions every package exports, with
 * the HTTP status of the server's one status table and the exit code of the CLI's one
 * mapping, rendered as the generated part of docs/errors.md.
 */
import { AnalyzerErrorCodes, AnalyzerErrorDescriptions } from '@stateful-route/analyzer';
import { CliErrorCodes, CliErrorDescriptions, exitCodeOfCode } from '@stateful-route/cli';
import {
  ErrorCodes,
  ErrorDescriptions,
  type CodeDescriptions,
} from '@stateful-route/executor-core';
import { MetricsErrorCodes, MetricsErrorDescriptions } from '@stateful-route/metrics';
import { OptimizerErrorCodes, OptimizerErrorDescriptions } from '@stateful-route/optimizer';
import { ReporterErrorCodes, ReporterErrorDescriptions } from '@stateful-route/reporter';
import {
  ServerErrorCodes,
  ServerErrorDescriptions,
  STATUS_OF_CODE,
  statusOfCode,
} from '@stateful-route/server';
import { format, resolveConfig } from 'prettier';

/**
 * Where a package's codes surface: a library's in whatever uses it (the server answers them
 * with the status of its table), the server's in HTTP replies, the CLI's only in the CLI.
 */
export type CodeSurface = 'library' | 'server' | 'cli';

/** One package's code table, as it exports it. */
export interface CodeTable {
  readonly packageName: string;
  readonly surface: CodeSurface;
  /** The package's code object (`ErrorCodes`, `AnalyzerErrorCodes`, ...). */
  readonly codes: Readonly<Record<string, string>>;
  /** Its descriptions, keyed by code (`ErrorDescriptions`, `AnalyzerErrorDescriptions`, ...). */
  readonly descriptions: CodeDescriptions<string>;
}

/** Every package's code table, in the order of the dependency rule. */
export const CODE_TABLES: readonly CodeTable[] = [
  {
    packageName: '@stateful-route/executor-core',
    surface: 'library',
    codes: ErrorCodes,
    descriptions: ErrorDescriptions,
  },
  {
    packageName: '@stateful-route/metrics',
    surface: 'library',
    codes: MetricsErrorCodes,
    descriptions: MetricsErrorDescriptions,
  },
  {
    packageName: '@stateful-route/analyzer',
    surface: 'library',
    codes: AnalyzerErrorCodes,
    descriptions: AnalyzerErrorDescriptions,
  },
  {
    packageName: '@stateful-route/optimizer',
    surface: 'library',
    codes: OptimizerErrorCodes,
    descriptions: OptimizerErrorDescriptions,
  },
  {
    packageName: '@stateful-route/reporter',
    surface: 'library',
    codes: ReporterErrorCodes,
    descriptions: ReporterErrorDescriptions,
  },
  {
    packageName: '@stateful-route/server',
    surface: 'server',
    codes: ServerErrorCodes,
    descriptions: ServerErrorDescriptions,
  },
  {
    packageName: '@stateful-route/cli',
    surface: 'cli',
    codes: CliErrorCodes,
    descriptions: CliErrorDescriptions,
  },
];

/** One row of the table in docs/errors.md. */
export interface ErrorCodeRow {
  code: string;
  packageName: string;
  classes: readonly string[];
  meaning: string;
  /** The status the server answers with, or why there is none. */
  httpStatus: string;
  /** What the CLI exits with when a command fails with this code, or why it never does. */
  exitCode: string;
}

// The status and exit code of a code, by where it surfaces.
function outcomes(
  surface: CodeSurface,
  code: string,
): Pick<ErrorCodeRow, 'httpStatus' | 'exitCode'> {
  switch (surface) {
    case 'library':
      return { httpStatus: String(statusOfCode(code)), exitCode: String(exitCodeOfCode(code)) };
    case 'server': {
      // A server code reaches the CLI only in a reply, whose status it reads too; a code
      // outside the status table is never in a reply (thrown at start-up).
      if (!Object.hasOwn(STATUS_OF_CODE, code)) {
        return { httpStatus: 'n/a (start-up)', exitCode: 'n/a (server only)' };
      }
      const status = statusOfCode(code);
      return { httpStatus: String(status), exitCode: String(exitCodeOfCode(code, status)) };
    }
    case 'cli':
      return { httpStatus: 'n/a (CLI only)', exitCode: String(exitCodeOfCode(code)) };
  }
}

/**
 * The rows of every table, in table order. Throws when a table's codes and descriptions do
 * not name the same codes (TypeScript checks this for each package; this catches a table
 * whose types were widened).
 */
export function errorCodeRows(tables: readonly CodeTable[] = CODE_TABLES): ErrorCodeRow[] {
  const rows: ErrorCodeRow[] = [];
  for (const table of tables) {
    const codes = Object.values(table.codes);
    const described = Object.keys(table.descriptions);
    const missing = codes.filter((code) => !described.includes(code));
    const extra = described.filter((code) => !codes.includes(code));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `${table.packageName}: codes without a description: [${missing.join(', ')}]; ` +
          `descriptions of no code: [${extra.join(', ')}]`,
      );
    }
    for (const code of codes) {
      const { classes, meaning } = table.descriptions[code]!;
      rows.push({
        code,
        packageName: table.packageName,
        classes,
        meaning,
        ...outcomes(table.surface, code),
      });
    }
  }
  return rows;
}

/** The line that ends the hand-written header of docs/errors.md; the table follows it. */
export const GENERATED_MARKER =
  "<!-- Generated from each package's src/errors.ts: pnpm --filter @stateful-route/docs-gen gen -->";

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function tableMarkdown(rows: readonly ErrorCodeRow[]): string {
  const lines = [
    '| code | package | class | meaning | HTTP status | exit code |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const classes =
      row.classes.length === 0 ? '-' : row.classes.map((name) => `\`${name}\``).join(', ');
    lines.push(
      `| \`${row.code}\` | \`${row.packageName}\` | ${classes} | ${cell(row.meaning)} | ${
        row.httpStatus
      } | ${row.exitCode} |`,
    );
  }
  return lines.join('\n');
}

/**
 * docs/errors.md as the generator writes it: `current`'s hand-written header (everything up to
 * and including `GENERATED_MARKER`), then the table of every code, formatted by Prettier as
 * `filepath`.
 * @throws Error when `current` has no marker line
 */
export async function renderErrors(
  current: string,
  filepath: string,
  rows: readonly ErrorCodeRow[] = errorCodeRows(),
): Promise<string> {
  const at = current.indexOf(GENERATED_MARKER);
  if (at === -1) {
    throw new Error(`${filepath}: no line ${GENERATED_MARKER} to put the table after`);
  }
  const header = current.slice(0, at + GENERATED_MARKER.length);
  const markdown = `${header}\n\n${tableMarkdown(rows)}\n`;
  const options = (await resolveConfig(filepath)) ?? {};
  return format(markdown, { ...options, filepath });
}
