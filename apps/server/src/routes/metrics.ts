/**
 * `GET /metrics`: the Prometheus text exposition of the server's registry, protected by a
 * bearer token only when `--metrics-token` is set.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { requireBearer } from '../auth.js';
import { errorResponses } from '../schemas.js';

/** Registers `/metrics` on `registry`. */
export function registerMetricsRoute(
  app: FastifyInstance,
  registry: Registry,
  metricsToken: string | null,
): void {
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
        },
      },
    },
    async (_request, reply) => {
      const text = await registry.metrics();
      return reply.type(registry.contentType).send(text);
    },
  );
}
