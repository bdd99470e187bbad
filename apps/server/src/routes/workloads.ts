/**
 * Workload state of a service: `setWorkloadState`, `getWorkloadState` and
 * `getWorkloadStateBatch`.
 */
import type { FastifyInstance } from 'fastify';
import { errorResponses, idParam, namespaceParam, READ_ERRORS, WRITE_ERRORS } from '../schemas.js';
import type { RouteContext } from './context.js';

interface ServiceParams {
  ns: string;
  svc: string;
}

const serviceParams = {
  type: 'object',
  required: ['ns', 'svc'],
  properties: { ns: namespaceParam(), svc: idParam('Service name.') },
};

/** Registers the workload routes (under the `/v1` prefix). */
export function registerWorkloadRoutes(
  app: FastifyInstance,
  { executor, config }: RouteContext,
): void {
  app.put<{ Params: ServiceParams; Body: { state: string } }>(
    '/namespaces/:ns/services/:svc/workload',
    {
      schema: {
        operationId: 'setWorkloadState',
        summary: 'Write the workload state of a service (SET, no expiry).',
        tags: ['workloads'],
        params: serviceParams,
        body: {
          type: 'object',
          required: ['state'],
          additionalProperties: false,
          properties: {
            state: {
              type: 'string',
              description: 'Opaque; "", "null" and "nil" are stored and read back as absent.',
            },
          },
        },
        response: {
          204: { type: 'null', description: 'Stored.' },
          ...errorResponses(...WRITE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { ns, svc } = request.params;
      await executor.setWorkloadState(ns, svc, request.body.state);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: ServiceParams }>(
    '/namespaces/:ns/services/:svc/workload',
    {
      schema: {
        operationId: 'getWorkloadState',
        summary: 'Read the workload state of a service.',
        tags: ['workloads'],
        params: serviceParams,
        response: {
          200: {
            type: 'object',
            required: ['state'],
            properties: {
              state: {
                type: ['string', 'null'],
                description: 'null when missing, "", "null" or "nil".',
              },
            },
          },
          ...errorResponses(...READ_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, svc } = request.params;
      return { state: await executor.getWorkloadState(ns, svc) };
    },
  );

  app.post<{ Params: { ns: string }; Body: { services: string[] } }>(
    '/namespaces/:ns/workloads/query',
    {
      schema: {
        operationId: 'getWorkloadStateBatch',
        summary: 'Read the workload states of many services at once.',
        tags: ['workloads'],
        params: {
          type: 'object',
          required: ['ns'],
          properties: { ns: namespaceParam() },
        },
        body: {
          type: 'object',
          required: ['services'],
          additionalProperties: false,
          properties: {
            services: {
              type: 'array',
              maxItems: config.maxBatch,
              items: { type: 'string' },
              description: `Service names, at most ${config.maxBatch}.`,
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['states'],
            properties: {
              states: {
                type: 'object',
                description: 'Service -> state, for the services that have one.',
                additionalProperties: { type: 'string' },
              },
            },
          },
          ...errorResponses(...WRITE_ERRORS.filter((s) => s !== 507)),
        },
      },
    },
    async (request) => {
      return {
        states: await executor.getWorkloadStateBatch(request.params.ns, request.body.services),
      };
    },
  );
}
