/**
 * The OpenAPI document and its Swagger UI. `@fastify/swagger` builds the document from the
 * routes' own JSON schemas (so it cannot drift from what the server validates);
 * `@fastify/swagger-ui` serves the UI at `/docs` from assets shipped in its package (no CDN).
 * `GET /docs/openapi.json` answers the document, as `GET /docs/json` (the UI's own URL) does.
 * All of it is open: no bearer token, like `/healthz`.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { ServerErrorCodes } from '../errors.js';
import { errorSchema, type JsonSchema } from '../schemas.js';

/** What the document says about the server. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

/** The route schema keys the document is built from (Fastify's, plus the OpenAPI ones). */
type RouteSchema = FastifySchema & {
  response?: Record<string, JsonSchema>;
  security?: Record<string, string[]>[];
  hide?: boolean;
};

type Operation = {
  parameters?: { in: string }[];
};

// A refusal that can reach any operation: Node's HTTP parser and the request timeout answer
// before routing, in the documented error shape, and close the connection.
const CONNECTION_ERRORS = {
  ...errorSchema,
  description:
    `Refused before routing, connection closed: 400 ${ServerErrorCodes.BAD_REQUEST}, ` +
    `408 ${ServerErrorCodes.REQUEST_TIMEOUT}, 431 ${ServerErrorCodes.HEADERS_TOO_LARGE}.`,
};

/** The route schema as the document shows it (the route's own schema is left untouched). */
function documented(schema: RouteSchema | undefined, secured: boolean): RouteSchema {
  // Routes without a schema (none today) stay out of the document.
  if (!schema) return { hide: true };
  const response: Record<string, JsonSchema> = {};
  const replies: [string, JsonSchema][] = [
    ...Object.entries(schema.response ?? {}),
    ['4XX', CONNECTION_ERRORS],
  ];
  for (const [status, reply] of replies) {
    // The description belongs to the response, not to its body's schema.
    const { description = `Status ${status}.`, ...body } = reply;
    if (body.type === 'null') {
      response[status] = { type: 'null', description };
      continue;
    }
    // Text replies (/metrics) are text/plain; everything else is JSON.
    const media = body.type === 'string' ? 'text/plain' : 'application/json';
    response[status] = { description, content: { [media]: { schema: body } } };
  }
  // `security: []` says "no token" explicitly, rather than leaving it unsaid.
  return { ...schema, response, security: secured ? [{ bearer: [] }] : [] };
}

/** Path parameters first, then the query (the order the document had before the plugin). */
function orderParameters(paths: Record<string, Record<string, Operation>>): void {
  const rank = (where: string): number => (where === 'path' ? 0 : 1);
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      operation.parameters?.sort((a, b) => rank(a.in) - rank(b.in));
    }
  }
}

/**
 * Registers the document generator, the UI at `/docs` and `GET /docs/openapi.json`. Await it
 * before registering any route: the generator collects routes as they are registered.
 * `isSecured(url)` says which routes need the bearer token.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  info: OpenApiInfo,
  isSecured: (url: string) => boolean,
): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { ...info, license: { name: 'MIT', identifier: 'MIT' } },
      // Relative: the paths are served by whatever origin served the document.
      servers: [{ url: '/', description: 'The server that served this document.' }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'Needed when the server runs with --token (or --metrics-token for /metrics).',
          },
        },
      },
      tags: [
        { name: 'pods', description: 'Per-pod state of a service.' },
        { name: 'workloads', description: 'Workload state of a service.' },
        { name: 'links', description: 'User -> pod links (sticky routing).' },
        {
          name: 'placement',
          description: 'Pod capacity and leases, allocation of users, drain and sweep.',
        },
        { name: 'analysis', description: 'Live performance report and optimizer findings.' },
        { name: 'operations', description: 'Health, metrics and this document.' },
      ],
    },
    transform: ({ schema, url }) => ({
      schema: documented(schema as RouteSchema | undefined, isSecured(url)),
      url,
    }),
    transformObject: (documentObject) => {
      const document = (documentObject as { openapiObject: JsonSchema }).openapiObject;
      orderParameters(document.paths as Record<string, Record<string, Operation>>);
      // No shared schemas: every schema is inline, as the routes declare them.
      const components = document.components as JsonSchema;
      if (Object.keys((components.schemas ?? {}) as JsonSchema).length === 0) {
        delete components.schemas;
      }
      return document;
    },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    theme: { title: `${info.title} API` },
    // No validator badge (the plugin's default): nothing is sent to an outside validator.
    uiConfig: { deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0 },
  });

  app.get(
    '/docs/openapi.json',
    {
      schema: {
        operationId: 'openapi',
        summary: 'This OpenAPI document (the Swagger UI at /docs reads it from /docs/json).',
        tags: ['operations'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => app.swagger(),
  );
}
