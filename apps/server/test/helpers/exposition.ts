/**
 * Reading the server's `/metrics` in tests: the analyzer's exposition parser (the project's
 * one), and a sum of samples by name and labels.
 */
import { parseExposition as parseText, type ExpositionSample } from '@stateful-route/analyzer';

/** One sample: metric name, labels and value. */
export type Sample = ExpositionSample;

/** Every sample of an exposition text, in order. */
export function parseExposition(text: string): Sample[] {
  return parseText(text).samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const sample of samples) {
    if (sample.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) total += sample.value;
  }
  return total;
}
