/**
 * `GET /docs/openapi.json`: an OpenAPI 3.1 document generated from the routes' own JSON
 * schemas, so the document cannot drift from what the server validates.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { JsonSchema } from '../schemas.js';

interface CollectedRoute {
  method: string;
  url: string;
  schema: JsonSchema;
  secured: boolean;
}

/**
 * Collects routes as they are registered (call before registering any route) and serves
 * the document built from them. `isSecured(url)` says which routes need the bearer token.
 */
export function registerOpenApi(
  app: FastifyInstance,
  info: { title: string; version: string; description: string },
  isSecured: (url: string) => boolean,
): void {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.schema) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({
        method: method.toLowerCase(),
        url: route.url,
        schema: route.schema as JsonSchema,
        secured: isSecured(route.url),
      });
    }
  });

  let document: JsonSchema | undefined;
  app.get(
    '/docs/openapi.json',
    {
      schema: {
        operationId: 'openapi',
        summary: 'This OpenAPI document.',
        tags: ['operations'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async () => (document ??= buildDocument(info, routes)),
  );
}

function buildDocument(
  info: { title: string; version: string; description: string },
  routes: readonly CollectedRoute[],
): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const { params, querystring, body, response, operationId, summary, tags } = route.schema as {
      params?: JsonSchema;
      querystring?: JsonSchema;
      body?: JsonSchema;
      response?: Record<string, JsonSchema>;
      operationId?: string;
      summary?: string;
      tags?: string[];
    };
    const operation: JsonSchema = { operationId, summary, tags };
    const parameters = [...parametersOf(params, 'path'), ...parametersOf(querystring, 'query')];
    if (parameters.length > 0) operation.parameters = parameters;
    if (body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: body } },
      };
    }
    const responses: Record<string, JsonSchema> = {};
    for (const [status, schema] of Object.entries(response ?? {})) {
      const { description, ...rest } = schema as { description?: string } & JsonSchema;
      const entry: JsonSchema = { description: description ?? `Status ${status}.` };
      if (status !== '204') {
        const text = rest.type === 'string';
        entry.content = {
          [text ? 'text/plain' : 'application/json']: { schema: rest },
        };
      }
      responses[status] = entry;
    }
    operation.responses = responses;
    if (route.secured) operation.security = [{ bearer: [] }];
    (paths[path] ??= {})[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
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
    paths,
  };
}

function parametersOf(schema: JsonSchema | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const { description, ...rest } = property as { description?: string } & JsonSchema;
    const parameter: JsonSchema = {
      name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: rest,
    };
    if (description) parameter.description = description;
    return parameter;
  });
}
