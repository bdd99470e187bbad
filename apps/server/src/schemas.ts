/**
 * JSON schemas shared by the routes, and the formatter that turns a schema failure into a
 * `RequestValidationError` naming the field. Schemas check shapes and types only; the id,
 * pod and TTL rules are the executor's own, so the server answers with the same rules and
 * messages as the library.
 */
import { RequestValidationError } from './errors.js';

// The OpenAPI keywords the routes carry next to their validation schemas.
declare module 'fastify' {
  interface FastifySchema {
    operationId?: string;
    summary?: string;
    /** Markdown shown under the summary (the placement routes carry an example there). */
    description?: string;
    tags?: string[];
  }
}

/** A JSON schema, as Fastify and the OpenAPI document take it. */
export type JsonSchema = Record<string, unknown>;

/** Canonical decimal integers: no leading zeros, no `+`, no `-0`, no exponent, no fraction. */
export const INTEGER_PATTERN = '^(0|-?[1-9][0-9]*)$';

/** The error reply of every route. */
export const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable error code (docs/errors.md).' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The input that broke a rule (400 only).' },
      },
    },
  },
};

const idRules =
  'Percent-encoded UTF-8. Not blank, no `{` or `}`, no control characters, at most 512 UTF-8 bytes.';

/** A path segment holding a service or uid. */
export function idParam(description: string): JsonSchema {
  return { type: 'string', description: `${description} ${idRules}` };
}

/** A path segment holding a namespace: the id rules, and no `:` (checked by the executor). */
export function namespaceParam(): JsonSchema {
  return { type: 'string', description: `Namespace. ${idRules} No \`:\`.` };
}

/** An integer carried in a path segment or query string. */
export function integerParam(description: string): JsonSchema {
  return { type: 'string', pattern: INTEGER_PATTERN, description };
}

/** Error replies a `/v1` route can give, by status. */
export function errorResponses(...statuses: number[]): Record<number, JsonSchema> {
  const out: Record<number, JsonSchema> = {};
  for (const status of statuses)
    out[status] = { ...errorSchema, description: DESCRIPTIONS[status] };
  return out;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input (SR_VALIDATION with `field`); nothing was written.',
  401: 'Missing or wrong bearer token (SR_UNAUTHORIZED).',
  409: 'No live, non-draining pod of the service has free capacity (SR_NO_CAPACITY); nothing was written.',
  413: 'Body larger than the body limit (SR_BODY_TOO_LARGE).',
  415: 'Body is not application/json, or declares a charset other than UTF-8 (SR_UNSUPPORTED_MEDIA_TYPE).',
  500: 'Unexpected failure (SR_INTERNAL, SR_REDIS_SCRIPT, SR_REDIS_COMMAND, SR_CORRUPT_VALUE).',
  503: 'Backend unavailable (SR_REDIS_CONNECTION, SR_REDIS_TIMEOUT, SR_REDIS_AUTH, SR_REDIS_CLUSTER, SR_REDIS_BUSY, SR_EXECUTOR_CLOSED), or the server is shutting down (SR_SHUTTING_DOWN); retry later.',
  507: 'Redis is out of memory (SR_REDIS_OOM); writes are refused.',
};

/** The error statuses of a `/v1` read route, and of a route with a body. */
export const READ_ERRORS = [400, 401, 500, 503] as const;
export const WRITE_ERRORS = [400, 401, 413, 415, 500, 503, 507] as const;

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const CONTEXT_FIELD: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'headers',
};

// '/uids/3' -> 'uids[3]', '/a/b' -> 'a.b' (the executor's own field spelling).
function fieldOf(instancePath: string, context: string): string {
  if (instancePath === '') return CONTEXT_FIELD[context] ?? context;
  let out = '';
  for (const raw of instancePath.slice(1).split('/')) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(part) && out !== '') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/**
 * Fastify's `schemaErrorFormatter`: the first schema failure as a `RequestValidationError`
 * with the field it concerns and a message that never quotes the value.
 */
export function formatSchemaError(errors: readonly AjvError[], context: string): Error {
  const first = errors[0];
  if (!first) return new RequestValidationError(CONTEXT_FIELD[context] ?? context, 'is invalid');
  let field = fieldOf(first.instancePath, context);
  const join = (name: string) =>
    first.instancePath === '' ? name : `${fieldOf(first.instancePath, context)}.${name}`;
  let message = first.message ?? 'is invalid';
  switch (first.keyword) {
    case 'required':
      field = join(String(first.params.missingProperty));
      message = 'is required';
      break;
    case 'additionalProperties':
      field = join(String(first.params.additionalProperty));
      message = 'is not a known property';
      break;
    case 'pattern':
      message =
        'must be a decimal integer (no leading zeros, sign on positives, fraction or exponent)';
      break;
    case 'maxItems':
      message = `must have at most ${String(first.params.limit)} items (the server's --max-batch)`;
      break;
    case 'enum':
      message = `must be one of ${(first.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
  }
  return new RequestValidationError(field, message);
}

/** Parses a string already checked against `INTEGER_PATTERN`. */
export function toInteger(text: string): number {
  return Number(text);
}
