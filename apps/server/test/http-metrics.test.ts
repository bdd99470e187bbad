import { Registry } from 'prom-client';
import { expect, test } from 'vitest';
import { HTTP_BUCKETS, HttpDurationMetric } from '../src/http-metrics.js';
import { parseExposition, sampleValue } from './helpers/exposition.js';

test('bucket bounds are inclusive, counts cumulative, +Inf counts everything', async () => {
  const metric = new HttpDurationMetric();
  const registry = new Registry();
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  const route = '/v1/namespaces/:ns/users/:uid/links/:svc';
  metric.observe('GET', route, 200, 0.0001); // exactly on the first bound
  metric.observe('GET', route, 200, 0.0002);
  metric.observe('GET', route, 200, 0.003);
  metric.observe('GET', route, 200, 20); // above the last bound
  metric.observe('PUT', route, 400, 0.00005);
  const samples = parseExposition(await registry.metrics());
  const labels = { method: 'GET', route, status_code: '200' };
  const bucket = (le: string) =>
    sampleValue(samples, 'http_request_duration_seconds_bucket', { ...labels, le });
  expect(bucket('0.0001')).toBe(1);
  expect(bucket('0.00025')).toBe(2);
  expect(bucket('0.0025')).toBe(2);
  expect(bucket('0.005')).toBe(3);
  expect(bucket('10')).toBe(3);
  expect(bucket('+Inf')).toBe(4);
  expect(sampleValue(samples, 'http_request_duration_seconds_count', labels)).toBe(4);
  expect(sampleValue(samples, 'http_request_duration_seconds_sum', labels)).toBeCloseTo(20.0033, 6);
  expect(samples.filter((s) => s.name === 'http_request_duration_seconds_bucket').length).toBe(
    2 * (HTTP_BUCKETS.length + 1),
  );
  expect(
    sampleValue(samples, 'http_request_duration_seconds_count', {
      method: 'PUT',
      status_code: '400',
    }),
  ).toBe(1);
});
