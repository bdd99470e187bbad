/**
 * Renders an OpenAPI 3.1 document (the one the server serves at /docs/openapi.json) as a
 * Markdown reference: one section per route, with its parameters, body, replies and the
 * fields of each JSON body. Only the parts of JSON Schema the server uses are handled.
 */
import { format, resolveConfig } from 'prettier';

/** The subset of JSON Schema found in the server's document. */
export interface Schema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}

interface Content {
  [mediaType: string]: { schema?: Schema };
}

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Content };
  responses?: Record<string, { description?: string; content?: Content }>;
}

/** An OpenAPI document as far as this renderer reads it. */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, { description?: string }> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** Escapes what would break a Markdown table cell. */
function cell(text: string | undefined): string {
  return (text ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function typeOf(schema: Schema | undefined): string {
  if (!schema) return '';
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  let text = types.join(' \\| ');
  if (types.includes('array') && schema.items) text = `array of ${typeOf(schema.items)}`;
  if (types.includes('object') && typeof schema.additionalProperties === 'object') {
    text = `map of ${typeOf(schema.additionalProperties)}`;
  }
  return text;
}

function rules(schema: Schema): string {
  const parts: string[] = [];
  if (schema.enum)
    parts.push(`one of ${schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(', ')}`);
  if (schema.pattern) parts.push(`pattern \`${schema.pattern}\``);
  if (schema.minimum !== undefined) parts.push(`>= ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`<= ${schema.maximum}`);
  if (schema.minLength !== undefined) parts.push(`length >= ${schema.minLength}`);
  if (schema.maxLength !== undefined) parts.push(`length <= ${schema.maxLength}`);
  if (schema.minItems !== undefined) parts.push(`>= ${schema.minItems} items`);
  if (schema.maxItems !== undefined) parts.push(`<= ${schema.maxItems} items`);
  return parts.join('; ');
}

/** Rows for every field of an object schema, nested objects as `outer.inner`. */
function fieldRows(schema: Schema, prefix = ''): string[] {
  const rows: string[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    const details = [property.description, rules(property)].filter(Boolean).join(' ');
    rows.push(
      `| \`${path}\` | ${cell(typeOf(property))} | ${required.has(name) ? 'yes' : 'no'} | ${cell(details)} |`,
    );
    if (property.properties) rows.push(...fieldRows(property, `${path}.`));
    // Arrays of objects: the fields of one element, as `list[].field`.
    if (property.items?.properties) rows.push(...fieldRows(property.items, `${path}[].`));
  }
  return rows;
}

function fieldTable(schema: Schema): string[] {
  const rows = fieldRows(schema);
  if (rows.length === 0) return [`A JSON ${typeOf(schema) || 'value'}.`, ''];
  return ['| field | type | required | meaning |', '| --- | --- | --- | --- |', ...rows, ''];
}

function isErrorBody(schema: Schema | undefined): boolean {
  return Boolean(schema?.properties?.error?.properties?.code);
}

function anchor(method: string, path: string): string {
  return `${method} ${path}`
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replaceAll(' ', '-');
}

function renderOperation(method: string, path: string, op: Operation): string[] {
  const out: string[] = [`### \`${method.toUpperCase()} ${path}\``, ''];
  if (op.summary) out.push(op.summary, '');
  if (op.description) out.push(op.description, '');
  if (op.operationId) out.push(`Operation id: \`${op.operationId}\`.`, '');

  const parameters = op.parameters ?? [];
  if (parameters.length > 0) {
    out.push('| parameter | in | required | type | meaning |', '| --- | --- | --- | --- | --- |');
    for (const p of parameters) {
      const details = [p.description, p.schema ? rules(p.schema) : ''].filter(Boolean).join(' ');
      out.push(
        `| \`${p.name}\` | ${p.in} | ${p.required ? 'yes' : 'no'} | ${cell(typeOf(p.schema))} | ${cell(details)} |`,
      );
    }
    out.push('');
  }

  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body) {
    out.push(
      `**Request body** (\`application/json\`${op.requestBody?.required ? ', required' : ''}):`,
      '',
    );
    out.push(...fieldTable(body));
  }

  const responses = Object.entries(op.responses ?? {});
  if (responses.length > 0) {
    out.push('| status | meaning |', '| --- | --- |');
    for (const [status, response] of responses) {
      const media = Object.keys(response.content ?? {})[0];
      const suffix =
        media && !isErrorBody(response.content?.[media]?.schema) ? ` (\`${media}\`)` : '';
      out.push(`| ${status} | ${cell(response.description)}${suffix} |`);
    }
    out.push('');
  }
  // The body of every non-error reply (errors share one shape, documented once).
  const shown = new Set<string>();
  for (const [status, response] of responses) {
    const schema = response.content?.['application/json']?.schema;
    if (!schema || isErrorBody(schema)) continue;
    const key = JSON.stringify(schema);
    if (shown.has(key)) continue;
    shown.add(key);
    out.push(`**Reply ${status}** (\`application/json\`):`, '', ...fieldTable(schema));
  }
  return out;
}

/**
 * The Markdown reference of the document, formatted with the repository's Prettier
 * settings so the committed file and a fresh rendering compare byte for byte.
 */
export async function renderHttpApi(doc: OpenApiDocument, filepath: string): Promise<string> {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method]! })),
  );
  const tags = [...new Set(operations.map((o) => o.op.tags?.[0] ?? 'other'))];
  const errorSchema = operations
    .flatMap((o) => Object.values(o.op.responses ?? {}))
    .map((r) => r.content?.['application/json']?.schema)
    .find(isErrorBody);
  const bearer = doc.components?.securitySchemes?.bearer;

  const out: string[] = [
    '# HTTP API',
    '',
    "<!-- Generated from the server's OpenAPI document by `pnpm --filter @stateful-route/docs-gen gen`; do not edit by hand. -->",
    '',
    `${doc.info.title} ${doc.info.version} (OpenAPI ${doc.openapi}). ${doc.info.description ?? ''}`,
    '',
    'The server serves this document itself at `GET /docs/openapi.json`, and shows it in a',
    'Swagger UI at `/docs` (open, like the document); this page is rendered from it. Path',
    'parameters are percent-encoded path segments. Bodies are JSON',
    '(`content-type: application/json`) in and out.',
    '',
  ];
  if (bearer) {
    out.push(
      '## Authorisation',
      '',
      `${bearer.description ?? ''} Send \`Authorization: Bearer <token>\`; a missing or wrong token is answered with 401 and \`SR_UNAUTHORIZED\`.`,
      '',
    );
  }
  if (errorSchema) {
    out.push(
      '## Errors',
      '',
      'Every error reply has the same body; the codes are listed in [errors.md](errors.md).',
      '',
      ...fieldTable(errorSchema),
    );
  }
  out.push('## Routes', '', '| method and path | operation | summary |', '| --- | --- | --- |');
  for (const { path, method, op } of operations) {
    out.push(
      `| [\`${method.toUpperCase()} ${path}\`](#${anchor(method, path)}) | ${op.operationId ?? ''} | ${cell(op.summary)} |`,
    );
  }
  out.push('');
  for (const tag of tags) {
    out.push(`## ${tag[0]!.toUpperCase()}${tag.slice(1)}`, '');
    for (const { path, method, op } of operations.filter(
      (o) => (o.op.tags?.[0] ?? 'other') === tag,
    )) {
      out.push(...renderOperation(method, path, op));
    }
  }
  const markdown = out.join('\n');
  const options = (await resolveConfig(filepath)) ?? {};
  return format(markdown, { ...options, filepath });
}
