/**
 * `render(report, format)`: one entry point for every output format.
 */
import { InvalidReportError, UnsupportedFormatError } from './errors.js';
import { renderHtml } from './format-html.js';
import { renderJson } from './format-json.js';
import { renderMarkdown } from './format-markdown.js';
import { renderText } from './format-text.js';
import { buildReportModel } from './report-model.js';
import type { ReportModel } from './report-model.js';
import { FORMATS } from './report.js';
import type { Report, ReportFormat } from './report.js';

/** A view of the report model. */
const view =
  (emit: (model: ReportModel) => string) =>
  (report: Report, generatedAt: string): string =>
    emit(buildReportModel(report, generatedAt));

// JSON is the data itself; the other formats lay out the one report model.
const RENDERERS: Record<ReportFormat, (report: Report, generatedAt: string) => string> = {
  json: renderJson,
  text: view(renderText),
  markdown: view(renderMarkdown),
  html: view(renderHtml),
};

function validate(report: unknown): asserts report is Report {
  if (report === null || typeof report !== 'object' || Array.isArray(report)) {
    throw new InvalidReportError('report', 'must be an object');
  }
  const r = report as Record<string, unknown>;
  const snapshot = r.snapshot as { schemaVersion?: unknown; operations?: unknown } | undefined;
  if (snapshot !== undefined) {
    if (snapshot === null || typeof snapshot !== 'object' || snapshot.schemaVersion !== 1) {
      throw new InvalidReportError('snapshot', 'must be an analysis snapshot with schemaVersion 1');
    }
    if (typeof snapshot.operations !== 'object' || snapshot.operations === null) {
      throw new InvalidReportError('snapshot', 'has no operations');
    }
  }
  const comparison = r.comparison as { operations?: unknown; verdict?: unknown } | undefined;
  if (comparison !== undefined && (!Array.isArray(comparison?.operations) || !comparison.verdict)) {
    throw new InvalidReportError('comparison', 'must be the result of compare()');
  }
  if (
    r.notes !== undefined &&
    (!Array.isArray(r.notes) || r.notes.some((n) => typeof n !== 'string'))
  ) {
    throw new InvalidReportError('notes', 'must be an array of strings');
  }
  if (r.findings !== undefined && !Array.isArray(r.findings)) {
    throw new InvalidReportError('findings', 'must be an array');
  }
}

/**
 * Renders a report as `json`, `text` (fits 100 columns), `markdown` (for a pull-request
 * comment) or `html` (one self-contained file). The headline comes first in every format.
 * @throws SR_REPORTER_FORMAT for any other format, listing the supported ones.
 * @throws SR_REPORTER_INVALID_REPORT when the report or one of its parts has the wrong shape.
 * @example
 * const markdown = render({ title: 'nightly', snapshot, comparison, findings }, 'markdown');
 */
export function render(report: Report, format: ReportFormat): string {
  const renderer = (RENDERERS as Record<string, (typeof RENDERERS)[ReportFormat] | undefined>)[
    format
  ];
  if (!renderer || !Object.hasOwn(RENDERERS, format)) {
    throw new UnsupportedFormatError(String(format), FORMATS);
  }
  validate(report);
  return renderer(report, report.generatedAt ?? new Date().toISOString());
}
