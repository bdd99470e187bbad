/**
 * The JSON report: the snapshot, comparison and findings as given, with the headline and a
 * schema version, in a fixed key order so that diffs of two reports stay readable.
 */
import type { Report } from './report.js';
import { DEFAULT_TITLE, REPORT_SCHEMA_VERSION } from './report.js';
import { headline, sortFindings } from './summary.js';

/** Renders the JSON report (two-space indentation, trailing newline). */
export function renderJson(report: Report, generatedAt: string): string {
  const document = {
    reportSchemaVersion: REPORT_SCHEMA_VERSION,
    title: report.title ?? DEFAULT_TITLE,
    generatedAt,
    headline: headline(report),
    snapshot: report.snapshot ?? null,
    comparison: report.comparison ?? null,
    findings: sortFindings(report.findings ?? []),
    notes: report.notes ?? [],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
