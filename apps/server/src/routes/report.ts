/**
 * `GET /v1/report`: the live analyzer's snapshot, with the optimizer's findings, rendered
 * by the reporter as JSON, text, Markdown or self-contained HTML.
 */
import type { Analyzer } from '@stateful-route/analyzer';
import { diagnose, type Finding, type RedisFiguresSource } from '@stateful-route/optimizer';
import { FORMATS, render, type ReportFormat } from '@stateful-route/reporter';
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '@stateful-route/executor-core';
import { errorResponses, READ_ERRORS } from '../schemas.js';
import type { RouteContext } from './context.js';

/** Content type of each report format. */
export const REPORT_CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = Object.freeze({
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  markdown: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
});

/** What the analysis routes need besides the executor. */
export interface AnalysisContext extends RouteContext {
  analyzer: Analyzer;
  /** The Redis client, for memory and slow-log figures; null on the memory backend. */
  redis: RedisClient | null;
}

/** Findings of the optimizer's rules over a fresh snapshot. */
export function currentFindings(context: AnalysisContext): Promise<Finding[]> {
  return findingsOf(context);
}

// The optimizer's diagnose(): the one place that gathers the evidence (the snapshot, the
// executor's description and counters, Redis memory and slow log) and evaluates the rules.
// A Cluster client answers INFO and SLOWLOG from one node: figures of that node only, which
// is still evidence about memory pressure and slow scripts.
function findingsOf(
  { executor, analyzer, redis }: AnalysisContext,
  snapshot?: Awaited<ReturnType<Analyzer['capture']>>,
): Promise<Finding[]> {
  return diagnose({
    analyzer,
    executor,
    ...(redis ? { redis: redis as unknown as RedisFiguresSource } : {}),
    ...(snapshot ? { snapshot } : {}),
  });
}

/** Registers `/report` (under the `/v1` prefix). */
export function registerReportRoute(app: FastifyInstance, context: AnalysisContext): void {
  app.get<{ Querystring: { format?: ReportFormat; scope?: 'total' | 'window' } }>(
    '/report',
    {
      schema: {
        operationId: 'report',
        summary:
          'A performance report of this server: per-operation latency and throughput since start (or over the last 60 s), process and Redis figures, and the optimizer findings.',
        tags: ['analysis'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            format: {
              type: 'string',
              enum: [...FORMATS],
              description: 'json (default), text, markdown or html (one self-contained page).',
            },
            scope: {
              type: 'string',
              enum: ['total', 'window'],
              description: 'total (default): since start. window: the last 60 s.',
            },
          },
        },
        response: {
          200: { type: 'string', description: 'The rendered report.' },
          ...errorResponses(...READ_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'json';
      const snapshot = await context.analyzer.capture({ scope: request.query.scope ?? 'total' });
      const findings = await findingsOf(context, snapshot);
      const body = render({ title: 'stateful-route server', snapshot, findings }, format);
      void reply.type(REPORT_CONTENT_TYPES[format]);
      // The HTML page needs no network: forbid it any, as its own meta tag does.
      if (format === 'html') {
        void reply.header(
          'content-security-policy',
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        );
      }
      return reply.send(body);
    },
  );
}
