/**
 * HTTP request metrics on the server's registry:
 * `http_request_duration_seconds{method,route,status_code}`. The route label is the route
 * TEMPLATE (`/v1/namespaces/:ns/...`), never the raw URL, so ids never become label values
 * and cardinality stays bounded.
 */
import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

/** Buckets from 100 microseconds to 10 s: loopback requests take well under a millisecond. */
export const HTTP_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Label value of requests that matched no route. */
export const UNMATCHED_ROUTE = 'unmatched';

type Child = ReturnType<Histogram<'method' | 'route' | 'status_code'>['labels']>;

/** Adds the `onResponse` hook that observes every request's duration. */
export function registerHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  // Looking a child up by labels hashes them on every call; a bound child per
  // route+method+status costs one Map lookup instead.
  const children = new Map<string, Child>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const status = reply.statusCode;
    const key = `${request.method} ${status} ${route}`;
    let child = children.get(key);
    if (child === undefined) {
      child = histogram.labels(request.method, route, String(status));
      children.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });
}
