/**
 * `report`: renders a saved snapshot (from bench --out or analyze --out), optionally
 * compared with a baseline, in text, Markdown, HTML or JSON; or fetches the live report of
 * a server (GET /v1/report).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { assertSnapshot, compare, type AnalysisSnapshot } from '@stateful-route/analyzer';
import { render, type Report, type ReportFinding } from '@stateful-route/reporter';
import { ExitCodes, UsageError } from '../errors.js';
import { readJsonFile, writeTextFile } from '../files.js';
import { ServerClient } from '../http-client.js';
import { examples, type Registrar } from './shared.js';

const FORMATS = ['text', 'markdown', 'html', 'json'] as const;
type Format = (typeof FORMATS)[number];

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/**
 * What an input file holds: a snapshot, or a document with one (a JSON report, the
 * `--json` output of bench or doctor) and perhaps a comparison and findings.
 * @throws SR_ANALYZER_SNAPSHOT_SCHEMA / SR_CLI_USAGE when it is neither (exit 2)
 */
export function reportFromInput(value: unknown, path: string): Report {
  const document = value as {
    schemaVersion?: unknown;
    snapshot?: unknown;
    comparison?: Report['comparison'];
    findings?: ReportFinding[];
    title?: string;
  } | null;
  if (document !== null && typeof document === 'object' && document.snapshot !== undefined) {
    assertSnapshot(document.snapshot, `${path} (snapshot)`);
    return {
      snapshot: document.snapshot,
      // bench --threshold without --baseline saves threshold verdicts, not a comparison.
      ...(Array.isArray(document.comparison?.operations)
        ? { comparison: document.comparison }
        : {}),
      ...(Array.isArray(document.findings) ? { findings: document.findings } : {}),
      ...(typeof document.title === 'string' ? { title: document.title } : {}),
    };
  }
  if (document !== null && typeof document === 'object' && 'operations' in document) {
    assertSnapshot(document, path);
    return { snapshot: document as AnalysisSnapshot };
  }
  throw new UsageError(
    `--input: ${path} holds no analysis snapshot (save one with bench --out or analyze --out)`,
    { field: 'input' },
  );
}

/** Registers `report`. */
export function registerReport(program: Command, r: Registrar): void {
  r.action(
    program
      .command('report')
      .description(
        'render a saved snapshot (text, markdown, html, json), or the live report of a server (read-only)',
      )
      .option('--input <file>', 'a snapshot saved by bench --out or analyze --out')
      .option(
        '--baseline <file>',
        'compare the input with this snapshot (changes with their significance)',
      )
      .option(
        '--threshold <check>',
        "an SLO check on the input, e.g. 'p99<5ms' (repeatable)",
        collect,
      )
      .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('text'))
      .option('--title <text>', 'title of the report')
      .option('--out <file>', 'write the report to a file instead of stdout')
      .addHelpText(
        'after',
        examples(
          'stateful-route report --input run.json',
          'stateful-route report --input run.json --format html --out report.html',
          "stateful-route report --input run.json --baseline base.json --threshold 'p99<5ms' --format markdown",
          'stateful-route report --server http://127.0.0.1:8080 --format markdown',
        ) + '\nWith --baseline or --threshold, the exit code is 1 when the comparison fails.\n',
      ),
    async (ctx, _args, options) => {
      // --json asks for machine output: the JSON report. Naming another format with it is a
      // contradiction, refused rather than answered with one of the two in silence.
      const named = options['format'] as Format;
      if (ctx.out.json && named !== 'text' && named !== 'json') {
        throw new UsageError(
          `--json and --format ${named} ask for two outputs: use --format ${named} alone, or --json`,
          { field: 'format' },
        );
      }
      const format = ctx.out.json ? 'json' : named;
      const out = options['out'] as string | undefined;
      const input = options['input'] as string | undefined;
      const thresholds = (options['threshold'] as string[] | undefined) ?? [];
      let text: string;
      let exit: 0 | 1 = ExitCodes.OK;
      if (input === undefined) {
        const target = ctx.target();
        if (target.kind !== 'server') {
          throw new UsageError(
            'report needs --input <snapshot.json>, or --server <url> for the live report',
            {
              field: 'input',
            },
          );
        }
        if (options['baseline'] !== undefined || thresholds.length > 0) {
          throw new UsageError(
            '--baseline and --threshold apply to --input, not to a server report',
            {
              field: 'baseline',
            },
          );
        }
        const client = new ServerClient(
          target.url,
          target.token,
          ctx.connectOptions().commandTimeoutMs,
        );
        text = await client.text('/v1/report', { query: { format } });
      } else {
        const report = reportFromInput(await readJsonFile(input, '--input'), input);
        const baselinePath = options['baseline'] as string | undefined;
        if (baselinePath !== undefined || thresholds.length > 0) {
          const baseline =
            baselinePath === undefined
              ? report.snapshot!
              : await readJsonFile(baselinePath, '--baseline');
          if (baselinePath !== undefined) assertSnapshot(baseline, `--baseline ${baselinePath}`);
          report.comparison = compare(baseline as AnalysisSnapshot, report.snapshot!, {
            thresholds,
          });
          if (!report.comparison.verdict.pass) exit = ExitCodes.FINDINGS;
        }
        if (options['title'] !== undefined) report.title = options['title'] as string;
        text = render(report, format);
      }
      if (out !== undefined) {
        await writeTextFile(out, text, '--out');
        ctx.out.note(`report written to ${out}`);
      } else {
        ctx.out.raw(text);
      }
      return exit;
    },
  );
}
