/**
 * Pod states of a service: `setServiceState` and `getServiceState`.
 */
import type { FastifyInstance } from 'fastify';
import {
  errorResponses,
  idParam,
  namespaceParam,
  integerParam,
  READ_ERRORS,
  toInteger,
  WRITE_ERRORS,
} from '../schemas.js';
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

/** Registers the pod-state routes (under the `/v1` prefix). */
export function registerPodRoutes(app: FastifyInstance, { executor }: RouteContext): void {
  app.put<{ Params: ServiceParams & { podId: string }; Body: { state: string } }>(
    '/namespaces/:ns/services/:svc/pods/:podId/state',
    {
      schema: {
        operationId: 'setServiceState',
        summary: 'Write the state of one pod of a service (HSET).',
        tags: ['pods'],
        params: {
          type: 'object',
          required: ['ns', 'svc', 'podId'],
          properties: {
            ...serviceParams.properties,
            podId: integerParam('Pod id: a decimal integer >= 0.'),
          },
        },
        body: {
          type: 'object',
          required: ['state'],
          additionalProperties: false,
          properties: {
            state: { type: 'string', description: 'Opaque state, not blank; stored unchanged.' },
          },
        },
        response: {
          204: { type: 'null', description: 'Stored.' },
          ...errorResponses(...WRITE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { ns, svc, podId } = request.params;
      await executor.setServiceState(ns, svc, toInteger(podId), request.body.state);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: ServiceParams }>(
    '/namespaces/:ns/services/:svc/pods',
    {
      schema: {
        operationId: 'getServiceState',
        summary: 'Read the state of every pod of a service (HGETALL).',
        tags: ['pods'],
        params: serviceParams,
        response: {
          200: {
            type: 'object',
            required: ['pods'],
            properties: {
              pods: {
                type: 'object',
                description: 'Pod id (decimal) -> state. Empty when the service has none.',
                additionalProperties: { type: 'string' },
              },
            },
          },
          ...errorResponses(...READ_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, svc } = request.params;
      return { pods: await executor.getServiceState(ns, svc) };
    },
  );
}
