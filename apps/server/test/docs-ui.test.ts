/**
 * The Swagger UI at /docs, opened in headless Chromium against the BUILT server (with a token,
 * so /docs is shown to be open): Swagger UI renders every operation of the served document,
 * loads nothing from another origin, and its "Try it out" reaches the server through the
 * document's relative `servers` entry.
 */
import { freePort } from '@stateful-route/test-redis';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBuiltServer, type BuiltServer } from './helpers/built-server.js';

const TOKEN = 'docs-ui-test-token-1';

let server: BuiltServer | undefined;
let browser: Browser | undefined;
// One page for both tests (loading Swagger UI's bundle is the slow part), watched from the
// start: every request it makes and every error it logs.
let page: Page;
let status: number | undefined;
const requests: string[] = [];
const errors: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  server = await startBuiltServer(
    ['--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
    { STATEFUL_ROUTE_TOKEN: TOKEN },
    port,
  );
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  status = (await page.goto(`${server.url}/docs`, { waitUntil: 'load' }))?.status();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server) expect((await server.stop()).code).toBe(0);
});

test('Swagger UI at /docs renders every operation of the document, from this server only', async () => {
  const { url } = server!;
  const doc = (await (await fetch(`${url}/docs/openapi.json`)).json()) as {
    info: { title: string };
    paths: Record<string, Record<string, { summary: string }>>;
  };
  const expected = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ method, path, summary: op.summary })),
  );
  expect(expected.length).toBe(25);

  expect(status).toBe(200);
  // Rendered by Swagger UI from the fetched document, not present in the static HTML.
  const blocks = page.locator('.opblock');
  await expect.poll(() => blocks.count(), { timeout: 60_000 }).toBe(expected.length);
  expect(await page.locator('.info .title').innerText()).toContain(doc.info.title);
  expect(await page.locator('.info').innerText()).toContain('MIT');

  const rendered = await blocks.evaluateAll((nodes) =>
    nodes.map((node) => ({
      method: node.querySelector('.opblock-summary-method')?.textContent?.toLowerCase() ?? '',
      path: (node.querySelector('.opblock-summary-path')?.textContent ?? '').replace(/\u200b/g, ''),
      summary: node.querySelector('.opblock-summary-description')?.textContent ?? '',
    })),
  );
  const key = (o: { method: string; path: string }) => `${o.method} ${o.path}`;
  expect(rendered.map(key).sort()).toEqual(expected.map(key).sort());
  for (const op of expected) {
    expect(rendered.find((r) => key(r) === key(op))?.summary, key(op)).toBe(op.summary);
  }

  // Every request went to this server: the UI's assets are served locally, no CDN.
  expect(requests.length).toBeGreaterThan(3);
  for (const request of requests) expect(request.startsWith(`${url}/`), request).toBe(true);
  expect(requests).toContain(`${url}/docs/json`);
  expect(errors).toEqual([]);
}, 120_000);

test('"Try it out" on GET /healthz calls this server (relative servers entry)', async () => {
  const { url } = server!;
  const block = page.locator('.opblock', {
    has: page.locator('.opblock-summary-path', { hasText: /^\/healthz$/ }),
  });
  await block.locator('.opblock-summary').click();
  await block.getByRole('button', { name: 'Try it out' }).click();
  const answered = page.waitForResponse((r) => r.url() === `${url}/healthz`);
  await block.getByRole('button', { name: 'Execute' }).click();
  expect((await answered).status()).toBe(200);
  await expect
    .poll(() => block.locator('.responses-wrapper .live-responses-table').innerText(), {
      timeout: 30_000,
    })
    .toContain('"status": "ok"');
}, 120_000);
