/**
 * Service-level thresholds such as `getServiceState.p99<5ms`, `p99<5ms` (every operation),
 * `errorRate<0.1%` or `throughput>1000`: parsing, and checking them against a snapshot.
 */
import { ThresholdSyntaxError } from './errors.js';
import type { AnalysisSnapshot, OperationSnapshot } from './snapshot.js';

/** Latency metrics, in ms. */
export const LATENCY_METRICS = ['min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
/** Every metric a threshold can name. */
export const THRESHOLD_METRICS = [
  ...LATENCY_METRICS,
  'errorRate',
  'errors',
  'throughput',
  'count',
] as const;

export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];
export type Comparator = '<' | '<=' | '>' | '>=';

/** A parsed threshold; `value` is normalised to `unit`. */
export interface Threshold {
  /** The expression as written. */
  source: string;
  /** The operation it applies to; `null`: every operation (latency) or the totals (others). */
  operation: string | null;
  metric: ThresholdMetric;
  comparator: Comparator;
  value: number;
  /** `ms` for latency, `ratio` (0..1) for errorRate, `ops/s` for throughput, `count`. */
  unit: 'ms' | 'ratio' | 'ops/s' | 'count';
}

/** The verdict of one threshold on one operation (or on the totals). */
export interface ThresholdResult {
  threshold: Threshold;
  /** Operation checked; `null` for the totals. */
  operation: string | null;
  /** Observed value in the threshold's unit; `null` when nothing was measured. */
  observed: number | null;
  pass: boolean;
  /** Why it failed without an observation, e.g. `operation not measured`. */
  note?: string;
}

const isLatency = (metric: string): boolean =>
  (LATENCY_METRICS as readonly string[]).includes(metric);

/**
 * Parses a threshold expression: `[operation.]metric comparator number[unit]`.
 * Latency units: `ms` (default), `s`, `us`/`µs`; errorRate: `%` or a ratio; throughput:
 * none, `/s` or `ops/s`.
 * @throws SR_ANALYZER_THRESHOLD_SYNTAX naming what is wrong (`reason`).
 * @example
 * parseThreshold('getServiceState.p99<5ms') // { operation: 'getServiceState', metric: 'p99', comparator: '<', value: 5, unit: 'ms', ... }
 * parseThreshold('errorRate<0.1%').value // 0.001
 */
export function parseThreshold(input: string): Threshold {
  if (typeof input !== 'string') throw new ThresholdSyntaxError(String(input), 'not a string');
  const source = input.trim();
  const match = /^([^<>=\s]+?)\s*(<=|>=|<|>|=)\s*(.*)$/.exec(source);
  if (!match) {
    throw new ThresholdSyntaxError(input, 'expected a comparison such as "p99<5ms"');
  }
  const [, subject = '', comparatorText = '', rest = ''] = match;
  if (comparatorText === '=') {
    throw new ThresholdSyntaxError(input, 'use <, <=, > or >= (not =)');
  }
  const comparator = comparatorText as Comparator;
  const dot = subject.lastIndexOf('.');
  const operation = dot >= 0 ? subject.slice(0, dot) : null;
  const metric = dot >= 0 ? subject.slice(dot + 1) : subject;
  if (operation !== null && !/^[A-Za-z_][\w-]*$/.test(operation)) {
    throw new ThresholdSyntaxError(input, `bad operation name "${operation}"`);
  }
  if (!(THRESHOLD_METRICS as readonly string[]).includes(metric)) {
    throw new ThresholdSyntaxError(
      input,
      `unknown metric "${metric}" (one of ${THRESHOLD_METRICS.join(', ')})`,
    );
  }
  const valueMatch = /^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Zµ%/]*)$/.exec(rest.trim());
  if (!valueMatch) throw new ThresholdSyntaxError(input, `expected a number, got "${rest}"`);
  const number = Number(valueMatch[1]);
  const unitText = valueMatch[2] ?? '';
  let value: number;
  let unit: Threshold['unit'];
  if (isLatency(metric)) {
    unit = 'ms';
    const scale: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 0.001, µs: 0.001 };
    const factor = scale[unitText];
    if (factor === undefined) {
      throw new ThresholdSyntaxError(input, `unit "${unitText}" is not a time unit (ms, s, us)`);
    }
    value = number * factor;
  } else if (metric === 'errorRate') {
    unit = 'ratio';
    if (unitText === '%') value = number / 100;
    else if (unitText === '') value = number;
    else throw new ThresholdSyntaxError(input, `errorRate takes "%" or a ratio, not "${unitText}"`);
    if (value > 1) throw new ThresholdSyntaxError(input, 'an error rate cannot exceed 100%');
  } else if (metric === 'throughput') {
    unit = 'ops/s';
    if (!['', '/s', 'ops/s'].includes(unitText)) {
      throw new ThresholdSyntaxError(input, `throughput is in ops/s, not "${unitText}"`);
    }
    value = number;
  } else {
    unit = 'count';
    if (unitText !== '') throw new ThresholdSyntaxError(input, `${metric} takes no unit`);
    value = number;
  }
  return {
    source,
    operation,
    metric: metric as ThresholdMetric,
    comparator,
    value,
    unit,
  };
}

function holds(observed: number, comparator: Comparator, limit: number): boolean {
  switch (comparator) {
    case '<':
      return observed < limit;
    case '<=':
      return observed <= limit;
    case '>':
      return observed > limit;
    case '>=':
      return observed >= limit;
  }
}

function observe(operation: OperationSnapshot, metric: ThresholdMetric): number {
  switch (metric) {
    case 'errorRate':
      return operation.count === 0 ? 0 : operation.errors / operation.count;
    case 'errors':
      return operation.errors;
    case 'throughput':
      return operation.throughput;
    case 'count':
      return operation.count;
    default:
      return operation.latency[metric];
  }
}

/**
 * Checks thresholds against a snapshot. A latency threshold without an operation is checked
 * on every operation (one result each); errorRate, errors, throughput and count without
 * one are checked on the totals. A threshold on an operation that was not measured fails.
 * @throws SR_ANALYZER_THRESHOLD_SYNTAX for an unparsable string threshold.
 */
export function checkThresholds(
  snapshot: AnalysisSnapshot,
  thresholds: readonly (string | Threshold)[],
): ThresholdResult[] {
  const results: ThresholdResult[] = [];
  for (const entry of thresholds) {
    const threshold = typeof entry === 'string' ? parseThreshold(entry) : entry;
    if (threshold.operation !== null) {
      const operation = snapshot.operations[threshold.operation];
      if (!operation) {
        results.push({
          threshold,
          operation: threshold.operation,
          observed: null,
          pass: false,
          note: 'operation not measured',
        });
        continue;
      }
      const observed = observe(operation, threshold.metric);
      results.push({
        threshold,
        operation: threshold.operation,
        observed,
        pass: holds(observed, threshold.comparator, threshold.value),
      });
    } else if (isLatency(threshold.metric)) {
      const names = Object.keys(snapshot.operations);
      if (names.length === 0) {
        results.push({
          threshold,
          operation: null,
          observed: null,
          pass: false,
          note: 'no operations measured',
        });
      }
      for (const name of names) {
        const operation = snapshot.operations[name];
        if (!operation) continue;
        const observed = observe(operation, threshold.metric);
        results.push({
          threshold,
          operation: name,
          observed,
          pass: holds(observed, threshold.comparator, threshold.value),
        });
      }
    } else {
      const totals = snapshot.totals;
      const observed =
        threshold.metric === 'errorRate'
          ? totals.errorRate
          : threshold.metric === 'throughput'
            ? totals.throughput
            : threshold.metric === 'errors'
              ? totals.errors
              : totals.count;
      results.push({
        threshold,
        operation: null,
        observed,
        pass: holds(observed, threshold.comparator, threshold.value),
      });
    }
  }
  return results;
}
