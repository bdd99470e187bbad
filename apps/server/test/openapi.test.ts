/**
 * The OpenAPI document as served: its required parts (servers, license, a 4XX reply in the
 * error shape on every operation, security per route), the open /docs routes, and a lint by
 * the real validator (`@redocly/cli lint`, the `recommended-strict` rules: every warning
 * fails) over the documents a server serves with and without tokens.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { buildApp } from '../src/index.js';

const TOKEN = 'openapi-test-token-1';
const METRICS_TOKEN = 'openapi-metrics-token-2';

interface Response {
  description?: string;
  content?: Record<string, { schema?: Record<string, unknown> }>;
}
interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  responses: Record<string, Response>;
}
type Document = {
  openapi: string;
  info: { license?: { name: string; identifier?: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
};

const work = mkdtempSync(join(tmpdir(), 'sr-openapi-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function served(
  config: { token?: string; metricsToken?: string },
  url = '/docs/openapi.json',
): Promise<Document> {
  const app = await buildApp({ config: { logLevel: 'silent', ...config } });
  try {
    const reply = await app.inject(url);
    expect(reply.statusCode).toBe(200);
    return reply.json<Document>();
  } finally {
    await app.close();
  }
}

function operations(doc: Document): { key: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
  );
}

interface LintResult {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; message: string; location: { pointer: string }[] }[];
}

// The redocly bin, run with this Node. Its update notice and telemetry are off: the test
// must not reach out to the network.
const redocly = join(
  dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
  'bin/cli.js',
);

function lint(doc: unknown, name: string): Promise<LintResult> {
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [redocly, 'lint', file, '--extends', 'recommended-strict', '--format', 'json'],
      {
        env: {
          ...process.env,
          REDOCLY_TELEMETRY: 'off',
          REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          NO_COLOR: '1',
        },
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        // Exit 1 means problems found (reported in stdout); anything else is a failure to run.
        if (error && error.code !== 1) {
          reject(new Error(`redocly lint failed to run: ${error.message}\n${stderr}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as LintResult);
        } catch {
          reject(new Error(`redocly lint printed no JSON:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

const rules = (result: LintResult): string[] =>
  result.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);

describe('the served document', () => {
  test('carries servers, the MIT license of package.json, and a 4XX error reply everywhere', async () => {
    const doc = await served({ token: TOKEN, metricsToken: METRICS_TOKEN });
    const manifest = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { license: string };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.license).toEqual({ name: manifest.license, identifier: manifest.license });
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    const all = operations(doc);
    expect(all.length).toBe(25);
    for (const { key, op } of all) {
      const clientErrors = Object.keys(op.responses).filter((status) => /^4/.test(status));
      expect(clientErrors, key).toContain('4XX');
      // Every 4xx reply is the documented error shape, and says what it covers.
      for (const status of clientErrors) {
        const reply = op.responses[status]!;
        expect(reply.description, `${key} ${status}`).toMatch(/\S/);
        const schema = reply.content?.['application/json']?.schema as {
          required?: string[];
          properties?: { error?: { required?: string[] } };
        };
        expect(schema?.required, `${key} ${status}`).toEqual(['error']);
        expect(schema?.properties?.error?.required, `${key} ${status}`).toEqual([
          'code',
          'message',
        ]);
      }
    }
    // The 4XX of the open operations names the codes the connection layer answers with.
    expect(doc.paths['/healthz']!.get!.responses['4XX']!.description).toContain(
      'SR_HEADERS_TOO_LARGE',
    );
  });

  test('security: bearer on /v1 with --token and on /metrics with --metrics-token, none elsewhere', async () => {
    const secured = await served({ token: TOKEN, metricsToken: METRICS_TOKEN });
    for (const { key, op } of operations(secured)) {
      const expected = key.includes(' /v1/') || key === 'GET /metrics' ? [{ bearer: [] }] : [];
      expect(op.security, key).toEqual(expected);
    }
    const open = await served({});
    for (const { key, op } of operations(open)) expect(op.security, key).toEqual([]);
  });

  test('the text reply of /metrics is text/plain; a 204 reply has no body', async () => {
    const doc = await served({});
    expect(Object.keys(doc.paths['/metrics']!.get!.responses['200']!.content!)).toEqual([
      'text/plain',
    ]);
    const state = doc.paths['/v1/namespaces/{ns}/services/{svc}/pods/{podId}/state']!.put!;
    expect(state.responses['204']).toEqual({ description: 'Stored.' });
  });

  test('/docs/json (the UI reads it) is the same document as /docs/openapi.json', async () => {
    expect(await served({}, '/docs/json')).toEqual(await served({}));
  });

  test('/docs, its assets and the document are open when the server has a token', async () => {
    const app = await buildApp({ config: { logLevel: 'silent', token: TOKEN } });
    try {
      const page = await app.inject('/docs');
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('swagger-ui-bundle.js');
      // No asset from another origin: everything is served by this server.
      expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
      const bundle = await app.inject('/docs/static/swagger-ui-bundle.js');
      expect(bundle.statusCode).toBe(200);
      expect(bundle.headers['content-type']).toMatch(/javascript/);
      for (const url of ['/docs/openapi.json', '/docs/json', '/docs/yaml']) {
        expect((await app.inject(url)).statusCode, url).toBe(200);
      }
      // The /v1 routes still need the token.
      const reply = await app.inject('/v1/namespaces/ns/users/u/links/room');
      expect(reply.statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});

describe('@redocly/cli lint (recommended-strict)', () => {
  test('the document of a server with both tokens has no problem at all', async () => {
    const result = await lint(
      await served({ token: TOKEN, metricsToken: METRICS_TOKEN }),
      'with-tokens',
    );
    expect(rules(result)).toEqual([]);
    expect(result.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  test('the document of a server without a token: no problem but the unused bearer scheme', async () => {
    // Without --token no operation uses the bearer scheme, which no-unused-components
    // reports; the scheme stays so the document says how --token is used. That one finding
    // is expected, and nothing else.
    const result = await lint(await served({}), 'open');
    expect(rules(result)).toEqual([
      expect.stringMatching(/^no-unused-components at #\/components\/securitySchemes\/bearer:/),
    ]);
  }, 60_000);

  test('the validator is not a rubber stamp: a missing 4XX and license are reported', async () => {
    const doc = await served({ token: TOKEN, metricsToken: METRICS_TOKEN });
    delete doc.paths['/healthz']!.get!.responses['4XX'];
    delete doc.info.license;
    const found = rules(await lint(doc, 'broken'));
    expect(found).toEqual([
      expect.stringMatching(/^info-license at #\/info:/),
      expect.stringMatching(/^operation-4xx-response at #\/paths\/~1healthz\/get\/responses:/),
    ]);
  }, 60_000);
});
