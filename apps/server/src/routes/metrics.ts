/**
 * `GET /metrics`: the Prometheus text exposition of the server's registry, protected by a
 * bearer token only when `--metrics-token` is set. In a worker of `--workers N` it answers for
 * every worker (cluster-metrics.ts), or 503 `SR_METRICS_UNAVAILABLE` when one of them does not
 * hand over its metrics in time.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { requireBearer } from '../auth.js';
import { workerMetrics } from '../cluster-metrics.js';
import { errorReplyBody } from '../error-handler.js';
import { ServerErrorCodes } from '../errors.js';
import { errorResponses } from '../schemas.js';

/** Registers `/metrics` on `registry`. */
export function registerMetricsRoute(
  app: FastifyInstance,
  registry: Registry,
  metricsToken: string | null,
): void {
  const cluster = workerMetrics(registry);
  if (cluster) app.addHook('onClose', async () => cluster.close());
  app.get(
    '/metrics',
    {
      onRequest: metricsToken ? requireBearer(metricsToken) : undefined,
      schema: {
        operationId: 'metrics',
        summary: 'Prometheus metrics (text exposition format).',
        tags: ['operations'],
        response: {
          200: { type: 'string', description: 'Prometheus text exposition.' },
          ...(metricsToken ? errorResponses(401) : {}),
          ...(cluster
            ? {
                503: {
                  ...errorResponses(503)[503],
                  description:
                    'A worker did not hand over its metrics in time (SR_METRICS_UNAVAILABLE); retry at the next scrape.',
                },
              }
            : {}),
        },
      },
    },
    async (request, reply) => {
      if (!cluster) return reply.type(registry.contentType).send(await registry.metrics());
      let text: string;
      try {
        text = await cluster.scrape();
      } catch (error) {
        const message = `the metrics of every worker could not be gathered: ${(error as Error).message}`;
        // Not through the error handler: that would count it as a backend outage.
        request.log.warn(
          { reqId: request.id, code: ServerErrorCodes.METRICS_UNAVAILABLE },
          message,
        );
        return reply
          .code(503)
          .header('retry-after', '1')
          .type('application/json; charset=utf-8')
          .send(errorReplyBody(ServerErrorCodes.METRICS_UNAVAILABLE, message));
      }
      return reply.type(registry.contentType).send(text);
    },
  );
}
