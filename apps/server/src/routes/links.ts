/**
 * Links of users to pods: set / trySet / setIfAbsent, get (and get-if-permanent), remove
 * (and remove-if-pod), the permanent links of a user, and the batch read of one service.
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

interface LinkParams {
  ns: string;
  uid: string;
  svc: string;
}

/** How `PUT .../links/:svc` writes: the three link-writing operations of the contract. */
export type LinkMode = 'set' | 'try' | 'if-absent';

interface LinkBody {
  podId: number;
  persistSeconds: number;
  mode: LinkMode;
}

const linkParams = {
  type: 'object',
  required: ['ns', 'uid', 'svc'],
  properties: {
    ns: namespaceParam(),
    uid: idParam('User or session id.'),
    svc: idParam('Service name.'),
  },
};

const podOrNone = { type: 'integer', description: 'A pod id, or -1 for none.' };

/** Registers the link routes (under the `/v1` prefix). */
export function registerLinkRoutes(app: FastifyInstance, { executor, config }: RouteContext): void {
  app.put<{ Params: LinkParams; Body: LinkBody }>(
    '/namespaces/:ns/users/:uid/links/:svc',
    {
      schema: {
        operationId: 'writeLink',
        summary:
          'Link a user to a pod: mode "set" (setLinkedPod), "try" (trySetLinkedPod) or "if-absent" (setLinkedPodIfAbsent).',
        tags: ['links'],
        params: linkParams,
        body: {
          type: 'object',
          required: ['podId', 'persistSeconds', 'mode'],
          additionalProperties: false,
          properties: {
            podId: { type: 'integer', description: 'Pod id, >= 0.' },
            persistSeconds: {
              type: 'integer',
              description:
                '-1: permanent link. 1..2147483647: temporary link for that many seconds.',
            },
            mode: { type: 'string', enum: ['set', 'try', 'if-absent'] },
          },
        },
        response: {
          200: {
            type: 'object',
            description:
              'set: `{ previous }`. try: `{ linked, current, previous }`. if-absent: `{ podId }` (the pod actually linked).',
            properties: {
              previous: podOrNone,
              linked: { type: 'boolean' },
              current: podOrNone,
              podId: podOrNone,
            },
          },
          ...errorResponses(...WRITE_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, uid, svc } = request.params;
      const { podId, persistSeconds, mode } = request.body;
      if (mode === 'if-absent') {
        return {
          podId: await executor.setLinkedPodIfAbsent(ns, uid, svc, { podId, persistSeconds }),
        };
      }
      if (mode === 'try') return executor.trySetLinkedPod(ns, uid, svc, { podId, persistSeconds });
      return { previous: await executor.setLinkedPod(ns, uid, svc, { podId, persistSeconds }) };
    },
  );

  app.get<{ Params: LinkParams; Querystring: { persistentOnly?: 'true' | 'false' } }>(
    '/namespaces/:ns/users/:uid/links/:svc',
    {
      schema: {
        operationId: 'getLinkedPod',
        summary:
          'The pod a user is linked to (getLinkedPod), or with persistentOnly=true only a permanent link (getLinkedPodIfPersist).',
        tags: ['links'],
        params: linkParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            persistentOnly: {
              type: 'string',
              enum: ['true', 'false'],
              description: 'true: -1 unless the link is permanent.',
            },
          },
        },
        response: {
          200: { type: 'object', required: ['podId'], properties: { podId: podOrNone } },
          ...errorResponses(...READ_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, uid, svc } = request.params;
      const podId =
        request.query.persistentOnly === 'true'
          ? await executor.getLinkedPodIfPersist(ns, uid, svc)
          : await executor.getLinkedPod(ns, uid, svc);
      return { podId };
    },
  );

  app.delete<{ Params: LinkParams; Querystring: { keepSeconds?: string; podId?: string } }>(
    '/namespaces/:ns/users/:uid/links/:svc',
    {
      schema: {
        operationId: 'removeLinkedPod',
        summary:
          'Remove a link (removeLinkedPod), or with podId only when it links to that pod (removeLinkedPodWithId).',
        tags: ['links'],
        params: linkParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            keepSeconds: integerParam(
              'An integer >= -1 (default 0). Kept for compatibility: it has no effect, the link is removed at once.',
            ),
            podId: integerParam('Remove only when the link holds exactly this pod (>= 0).'),
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['removed'],
            properties: { removed: { type: 'boolean' } },
          },
          ...errorResponses(...WRITE_ERRORS.filter((s) => s !== 413 && s !== 415)),
        },
      },
    },
    async (request) => {
      const { ns, uid, svc } = request.params;
      const { keepSeconds, podId } = request.query;
      // keepSeconds has no effect: passed on only to be validated when the caller gave one.
      const keep = keepSeconds === undefined ? undefined : toInteger(keepSeconds);
      const removed =
        podId === undefined
          ? await executor.removeLinkedPod(ns, uid, svc, { keepSeconds: keep })
          : await executor.removeLinkedPodWithId(ns, uid, svc, {
              podId: toInteger(podId),
              keepSeconds: keep,
            });
      return { removed };
    },
  );

  app.get<{ Params: { ns: string; uid: string } }>(
    '/namespaces/:ns/users/:uid/links',
    {
      schema: {
        operationId: 'getLinkService',
        summary: 'The permanent links of a user (getLinkService).',
        tags: ['links'],
        params: {
          type: 'object',
          required: ['ns', 'uid'],
          properties: { ns: namespaceParam(), uid: idParam('User or session id.') },
        },
        response: {
          200: {
            type: 'object',
            required: ['links'],
            properties: {
              links: {
                type: 'object',
                description: 'Service -> pod id, permanent links only.',
                additionalProperties: { type: 'integer' },
              },
            },
          },
          ...errorResponses(...READ_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, uid } = request.params;
      return { links: await executor.getLinkService(ns, uid) };
    },
  );

  app.post<{ Params: { ns: string; svc: string }; Body: { uids: string[] } }>(
    '/namespaces/:ns/services/:svc/links/query',
    {
      schema: {
        operationId: 'batchGetLinkedPod',
        summary: 'The pods many users are linked to for one service (batchGetLinkedPod).',
        tags: ['links'],
        params: {
          type: 'object',
          required: ['ns', 'svc'],
          properties: { ns: namespaceParam(), svc: idParam('Service name.') },
        },
        body: {
          type: 'object',
          required: ['uids'],
          additionalProperties: false,
          properties: {
            uids: {
              type: 'array',
              maxItems: config.maxBatch,
              items: { type: 'string' },
              description: `User ids, at most ${config.maxBatch}.`,
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['pods'],
            properties: {
              pods: {
                type: 'object',
                description:
                  'Pod id (decimal) -> uids in input order; users without a link are left out.',
                additionalProperties: { type: 'array', items: { type: 'string' } },
              },
            },
          },
          ...errorResponses(...WRITE_ERRORS.filter((s) => s !== 507)),
        },
      },
    },
    async (request) => {
      const { ns, svc } = request.params;
      return { pods: await executor.batchGetLinkedPod(ns, request.body.uids, svc) };
    },
  );
}
