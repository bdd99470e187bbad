import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fromExposition } from '@stateful-route/analyzer';
import { render } from '@stateful-route/reporter';
import { comparison, current, findings } from './fixtures.js';

const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
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
});

afterAll(async () => {
  await browser?.close();
});

test('the HTML report opens in Chromium, requests nothing and shows every operation', async () => {
  const snapshot = current();
  const html = render(
    {
      title: 'Nightly benchmark',
      snapshot,
      comparison: comparison(),
      findings,
      generatedAt: '2026-11-28T12:00:30.000Z',
    },
    'html',
  );
  const file = `${artifacts}report.html`;
  writeFileSync(file, html);
  const url = pathToFileURL(file).href;

  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.screenshot({ path: `${artifacts}report.png`, fullPage: true });

  // Nothing but the document itself was fetched: no fonts, images, scripts or styles.
  expect(requests).toEqual([url]);
  expect(consoleErrors).toEqual([]);
  expect(await page.locator('script').count()).toBe(0);
  expect(await page.title()).toBe('Nightly benchmark');

  for (const name of Object.keys(snapshot.operations)) {
    await expect
      .poll(() => page.getByRole('heading', { name, exact: true }).isVisible(), { timeout: 2000 })
      .toBe(true);
    expect(await page.getByRole('cell', { name, exact: true }).first().isVisible()).toBe(true);
  }
  // The charts are there: a percentile chart and a histogram per operation, plus the
  // baseline comparison per operation and one timeline.
  const operations = Object.keys(snapshot.operations).length;
  expect(await page.locator('svg[aria-label$="latency percentiles"]').count()).toBe(operations);
  expect(await page.locator('svg[aria-label$="latency histogram"]').count()).toBe(operations);
  expect(await page.locator('svg[aria-label$="baseline vs current"]').count()).toBe(operations);
  expect(await page.locator('svg[aria-label="Throughput timeline by operation"]').count()).toBe(1);
  expect(await page.locator('svg[aria-label="p99 latency timeline by operation"]').count()).toBe(1);
  // The headline is the first thing after the title, and says FAIL.
  const headline = page.getByLabel('Headline');
  expect(await headline.isVisible()).toBe(true);
  expect(await headline.textContent()).toMatch(/FAIL: 1 significant regression/);
  expect(await page.locator('.badge').textContent()).toBe('FAIL');
  // Every bar of the histogram chart lies inside its SVG (no NaN or negative geometry).
  const badRects = await page.$$eval(
    'svg rect',
    (rects) =>
      rects.filter((r) => {
        const values = ['x', 'y', 'width', 'height'].map((a) => Number(r.getAttribute(a)));
        return values.some((v) => !Number.isFinite(v) || v < 0);
      }).length,
  );
  expect(badRects).toBe(0);
  await page.close();
});

test('a snapshot read from /metrics renders its bucket histogram and says it is estimated', async () => {
  const h = 'stateful_executor_operation_duration_seconds';
  const scrape = (n: number): string =>
    [
      `stateful_executor_operations_total{operation="getServiceState",status="success"} ${100 * n}`,
      `${h}_bucket{operation="getServiceState",le="0.0005"} ${20 * n}`,
      `${h}_bucket{operation="getServiceState",le="0.001"} ${70 * n}`,
      `${h}_bucket{operation="getServiceState",le="0.005"} ${95 * n}`,
      `${h}_bucket{operation="getServiceState",le="0.01"} ${95 * n}`,
      `${h}_bucket{operation="getServiceState",le="+Inf"} ${100 * n}`,
      `${h}_sum{operation="getServiceState"} ${0.2 * n}`,
      `${h}_count{operation="getServiceState"} ${100 * n}`,
      '',
    ].join('\n');
  const snapshot = fromExposition(scrape(1), scrape(11), 10);
  const html = render({ snapshot, generatedAt: '2026-11-28T12:00:30.000Z' }, 'html');
  const file = `${artifacts}exposition.html`;
  writeFileSync(file, html);
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.goto(pathToFileURL(file).href);
  await page.screenshot({ path: `${artifacts}exposition.png`, fullPage: true });
  expect(requests).toHaveLength(1);
  expect(
    await page.getByRole('heading', { name: 'getServiceState', exact: true }).isVisible(),
  ).toBe(true);
  expect(await page.getByText('estimated from histogram buckets').first().isVisible()).toBe(true);
  // Three non-empty buckets drawn; the +Inf samples are written above the axis.
  const bars = page.locator('svg[aria-label$="latency histogram"] rect');
  expect(await bars.count()).toBe(3);
  expect(await page.locator('svg[aria-label$="latency histogram"]').textContent()).toMatch(
    /\+50 above 10\.0 ms/,
  );
  await page.close();
});
