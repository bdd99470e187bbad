/**
 * `GET /v1/optimizations` (the optimizer's findings, with their evidence) and
 * `POST /v1/optimizations/apply` (carry out the safe actions on the running executor).
 */
import { isTunable } from '@stateful-route/executor-core';
import { ACTION_IDS, applyActions, type AppliedAction } from '@stateful-route/optimizer';
import type { FastifyInstance } from 'fastify';
import { errorResponses, READ_ERRORS, WRITE_ERRORS } from '../schemas.js';
import { currentFindings, type AnalysisContext } from './report.js';

const actionIds = Object.values(ACTION_IDS);

const findingSchema = {
  type: 'object',
  required: ['id', 'severity', 'title', 'evidence', 'recommendation'],
  properties: {
    id: { type: 'string' },
    severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    title: { type: 'string' },
    evidence: {
      type: 'array',
      items: {
        type: 'object',
        required: ['metric', 'observed', 'threshold'],
        properties: {
          metric: { type: 'string' },
          observed: { type: 'number' },
          threshold: { type: 'number' },
          unit: { type: 'string' },
          window: { type: 'string' },
          operation: { type: 'string' },
        },
      },
    },
    recommendation: { type: 'string' },
    action: {
      type: 'object',
      required: ['id', 'description', 'safe'],
      properties: {
        id: { type: 'string', enum: actionIds },
        description: { type: 'string' },
        safe: { type: 'boolean' },
      },
    },
  },
};

const appliedSchema = {
  type: 'object',
  required: ['id', 'finding', 'outcome', 'detail'],
  properties: {
    id: { type: 'string' },
    finding: { type: 'string' },
    outcome: { type: 'string', enum: ['applied', 'skipped', 'failed'] },
    detail: { type: 'string' },
    errorCode: { type: 'string' },
  },
};

/** Registers the optimization routes (under the `/v1` prefix). */
export function registerOptimizationRoutes(app: FastifyInstance, context: AnalysisContext): void {
  app.get(
    '/optimizations',
    {
      schema: {
        operationId: 'getOptimizations',
        summary:
          "The optimizer's findings on this server: what is slow or at risk, the measured evidence, a recommendation, and an action when one can be applied.",
        tags: ['analysis'],
        response: {
          200: {
            type: 'object',
            required: ['findings'],
            properties: { findings: { type: 'array', items: findingSchema } },
          },
          ...errorResponses(...READ_ERRORS),
        },
      },
    },
    async () => ({ findings: await currentFindings(context) }),
  );

  app.post<{ Body: { only?: string[] } | undefined }>(
    '/optimizations/apply',
    {
      // The body is optional: a bare POST applies every safe action.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      schema: {
        operationId: 'applyOptimizations',
        summary:
          'Evaluate the findings now and apply their safe actions (client-side settings only: script preloading, auto-pipelining, near cache) to the running executor.',
        tags: ['analysis'],
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            only: {
              type: 'array',
              maxItems: actionIds.length,
              items: { type: 'string', enum: actionIds },
              description:
                'Apply only these actions (default: every safe action found). The body itself is optional.',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['findings', 'applied'],
            properties: {
              findings: { type: 'array', items: findingSchema },
              applied: { type: 'array', items: appliedSchema },
            },
          },
          ...errorResponses(...WRITE_ERRORS.filter((s) => s !== 507)),
        },
      },
    },
    async (request) => {
      const findings = await currentFindings(context);
      const only = request.body?.only;
      let applied: AppliedAction[];
      if (isTunable(context.executor)) {
        applied = await applyActions(context.executor, findings, only ? { only } : {});
      } else {
        // The memory backend has no client settings to tune.
        applied = findings
          .filter((f) => f.action?.safe && (!only || only.includes(f.action.id)))
          .map((f) => ({
            id: f.action!.id,
            finding: f.id,
            outcome: 'skipped' as const,
            detail: 'the embedded memory backend has no client settings to tune',
          }));
      }
      return { findings, applied };
    },
  );
}
