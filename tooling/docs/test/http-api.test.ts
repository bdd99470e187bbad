// docs/http-api.md must be what the current server's OpenAPI document renders to: a route
// added or changed without regenerating the page fails here.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderHttpApi } from '../src/openapi-markdown.js';
import { fetchOpenApi, repositoryRoot } from '../src/server-process.js';

describe('docs/http-api.md', () => {
  it('matches the OpenAPI document the built server serves (regenerate: pnpm --filter @stateful-route/docs-gen gen)', async () => {
    const doc = await fetchOpenApi();
    const target = `${repositoryRoot}docs/http-api.md`;
    const rendered = await renderHttpApi(doc, target);
    expect(await readFile(target, 'utf8')).toBe(rendered);
    // Every route of the document has its section.
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        expect(rendered).toContain(`### \`${method.toUpperCase()} ${path}\``);
      }
    }
  });
});
