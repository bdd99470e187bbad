/**
 * @stateful-route/reporter: renders analyses of the stateful-route executor (snapshots,
 * baseline comparisons, optimizer findings) as JSON, terminal text, Markdown for a
 * pull-request comment, or one self-contained HTML file.
 */
export { render } from './render.js';
export { FORMATS, REPORT_SCHEMA_VERSION } from './report.js';
export type { Report, ReportFinding, ReportEvidence, ReportFormat } from './report.js';
export { headline } from './summary.js';
export { formatMs, formatMsValue } from './units.js';
export type { Headline, HeadlineLine, ReportStatus, Tone } from './summary.js';
export {
  ReporterErrorCodes,
  ReporterErrorDescriptions,
  ReporterError,
  UnsupportedFormatError,
  InvalidReportError,
} from './errors.js';
export type { ReporterErrorCode } from './errors.js';
