/**
 * Reads a running server's Prometheus text exposition (`/metrics`): a small parser of the
 * text format (version 0.0.4), and `fromExposition()`, which turns two scrapes into an
 * analysis snapshot. Rates come from counter deltas; percentiles are estimated from
 * histogram bucket deltas by linear interpolation inside a bucket, as Prometheus'
 * `histogram_quantile` does, and are marked `estimated`.
 */
import {
  DEFAULT_METRIC_PREFIX,
  EXECUTOR_METRICS,
  METRIC_LABELS,
  OPERATION_STATUS,
  type ErrorType,
} from '@stateful-route/executor-core';
import { ExpositionParseError, InvalidOptionError } from './errors.js';
import { emptyErrorsByType, ERROR_TYPES, SNAPSHOT_SCHEMA_VERSION } from './snapshot.js';
import type {
  AnalysisSnapshot,
  CompactHistogram,
  LatencySummary,
  OperationSnapshot,
  ProcessSnapshot,
} from './snapshot.js';

/** One sample line. */
export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A parsed exposition: samples in order, and the declared `# TYPE` and `# HELP` (escapes
 * undone) of each family.
 */
export interface ParsedExposition {
  samples: ExpositionSample[];
  types: Record<string, string>;
  help: Record<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(text: string, line: number): number {
  // Prometheus reads these as Go's ParseFloat does, whatever their case: prom-client writes
  // a NaN gauge as `Nan`.
  switch (text.toLowerCase()) {
    case '+inf':
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    case 'nan':
      return NaN;
  }
  // Number('') is 0 and Number('0x10') is 16: both are wrong for this format.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    throw new ExpositionParseError(line, `not a number: "${text}"`);
  }
  return Number(text);
}

// HELP text escapes: `\\` is a backslash, `\n` a line feed.
function unescapeHelp(text: string): string {
  return text.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * Parses Prometheus text format (and OpenMetrics text: `# EOF`, exemplars and `_created`
 * series are accepted and ignored). Comments other than `# TYPE` and `# HELP` are skipped;
 * timestamps are read and dropped.
 * @throws SR_ANALYZER_EXPOSITION_PARSE with the 1-based line number of the first bad line.
 * @example
 * parseExposition('up{job="a"} 1\n').samples // [{ name: 'up', labels: { job: 'a' }, value: 1 }]
 */
export function parseExposition(text: string): ParsedExposition {
  const samples: ExpositionSample[] = [];
  const types: Record<string, string> = {};
  const help: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const lineNumber = i + 1;
    const line = (lines[i] ?? '').replace(/\r$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^#\s*TYPE\s+(\S+)\s+(\S+)\s*$/.exec(line);
      if (match?.[1] && match[2]) types[match[1]] = match[2];
      const docstring = /^#\s*HELP\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (docstring?.[1]) help[docstring[1]] = unescapeHelp(docstring[2] ?? '');
      continue;
    }
    const nameMatch = NAME.exec(line);
    if (!nameMatch) throw new ExpositionParseError(lineNumber, 'expected a metric name');
    const name = nameMatch[0];
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      rest = rest.slice(1).trimStart();
      while (!rest.startsWith('}')) {
        const labelMatch = LABEL_NAME.exec(rest);
        if (!labelMatch) throw new ExpositionParseError(lineNumber, 'expected a label name');
        const labelName = labelMatch[0];
        rest = rest.slice(labelName.length).trimStart();
        if (!rest.startsWith('=')) throw new ExpositionParseError(lineNumber, 'expected "="');
        rest = rest.slice(1).trimStart();
        if (!rest.startsWith('"')) {
          throw new ExpositionParseError(lineNumber, 'expected a quoted label value');
        }
        let value = '';
        let j = 1;
        for (; j < rest.length; j += 1) {
          const c = rest[j];
          if (c === '\\') {
            const next = rest[j + 1];
            value += next === 'n' ? '\n' : (next ?? '');
            j += 1;
          } else if (c === '"') {
            break;
          } else {
            value += c;
          }
        }
        if (j >= rest.length)
          throw new ExpositionParseError(lineNumber, 'unterminated label value');
        labels[labelName] = value;
        rest = rest.slice(j + 1).trimStart();
        if (rest.startsWith(',')) rest = rest.slice(1).trimStart();
        else if (!rest.startsWith('}')) {
          throw new ExpositionParseError(lineNumber, 'expected "," or "}"');
        }
      }
      rest = rest.slice(1);
    }
    if (!/^\s/.test(rest)) throw new ExpositionParseError(lineNumber, 'expected a value');
    // OpenMetrics may follow the value with an exemplar (` # {trace_id="..."} 0.5`).
    const exemplar = rest.indexOf('#');
    if (exemplar >= 0) rest = rest.slice(0, exemplar);
    const parts = rest.trim().split(/\s+/);
    if (parts.length > 2) throw new ExpositionParseError(lineNumber, 'trailing characters');
    const value = parseValue(parts[0] ?? '', lineNumber);
    // Milliseconds in the Prometheus format, (fractional) seconds in OpenMetrics.
    if (parts[1] !== undefined && !/^-?\d+(\.\d+)?$/.test(parts[1])) {
      throw new ExpositionParseError(lineNumber, `not a timestamp: "${parts[1]}"`);
    }
    samples.push({ name, labels, value });
  }
  return { samples, types, help };
}

/** A bucket of a cumulative histogram: `count` samples at or below `le`. */
export interface CumulativeBucket {
  le: number;
  count: number;
}

/**
 * The q-quantile (0..1) of a cumulative histogram, by linear interpolation within the
 * bucket holding the rank, as Prometheus' `histogram_quantile`: the first bucket starts at
 * 0; a rank in the `+Inf` bucket gives the highest finite bound. NaN when empty.
 */
export function histogramQuantile(q: number, buckets: readonly CumulativeBucket[]): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const last = sorted[sorted.length - 1];
  if (!last || last.count <= 0) return NaN;
  const total = last.count;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    const bucket = sorted[i];
    if (!bucket) continue;
    if (bucket.count >= rank && bucket.count > previousCount) {
      if (bucket.le === Infinity) {
        return sorted[i - 1]?.le ?? 0;
      }
      if (i === 0 && bucket.le <= 0) return bucket.le;
      return (
        previousLe +
        (bucket.le - previousLe) * ((rank - previousCount) / (bucket.count - previousCount))
      );
    }
    previousLe = bucket.le;
    previousCount = bucket.count;
  }
  return sorted.length > 1 ? (sorted[sorted.length - 2]?.le ?? 0) : 0;
}

/** Options of `fromExposition`. */
export interface FromExpositionOptions {
  /** Metric name prefix. Default `stateful_executor_`. */
  prefix?: string;
  /** Keep only samples whose `executor` label has this value (when the label exists). */
  executor?: string;
  /** Wall-clock ms of the second scrape (for provenance). Default `Date.now()`. */
  now?: number;
}

type Key = string;

function keyOf(labels: Record<string, string>, drop: readonly string[]): Key {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([name]) => !drop.includes(name))
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

/** Counter delta per series; a counter that went back was reset, so its later value counts. */
function deltas(
  before: ParsedExposition,
  after: ParsedExposition,
  name: string,
  keep: (sample: ExpositionSample) => boolean,
): ExpositionSample[] {
  const previous = new Map<Key, number>();
  for (const sample of before.samples) {
    if (sample.name === name && keep(sample)) previous.set(keyOf(sample.labels, []), sample.value);
  }
  const result: ExpositionSample[] = [];
  for (const sample of after.samples) {
    if (sample.name !== name || !keep(sample)) continue;
    const old = previous.get(keyOf(sample.labels, [])) ?? 0;
    const value = sample.value >= old ? sample.value - old : sample.value;
    result.push({ name, labels: sample.labels, value });
  }
  return result;
}

function gauge(parsed: ParsedExposition, name: string): number | undefined {
  let total: number | undefined;
  for (const sample of parsed.samples) {
    if (sample.name === name && Number.isFinite(sample.value)) total = (total ?? 0) + sample.value;
  }
  return total;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function estimateLatency(
  buckets: CumulativeBucket[],
  sumSeconds: number,
  count: number,
): LatencySummary {
  const ms = (q: number): number => {
    const v = histogramQuantile(q, buckets);
    return Number.isFinite(v) ? round3(v * 1000) : 0;
  };
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  let min = 0;
  let max = 0;
  let previous = 0;
  let previousLe = 0;
  for (const bucket of sorted) {
    if (bucket.count > previous) {
      if (min === 0 && previous === 0) min = previousLe;
      // A sample in +Inf can only be said to exceed the highest finite bound.
      max = bucket.le === Infinity ? previousLe : bucket.le;
    }
    previous = bucket.count;
    previousLe = bucket.le;
  }
  return {
    unit: 'ms',
    estimated: true,
    min: round3(min * 1000),
    mean: count > 0 ? round3((sumSeconds / count) * 1000) : 0,
    p50: ms(0.5),
    p90: ms(0.9),
    p95: ms(0.95),
    p99: ms(0.99),
    p999: ms(0.999),
    max: round3(max * 1000),
  };
}

function compactFromBuckets(buckets: CumulativeBucket[]): CompactHistogram {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const bounds: number[] = [];
  const counts: number[] = [];
  let previous = 0;
  let overflow = 0;
  for (const bucket of sorted) {
    const inBucket = Math.max(0, bucket.count - previous);
    previous = Math.max(previous, bucket.count);
    if (bucket.le === Infinity) {
      overflow = inBucket;
    } else {
      bounds.push(round3(bucket.le * 1e6));
      counts.push(inBucket);
    }
  }
  return { unit: 'us', scheme: 'buckets', bounds, counts, overflow };
}

/**
 * Builds an analysis snapshot from two scrapes of a server's `/metrics`, `seconds` apart:
 * per operation the calls, errors by type and throughput from counter deltas, and latency
 * percentiles estimated from the duration histogram's bucket deltas (`latency.estimated`).
 * Process figures come from prom-client's default metrics when they are exposed.
 * @throws SR_ANALYZER_EXPOSITION_PARSE when either text is not Prometheus text format.
 * @throws SR_ANALYZER_INVALID_OPTION when `seconds` is not positive.
 * @example
 * const before = await (await fetch(url)).text();
 * await sleep(30_000);
 * const snapshot = fromExposition(before, await (await fetch(url)).text(), 30);
 */
export function fromExposition(
  before: string,
  after: string,
  seconds: number,
  options: FromExpositionOptions = {},
): AnalysisSnapshot {
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidOptionError('seconds', 'must be a positive number');
  }
  const prefix = options.prefix ?? DEFAULT_METRIC_PREFIX;
  const first = parseExposition(before);
  const second = parseExposition(after);
  const keep = (sample: ExpositionSample): boolean =>
    options.executor === undefined ||
    sample.labels[METRIC_LABELS.executor] === undefined ||
    sample.labels[METRIC_LABELS.executor] === options.executor;

  interface Accumulator {
    total: number;
    errors: number;
    errorsByType: Record<ErrorType, number>;
    buckets: Map<number, number>;
    sum: number;
    histogramCount: number;
    hasTotal: boolean;
  }
  const operations = new Map<string, Accumulator>();
  const accumulator = (name: string): Accumulator => {
    let entry = operations.get(name);
    if (!entry) {
      entry = {
        total: 0,
        errors: 0,
        errorsByType: emptyErrorsByType(),
        buckets: new Map(),
        sum: 0,
        histogramCount: 0,
        hasTotal: false,
      };
      operations.set(name, entry);
    }
    return entry;
  };

  for (const sample of deltas(first, second, `${prefix}${EXECUTOR_METRICS.operations}`, keep)) {
    const operation = sample.labels[METRIC_LABELS.operation];
    if (operation === undefined) continue;
    const entry = accumulator(operation);
    entry.hasTotal = true;
    entry.total += sample.value;
    if (sample.labels[METRIC_LABELS.status] === OPERATION_STATUS.error)
      entry.errors += sample.value;
  }
  for (const sample of deltas(first, second, `${prefix}${EXECUTOR_METRICS.errors}`, keep)) {
    const operation = sample.labels[METRIC_LABELS.operation];
    if (operation === undefined) continue;
    const type = sample.labels[METRIC_LABELS.errorType] as ErrorType | undefined;
    const entry = accumulator(operation);
    entry.errorsByType[type && ERROR_TYPES.includes(type) ? type : 'other'] += sample.value;
  }
  const histogram = `${prefix}${EXECUTOR_METRICS.operationDuration}`;
  for (const sample of deltas(first, second, `${histogram}_bucket`, keep)) {
    const operation = sample.labels[METRIC_LABELS.operation];
    const le = sample.labels.le;
    if (operation === undefined || le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    if (Number.isNaN(bound)) continue;
    const entry = accumulator(operation);
    // Other labels (executor, backend) are summed over, bucket by bucket.
    entry.buckets.set(bound, (entry.buckets.get(bound) ?? 0) + sample.value);
  }
  for (const sample of deltas(first, second, `${histogram}_sum`, keep)) {
    const operation = sample.labels[METRIC_LABELS.operation];
    if (operation !== undefined) accumulator(operation).sum += sample.value;
  }
  for (const sample of deltas(first, second, `${histogram}_count`, keep)) {
    const operation = sample.labels[METRIC_LABELS.operation];
    if (operation !== undefined) accumulator(operation).histogramCount += sample.value;
  }

  const result: Record<string, OperationSnapshot> = {};
  let totalCount = 0;
  let totalErrors = 0;
  for (const name of [...operations.keys()].sort()) {
    const entry = operations.get(name);
    if (!entry) continue;
    const count = entry.hasTotal ? entry.total : entry.histogramCount;
    if (count <= 0) continue;
    const buckets = [...entry.buckets].map(([le, c]) => ({ le, count: c }));
    const latency = estimateLatency(buckets, entry.sum, entry.histogramCount);
    const errors = entry.hasTotal
      ? entry.errors
      : Object.values(entry.errorsByType).reduce((a, b) => a + b, 0);
    result[name] = {
      count,
      errors,
      errorsByType: entry.errorsByType,
      throughput: Math.round((count / seconds) * 100) / 100,
      cached: 0,
      latency,
      histogram: compactFromBuckets(buckets),
      timeline: [{ t: 0, count, errors, p99: latency.p99 }],
    };
    totalCount += count;
    totalErrors += errors;
  }

  const endMs = options.now ?? Date.now();
  const versionSample = second.samples.find((s) => s.name === 'nodejs_version_info');
  const snapshot: AnalysisSnapshot = {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    source: 'exposition',
    provenance: {
      packages: {},
      node: versionSample?.labels.version ?? null,
      backend: null,
      topology: null,
      scriptTransport: null,
      autoPipelining: null,
      connections: null,
      nearCache: null,
      executor: options.executor ?? null,
      startedAt: new Date(endMs - seconds * 1000).toISOString(),
      endedAt: new Date(endMs).toISOString(),
      durationSeconds: seconds,
    },
    operations: result,
    totals: {
      count: totalCount,
      errors: totalErrors,
      errorRate: totalCount === 0 ? 0 : totalErrors / totalCount,
      throughput: Math.round((totalCount / seconds) * 100) / 100,
    },
  };
  const process = processFigures(first, second);
  if (process) snapshot.process = process;
  return snapshot;
}

/** prom-client's default metrics, when the server registers them. */
function processFigures(
  first: ParsedExposition,
  second: ParsedExposition,
): ProcessSnapshot | undefined {
  const heapUsed = gauge(second, 'nodejs_heap_size_used_bytes');
  const rss = gauge(second, 'process_resident_memory_bytes');
  const p50 = gauge(second, 'nodejs_eventloop_lag_p50_seconds');
  if (heapUsed === undefined && rss === undefined && p50 === undefined) return undefined;
  const sumDelta = (name: string): number =>
    deltas(first, second, name, () => true).reduce((a, s) => a + s.value, 0);
  const gcBuckets = new Map<number, number>();
  for (const sample of deltas(first, second, 'nodejs_gc_duration_seconds_bucket', () => true)) {
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    gcBuckets.set(le, (gcBuckets.get(le) ?? 0) + sample.value);
  }
  const gcLatency = estimateLatency(
    [...gcBuckets].map(([le, count]) => ({ le, count })),
    0,
    0,
  );
  const ms = (value: number | undefined): number => round3((value ?? 0) * 1000);
  return {
    eventLoopDelay: {
      p50: ms(p50),
      p99: ms(gauge(second, 'nodejs_eventloop_lag_p99_seconds')),
      max: ms(gauge(second, 'nodejs_eventloop_lag_max_seconds')),
      mean: ms(gauge(second, 'nodejs_eventloop_lag_mean_seconds')),
    },
    heapUsed: heapUsed ?? 0,
    rss: rss ?? 0,
    gc: {
      count: sumDelta('nodejs_gc_duration_seconds_count'),
      totalMs: ms(sumDelta('nodejs_gc_duration_seconds_sum')),
      // Only a bucket bound is known of the longest pause.
      maxMs: gcLatency.max,
    },
  };
}
