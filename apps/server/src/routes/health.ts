/**
 * Liveness and readiness: `/healthz` answers while the process runs; `/readyz` asks the
 * executor (the backend answers within the command timeout) and answers 503 when it does not.
 */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from './context.js';

const readiness = {
  type: 'object',
  required: ['status', 'backend', 'latencyMs', 'scriptsLoaded'],
  properties: {
    status: { type: 'string', enum: ['ok', 'unavailable'] },
    backend: { type: 'string', enum: ['redis', 'memory'] },
    latencyMs: { type: 'number', description: 'Round trip of the check (0 for memory).' },
    scriptsLoaded: { type: 'boolean' },
    reason: { type: 'string', description: 'Why not ready.' },
  },
};

/** Registers `/healthz` and `/readyz` (open: probes carry no token). */
export function registerHealthRoutes(app: FastifyInstance, { executor }: RouteContext): void {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'healthz',
        summary: 'Liveness: the process is up and its event loop answers.',
        tags: ['operations'],
        response: {
          200: {
            type: 'object',
            required: ['status'],
            properties: { status: { type: 'string', enum: ['ok'] } },
          },
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        summary:
          'Readiness: the backend answers within the command timeout (`scriptsLoaded` says whether Redis holds the scripts; calls work either way).',
        tags: ['operations'],
        response: { 200: readiness, 503: { ...readiness, description: 'Not ready.' } },
      },
    },
    async (_request, reply) => {
      const health = await executor.checkHealth();
      const body: Record<string, unknown> = {
        status: health.ok ? 'ok' : 'unavailable',
        backend: health.backend,
        latencyMs: Math.round(health.latencyMs * 1000) / 1000,
        scriptsLoaded: health.scriptsLoaded,
      };
      if (health.reason !== undefined) body.reason = health.reason;
      return reply.code(health.ok ? 200 : 503).send(body);
    },
  );
}
