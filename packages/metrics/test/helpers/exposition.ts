/**
 * Reads the metrics' text exposition with the analyzer's parser (the one reader of the
 * Prometheus text format), then checks what prom-client would not: a family declared twice,
 * a sample of an undeclared family, a series exposed twice, a histogram whose buckets are
 * not cumulative or whose +Inf bucket differs from _count.
 */
import { parseExposition as parseText, type ExpositionSample } from '@stateful-route/analyzer';

export type ParsedSample = ExpositionSample;

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: ParsedSample[];
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === 'histogram') return base;
    }
  }
  return undefined;
}

function bound(le: string | undefined): number {
  return le === '+Inf' ? Infinity : Number(le);
}

export function parseExposition(text: string): Exposition {
  const parsed = parseText(text);
  const types = new Map(Object.entries(parsed.types));
  const help = new Map(Object.entries(parsed.help));
  const declarations = text.match(/^# TYPE /gm)?.length ?? 0;
  if (declarations !== types.size) throw new Error('a family is declared twice');
  for (const sample of parsed.samples) {
    if (familyOf(sample.name, types) === undefined) {
      throw new Error(`sample of undeclared family: ${sample.name}`);
    }
  }
  checkUnique(parsed.samples);
  checkHistograms(types, parsed.samples);
  return { types, help, samples: parsed.samples };
}

function seriesKey(sample: { name: string; labels: Record<string, string> }): string {
  const labels = Object.entries(sample.labels).sort(([a], [b]) => a.localeCompare(b));
  return `${sample.name}${JSON.stringify(labels)}`;
}

function checkUnique(samples: ParsedSample[]): void {
  const seen = new Set<string>();
  for (const sample of samples) {
    const key = seriesKey(sample);
    if (seen.has(key)) throw new Error(`duplicate series ${key}`);
    seen.add(key);
  }
}

function checkHistograms(types: Map<string, string>, samples: ParsedSample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
    for (const sample of samples) {
      if (!sample.name.startsWith(family)) continue;
      const suffix = sample.name.slice(family.length);
      const { le, ...rest } = sample.labels;
      const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
      const entry = series.get(key) ?? { buckets: [] };
      series.set(key, entry);
      if (suffix === '_bucket') entry.buckets.push([bound(le), sample.value]);
      else if (suffix === '_count') entry.count = sample.value;
      else if (suffix === '_sum') entry.sum = sample.value;
    }
    for (const [key, entry] of series) {
      const { buckets } = entry;
      if (buckets.length === 0 || entry.count === undefined || entry.sum === undefined) {
        throw new Error(`histogram ${family}${key} lacks _bucket, _sum or _count`);
      }
      for (let i = 1; i < buckets.length; i++) {
        if (!(buckets[i]![0] > buckets[i - 1]![0]))
          throw new Error(`${family}${key}: le not increasing`);
        if (buckets[i]![1] < buckets[i - 1]![1])
          throw new Error(`${family}${key}: buckets not cumulative`);
      }
      const last = buckets.at(-1)!;
      if (last[0] !== Infinity) throw new Error(`${family}${key}: no +Inf bucket`);
      if (last[1] !== entry.count) throw new Error(`${family}${key}: +Inf bucket != _count`);
    }
  }
}

/** The value of the one sample with this name whose labels include `labels`; undefined if none. */
export function valueOf(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const matches = exposition.samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
  );
  if (matches.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)} matches ${matches.length} series`);
  return matches[0]?.value;
}

/** Samples of a family, for exact comparisons. */
export function samplesOf(exposition: Exposition, name: string): ParsedSample[] {
  return exposition.samples.filter((sample) => sample.name === name);
}
