/**
 * HTTP request metrics on the server's registry:
 * `http_request_duration_seconds{method,route,status_code}`. The route label is the route
 * TEMPLATE (`/v1/namespaces/:ns/...`), never the raw URL, so ids never become label values
 * and cardinality stays bounded.
 *
 * The hot path touches no prom-client object: each series is a plain bucket array updated in
 * the `onResponse` hook (executor-core's `bucketIndex`), and the registry reads them at scrape
 * time through a metric object with `get()` written by the metrics package's
 * `histogramSamples` (prom-client's own child `observe()` hashes the labels on every call).
 */
import { bucketIndex } from '@stateful-route/executor-core';
import { bucketLabels, histogramSamples, type Sample } from '@stateful-route/metrics';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** Buckets from 100 microseconds to 10 s: loopback requests take well under a millisecond. */
export const HTTP_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const LE = bucketLabels(HTTP_BUCKETS);

/** Label value of requests that matched no route. */
export const UNMATCHED_ROUTE = 'unmatched';

const NAME = 'http_request_duration_seconds';

interface Series {
  labels: { method: string; route: string; status_code: string };
  /** Per-bucket (not cumulative) counts; the last slot is above the largest bound. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** The registry-facing object: what prom-client's `Registry` needs of a metric (internal). */
export class HttpDurationMetric {
  readonly name = NAME;
  readonly help =
    'Duration of HTTP requests in seconds, by method, route template and status code.';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Every series, in creation order (what `get()` reads). */
  readonly series: Series[] = [];
  // route -> method -> status -> series: lookups on strings the router and the HTTP parser
  // hand over as the same objects every time (hashes cached), no key built per request.
  private readonly byRoute = new Map<string, Map<string, Map<number, Series>>>();

  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.byRoute.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.byRoute.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = {
        labels: { method, route, status_code: String(status) },
        buckets: new Float64Array(HTTP_BUCKETS.length + 1),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
      this.series.push(series);
    }
    series.buckets[bucketIndex(HTTP_BUCKETS, seconds)]!++;
    series.sum += seconds;
    series.count++;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    const values: Sample[] = [];
    for (const { labels, buckets, sum } of this.series) {
      histogramSamples(NAME, LE, buckets, sum, labels, values);
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    this.series.length = 0;
    this.byRoute.clear();
  }
}

/** Adds the `onResponse` hook that observes every request's duration on `registry`. */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const metric = new HttpDurationMetric();
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
  app.addHook('onResponse', (request, reply, done) => {
    metric.observe(
      request.method,
      request.routeOptions.url ?? UNMATCHED_ROUTE,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
}
