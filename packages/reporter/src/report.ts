/**
 * What a report is made of: an analysis snapshot, a comparison, and the optimizer's
 * findings, all plain data, so a report can be rendered from JSON files as well as live.
 */
import type { AnalysisSnapshot, Comparison } from '@stateful-route/analyzer';

/** One measured figure behind a finding, next to the threshold it crossed. */
export interface ReportEvidence {
  metric: string;
  observed: number;
  threshold: number;
  unit?: string;
  window?: string;
  operation?: string;
}

/** An optimizer finding as plain data (the optimizer's `Finding` fits as it is). */
export interface ReportFinding {
  id: string;
  severity: 'info' | 'warning' | 'critical';
  title: string;
  evidence: ReportEvidence[];
  /** One sentence. */
  recommendation: string;
  action?: { id: string; description: string; safe: boolean };
}

/** Everything a report can show; every part is optional. */
export interface Report {
  title?: string;
  snapshot?: AnalysisSnapshot;
  comparison?: Comparison;
  findings?: ReportFinding[];
  /** Free-form remarks shown under the headline (e.g. the machine a benchmark ran on). */
  notes?: string[];
  /** ISO 8601; default: the time of rendering. */
  generatedAt?: string;
}

/** The title of a report that has none. */
export const DEFAULT_TITLE = 'stateful-route performance report';

/** The formats `render` knows. */
export const FORMATS = ['json', 'text', 'markdown', 'html'] as const;
export type ReportFormat = (typeof FORMATS)[number];

/** The schema version of the JSON report. */
export const REPORT_SCHEMA_VERSION = 1;
