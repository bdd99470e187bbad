/**
 * Placement (docs/placement.md): pod registration (the heartbeat) and drain, allocation and
 * release of users, the placement view of a service, and the sweep and reconcile passes.
 */
import {
  PLACEMENT_STRATEGIES,
  type PlacementStrategy,
  type ReconcileOptions,
} from '@stateful-route/executor-core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  errorResponses,
  idParam,
  integerParam,
  namespaceParam,
  READ_ERRORS,
  toInteger,
  WRITE_ERRORS,
  type JsonSchema,
} from '../schemas.js';
import type { RouteContext } from './context.js';

interface ServiceParams {
  ns: string;
  svc: string;
}

type PodParams = ServiceParams & { podId: string };

/** What the placement routes need beyond the executor: who to tell of a registered service. */
export interface PlacementRouteContext extends RouteContext {
  /** Called when a pod registers, so that the sweeper covers its service. */
  onPlacementService?: ((ns: string, svc: string) => void) | undefined;
}

const serviceProperties = { ns: namespaceParam(), svc: idParam('Service name.') };

const serviceParams = {
  type: 'object',
  required: ['ns', 'svc'],
  properties: serviceProperties,
};

const podParams = {
  type: 'object',
  required: ['ns', 'svc', 'podId'],
  properties: {
    ...serviceProperties,
    podId: integerParam('Pod id: a decimal integer >= 0.'),
  },
};

const count = (description: string): JsonSchema => ({ type: 'integer', description });
const nullableCount = (description: string): JsonSchema => ({
  type: ['integer', 'null'],
  description,
});

const batchProperty: JsonSchema = {
  type: 'integer',
  description: 'Uids per step, 1..200 (default 100): each Redis call handles at most this many.',
};

/** An operation description: one request and its reply, as a fenced block. */
function example(request: string, body: unknown, reply: string): string {
  const lines = [request];
  if (body !== undefined) lines.push(JSON.stringify(body));
  return ['Example:', '', '```http', ...lines, '', reply, '```'].join('\n');
}

const ROOM = '/v1/namespaces/default/services/room';

// A bare POST (no body) means the defaults, as `POST /v1/optimizations/apply` does.
function defaultBody(request: FastifyRequest, _reply: unknown, done: () => void): void {
  request.body ??= {};
  done();
}

// DELETE routes: as for the link's DELETE, no body is documented, so no 413 or 415.
const NO_BODY_ERRORS = WRITE_ERRORS.filter((s) => s !== 413 && s !== 415);

/** Registers the placement routes (under the `/v1` prefix). */
export function registerPlacementRoutes(
  app: FastifyInstance,
  { executor, onPlacementService }: PlacementRouteContext,
): void {
  app.put<{ Params: PodParams; Body: { capacity: number; ttlSeconds: number } }>(
    '/namespaces/:ns/services/:svc/pods/:podId/registration',
    {
      schema: {
        operationId: 'registerPod',
        description: example(
          `PUT ${ROOM}/pods/3/registration`,
          { capacity: 100, ttlSeconds: 15 },
          '204',
        ),
        summary:
          'Register a pod with its capacity and renew its liveness lease (registerPod); repeat it as the heartbeat.',
        tags: ['placement'],
        params: podParams,
        body: {
          type: 'object',
          required: ['capacity', 'ttlSeconds'],
          additionalProperties: false,
          properties: {
            capacity: count('Users the pod takes: 0..2147483647 (0: never placed on).'),
            ttlSeconds: count(
              'The liveness lease in seconds, 1..2147483647: the pod is dead when it runs out.',
            ),
          },
        },
        response: {
          204: { type: 'null', description: 'Registered; the lease runs from now.' },
          ...errorResponses(...WRITE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { ns, svc, podId } = request.params;
      const { capacity, ttlSeconds } = request.body;
      await executor.registerPod(ns, svc, toInteger(podId), { capacity, ttlSeconds });
      onPlacementService?.(ns, svc);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: PodParams }>(
    '/namespaces/:ns/services/:svc/pods/:podId/drain',
    {
      schema: {
        operationId: 'drainPod',
        description: example(`POST ${ROOM}/pods/3/drain`, undefined, '204'),
        summary:
          'Drain a pod (drainPod): no new placements on it; its links keep resolving. Heartbeats keep the drain.',
        tags: ['placement'],
        params: podParams,
        response: {
          204: { type: 'null', description: 'Draining.' },
          ...errorResponses(...WRITE_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { ns, svc, podId } = request.params;
      await executor.drainPod(ns, svc, toInteger(podId));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: PodParams }>(
    '/namespaces/:ns/services/:svc/pods/:podId/drain',
    {
      schema: {
        operationId: 'undrainPod',
        description: example(`DELETE ${ROOM}/pods/3/drain`, undefined, '204'),
        summary: 'End the drain of a pod (undrainPod): it takes new placements again.',
        tags: ['placement'],
        params: podParams,
        response: {
          204: { type: 'null', description: 'Not draining.' },
          ...errorResponses(...NO_BODY_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { ns, svc, podId } = request.params;
      await executor.undrainPod(ns, svc, toInteger(podId));
      return reply.code(204).send();
    },
  );

  app.post<{
    Params: ServiceParams;
    Body: { uid: string; persistSeconds: number; strategy?: PlacementStrategy };
  }>(
    '/namespaces/:ns/services/:svc/allocations',
    {
      schema: {
        operationId: 'allocate',
        description: [
          example(
            `POST ${ROOM}/allocations`,
            { uid: 'user123', persistSeconds: 3600 },
            '200 {"podId":3,"created":true,"load":42,"capacity":100}',
          ),
          'No pod with room:',
          '```http',
          '409 {"error":{"code":"SR_NO_CAPACITY","message":"no live, non-draining pod of the service has free capacity"}}',
          '```',
        ].join('\n\n'),
        summary:
          'Place a user (allocate): its existing link if it has one, else a live, non-draining pod with room, claimed and linked in one step. 409 SR_NO_CAPACITY when no pod has room.',
        tags: ['placement'],
        params: serviceParams,
        body: {
          type: 'object',
          required: ['uid', 'persistSeconds'],
          additionalProperties: false,
          properties: {
            uid: {
              type: 'string',
              description:
                'User or session id: not blank, no `{` or `}`, no control characters, at most 512 UTF-8 bytes.',
            },
            persistSeconds: {
              type: 'integer',
              description:
                '-1: permanent link. 1..2147483647: temporary link for that many seconds.',
            },
            strategy: {
              type: 'string',
              enum: [...PLACEMENT_STRATEGIES],
              description:
                '"least-loaded" (default): spreads users over the pods. "packed": fills the fullest pod that still has room.',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            description: 'The pod the user is linked to.',
            required: ['podId', 'created', 'load', 'capacity'],
            properties: {
              podId: count('The pod the user is linked to.'),
              created: {
                type: 'boolean',
                description:
                  'true: placed by this call. false: the user already had a link; nothing changed.',
              },
              load: nullableCount(
                "The pod's claims after the call; null when it is not registered.",
              ),
              capacity: nullableCount("The pod's capacity; null when it is not registered."),
            },
          },
          ...errorResponses(400, 401, 409, 413, 415, 500, 503, 507),
        },
      },
    },
    async (request) => {
      const { ns, svc } = request.params;
      const { uid, persistSeconds, strategy } = request.body;
      return executor.allocate(ns, uid, svc, {
        persistSeconds,
        ...(strategy !== undefined ? { strategy } : {}),
      });
    },
  );

  app.delete<{ Params: ServiceParams & { uid: string } }>(
    '/namespaces/:ns/services/:svc/allocations/:uid',
    {
      schema: {
        operationId: 'release',
        description: example(
          `DELETE ${ROOM}/allocations/user123`,
          undefined,
          '200 {"released":true,"podId":3}',
        ),
        summary: "Release a user (release): remove its link and free its pod's claim.",
        tags: ['placement'],
        params: {
          type: 'object',
          required: ['ns', 'svc', 'uid'],
          properties: { ...serviceProperties, uid: idParam('User or session id.') },
        },
        response: {
          200: {
            type: 'object',
            description: 'Whether a link was removed, and from which pod.',
            required: ['released', 'podId'],
            properties: {
              released: { type: 'boolean', description: 'true when a link was removed.' },
              podId: { type: 'integer', description: 'The pod the link held, or -1 for none.' },
            },
          },
          ...errorResponses(...NO_BODY_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, svc, uid } = request.params;
      return executor.release(ns, uid, svc);
    },
  );

  app.get<{ Params: ServiceParams }>(
    '/namespaces/:ns/services/:svc/placement',
    {
      schema: {
        operationId: 'placement',
        description: example(
          `GET ${ROOM}/placement`,
          undefined,
          '200 {"pods":{"3":{"load":42,"capacity":100,"status":"live","leaseMs":11873},"4":{"load":97,"capacity":100,"status":"draining","leaseMs":9120}}}',
        ),
        summary:
          'Every registered pod of a service with its load, capacity, status and lease (placement).',
        tags: ['placement'],
        params: serviceParams,
        response: {
          200: {
            type: 'object',
            description: 'Every registered pod of the service.',
            required: ['pods'],
            properties: {
              pods: {
                type: 'object',
                description: 'Pod id (decimal) -> its placement. Empty when no pod is registered.',
                additionalProperties: {
                  type: 'object',
                  required: ['load', 'capacity', 'status', 'leaseMs'],
                  properties: {
                    load: count('Claims on the pod.'),
                    capacity: count('Users the pod takes.'),
                    status: {
                      type: 'string',
                      enum: ['live', 'draining', 'dead'],
                      description:
                        '"dead" when the lease ran out, else "draining" when drained, else "live".',
                    },
                    leaseMs: count('Milliseconds left on the lease (negative when dead).'),
                  },
                },
              },
            },
          },
          ...errorResponses(...READ_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, svc } = request.params;
      return executor.placement(ns, svc);
    },
  );

  app.post<{ Params: ServiceParams; Body: { batch?: number } }>(
    '/namespaces/:ns/services/:svc/sweep',
    {
      preValidation: defaultBody,
      schema: {
        operationId: 'sweepDeadPods',
        description: example(`POST ${ROOM}/sweep`, undefined, '200 {"swept":12,"released":12}'),
        summary:
          'Sweep the dead pods of a service now (sweepDeadPods): delete their links (compare-and-delete) and free their claims. The server also does it on its own every --placement-sweep-ms.',
        tags: ['placement'],
        params: serviceParams,
        body: {
          type: 'object',
          additionalProperties: false,
          description: 'Optional.',
          properties: { batch: batchProperty },
        },
        response: {
          200: {
            type: 'object',
            description: 'What the sweep removed.',
            required: ['swept', 'released'],
            properties: {
              swept: count('Links of dead pods deleted.'),
              released: count(
                'Claims released (a claim whose link had moved is released, the link kept).',
              ),
            },
          },
          ...errorResponses(...WRITE_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, svc } = request.params;
      return executor.sweepDeadPods(ns, svc, request.body);
    },
  );

  app.post<{ Params: ServiceParams; Body: ReconcileOptions }>(
    '/namespaces/:ns/services/:svc/reconcile',
    {
      preValidation: defaultBody,
      schema: {
        operationId: 'reconcilePlacement',
        description: example(
          `POST ${ROOM}/reconcile`,
          { full: true },
          '200 {"checked":140,"released":2,"confirmed":0,"adopted":1}',
        ),
        summary:
          'Repair drift between claims and links (reconcilePlacement): expired temporary links and stale pending claims; with full=true also every claim against its link, adopting links no claim covers.',
        tags: ['placement'],
        params: serviceParams,
        body: {
          type: 'object',
          additionalProperties: false,
          description: 'Optional.',
          properties: {
            batch: batchProperty,
            full: {
              type: 'boolean',
              description:
                'Also compare every claim with its link and adopt links that no claim covers (scans; default false).',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            description: 'What the reconcile pass checked and repaired.',
            required: ['checked', 'released', 'confirmed', 'adopted'],
            properties: {
              checked: count('Claims compared with their links.'),
              released: count('Claims released (link gone, expired or moved).'),
              confirmed: count('Pending claims confirmed (their link holds their pod).'),
              adopted: count('Links that no claim covered, now counted (full pass only).'),
            },
          },
          ...errorResponses(...WRITE_ERRORS),
        },
      },
    },
    async (request) => {
      const { ns, svc } = request.params;
      return executor.reconcilePlacement(ns, svc, request.body);
    },
  );
}
