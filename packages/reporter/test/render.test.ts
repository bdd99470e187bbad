import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { createAnalyzer } from '@stateful-route/analyzer';
import { createMemoryExecutor } from '@stateful-route/executor-core';
import {
  FORMATS,
  InvalidReportError,
  render,
  UnsupportedFormatError,
} from '@stateful-route/reporter';
import type { Report } from '@stateful-route/reporter';
import { baseline, comparison, current, findings } from './fixtures.js';

const GENERATED_AT = '2026-11-28T12:00:30.000Z';

/** Timestamps change between runs of real measurements; golden files compare them as a token. */
function normalise(text: string): string {
  return text.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<TIMESTAMP>');
}

function golden(name: string, actual: string): void {
  const path = fileURLToPath(new URL(`./golden/${name}`, import.meta.url));
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, normalise(actual));
  expect(normalise(actual)).toBe(readFileSync(path, 'utf8'));
}

const snapshotReport = (): Report => ({
  title: 'Nightly benchmark',
  snapshot: current(),
  findings,
  generatedAt: GENERATED_AT,
});

const comparisonReport = (): Report => ({
  title: 'Pull request vs main',
  notes: ['Synthetic latencies, recorded through a real analyzer with an injected clock.'],
  snapshot: current(),
  comparison: comparison(),
  generatedAt: GENERATED_AT,
});

test('text report matches the golden files and fits 100 columns', () => {
  for (const [name, report] of [
    ['snapshot.txt', snapshotReport()],
    ['comparison.txt', comparisonReport()],
  ] as const) {
    const text = render(report, 'text');
    golden(name, text);
    for (const line of text.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(100);
  }
});

test('markdown report matches the golden files', () => {
  golden('snapshot.md', render(snapshotReport(), 'markdown'));
  golden('comparison.md', render(comparisonReport(), 'markdown'));
});

test('the headline comes first: slowest, what got worse, what failed', () => {
  const text = render(comparisonReport(), 'text');
  const lines = text.split('\n');
  const head = lines.findIndex((l) => l.startsWith('Headline: FAIL'));
  const operations = lines.findIndex((l) => l.startsWith('Operations'));
  expect(head).toBeGreaterThan(0);
  expect(head).toBeLessThan(operations);
  const headline = lines.slice(head, operations).join('\n');
  expect(headline).toMatch(
    /Verdict\s+FAIL: 1 significant regression, 1 of \d+ threshold checks failed/,
  );
  expect(headline).toMatch(/Worse\s+getServiceState: p50 \+\d+%/);
  expect(headline).toMatch(/Threshold\s+getServiceState\.p99<2ms failed/);
  expect(headline).toMatch(/Slowest\s+\w+: p99/);
  expect(headline).toMatch(
    /Errors\s+3 of [\d,]+ calls failed \(.*\): timeout 3; most on getLinkedPod/,
  );

  const markdown = render(comparisonReport(), 'markdown');
  expect(markdown.split('\n')[2]).toBe('**❌ FAIL**');
  expect(markdown.indexOf('**Worse**')).toBeLessThan(markdown.indexOf('## Operations'));

  const findingsFirst = render(snapshotReport(), 'text');
  expect(findingsFirst).toMatch(
    /Findings\s+1 critical, 1 warning; first: Timeouts on getLinkedPod/,
  );
  // Findings are listed most severe first, with their evidence.
  expect(findingsFirst.indexOf('[CRITICAL]')).toBeLessThan(findingsFirst.indexOf('[WARNING]'));
  expect(findingsFirst).toMatch(/timeout errors per call: 0\.43% \(threshold 0\.10%\)/);
});

test('json report: stable schema with the snapshot, comparison and findings', () => {
  const parsed = JSON.parse(render({ ...comparisonReport(), findings }, 'json')) as Record<
    string,
    unknown
  >;
  expect(Object.keys(parsed)).toEqual([
    'reportSchemaVersion',
    'title',
    'generatedAt',
    'headline',
    'snapshot',
    'comparison',
    'findings',
    'notes',
  ]);
  expect(parsed.reportSchemaVersion).toBe(1);
  expect(parsed.generatedAt).toBe(GENERATED_AT);
  expect((parsed.snapshot as { schemaVersion: number }).schemaVersion).toBe(1);
  expect((parsed.headline as { status: string }).status).toBe('fail');
  expect((parsed.findings as { id: string }[]).map((f) => f.id)).toEqual([
    'error-rate:timeout',
    'near-cache',
  ]);
  // An empty report is still a valid document.
  expect(JSON.parse(render({}, 'json'))).toMatchObject({ snapshot: null, comparison: null });
});

test('a comparison without changes passes in every format', () => {
  const same = baseline();
  const report: Report = {
    comparison: {
      ...comparison(),
      operations: [],
      thresholds: [],
      verdict: { pass: true, regressions: [], improvements: [], failedThresholds: 0 },
    },
    snapshot: same,
    generatedAt: GENERATED_AT,
  };
  expect(render(report, 'text')).toMatch(/Headline: PASS/);
  expect(render(report, 'markdown')).toMatch(/✅ PASS/);
  expect(render(report, 'html')).toMatch(/status-pass/);
});

test('an unknown format is a typed error listing the supported ones', () => {
  let caught: unknown;
  try {
    render(snapshotReport(), 'pdf' as never);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(UnsupportedFormatError);
  expect((caught as UnsupportedFormatError).code).toBe('SR_REPORTER_FORMAT');
  expect((caught as UnsupportedFormatError).supported).toEqual([
    'json',
    'text',
    'markdown',
    'html',
  ]);
  expect((caught as Error).message).toBe(
    'unsupported report format "pdf"; supported: json, text, markdown, html',
  );
  expect(() => render(snapshotReport(), 'toString' as never)).toThrow(UnsupportedFormatError);
  expect(FORMATS).toEqual(['json', 'text', 'markdown', 'html']);
});

test('a malformed report is a typed error naming the part', () => {
  expect(() => render(null as never, 'text')).toThrow(InvalidReportError);
  expect(() => render({ snapshot: { schemaVersion: 2 } } as never, 'text')).toThrow(
    /snapshot: must be an analysis snapshot/,
  );
  expect(() => render({ findings: {} } as never, 'html')).toThrow(/findings: must be an array/);
});

test('user-supplied names are escaped in markdown and html', () => {
  const snapshot = current();
  const op = snapshot.operations.getServiceState!;
  snapshot.operations['<img src=x onerror=alert(1)>|x'] = op;
  const html = render({ snapshot, generatedAt: GENERATED_AT }, 'html');
  expect(html).not.toContain('<img src=x');
  expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;|x');
  const markdown = render({ snapshot, generatedAt: GENERATED_AT }, 'markdown');
  expect(markdown).toContain('`<img src=x onerror=alert(1)>\\|x`');
});

test('near-cache hits and allocation per call are shown when the snapshot has them', () => {
  const snapshot = current();
  snapshot.operations.getServiceState!.cached = Math.round(
    snapshot.operations.getServiceState!.count * 0.9,
  );
  snapshot.operations.loadUser = {
    ...snapshot.operations.getWorkloadState!,
    allocation: { meanBytes: -2048, totalBytes: -4096 },
  };
  for (const format of ['text', 'markdown', 'html'] as const) {
    const out = render({ snapshot, generatedAt: GENERATED_AT }, format).replace(/\s+/g, ' ');
    expect(out, format).toMatch(/near cache without a round trip: getServiceState 90% of calls/);
    expect(out, format).toMatch(/negative when a GC ran during the call\)?: loadUser -2\.0 KiB/);
  }
});

test('the Redis sentence and a one-sided p99 cell say the same in every format', () => {
  const snapshot = current();
  snapshot.redis!.stats.expiredKeys = 1234;
  snapshot.redis!.stats.evictedKeys = 56;
  const compared = comparison();
  // getLinkedPod: p99 1.55 ms in the baseline, 1.76 ms in the current run.
  const template = compared.operations.find((o) => o.operation === 'getLinkedPod')!;
  const oneSided = {
    pValue: 1,
    verdict: 'unchanged' as const,
    change: { throughput: null, p50: null, p95: null, p99: null },
  };
  compared.operations.push(
    { ...template, ...oneSided, operation: 'retiredOp', presence: 'removed', current: null },
    { ...template, ...oneSided, operation: 'newOp', presence: 'added', baseline: null },
  );
  const report: Report = { snapshot, comparison: compared, generatedAt: GENERATED_AT };
  // Each format draws the arrow its own way; the cell says the same: which side was measured.
  const cells = {
    text: [/retiredOp .* 1\.55 -> .* removed/, /newOp .* -> 1\.76 .* added/],
    markdown: [/`retiredOp` .*\| 1\.55 → \|.*removed/, /`newOp` .*\| → 1\.76 \|.*added/],
    html: [/retiredOp<\/td>.*?<td>1\.55 →<\/td>/, /newOp<\/td>.*?<td>→ 1\.76<\/td>/],
  };
  for (const format of ['text', 'markdown', 'html'] as const) {
    const out = render(report, format);
    expect(out, format).toContain(
      'keyspace hits 5,200, misses 1,800; expired 1,234, evicted 56; memory',
    );
    for (const cell of cells[format]) expect(out, format).toMatch(cell);
  }
});

test('placement operations are reported like any operation: allocate latency, capacity errors', async () => {
  const executor = createMemoryExecutor({ name: 'report-placement' });
  const analyzer = createAnalyzer({ executor, processMetrics: false });
  try {
    await executor.registerPod('ns', 'room', 0, { capacity: 5, ttlSeconds: 60 });
    for (let i = 0; i < 8; i += 1) {
      await executor.allocate('ns', `u${i}`, 'room', { persistSeconds: -1 }).catch(() => {});
    }
    const report: Report = { title: 'Placement', snapshot: analyzer.snapshot() };
    const text = render(report, 'text');
    // Operations table: 8 allocate calls, 3 of them refused (37.5%), with percentiles.
    expect(text).toMatch(/^ {2}allocate\s+8\s+\S+\s+38%(\s+[\d.,]+){6}$/m);
    expect(text).toMatch(/^ {2}registerPod\s+1\s/m);
    expect(text).toMatch(/Errors\s+3 of 9 calls failed \(33%\): capacity 3; most on allocate/);
    expect(render(report, 'markdown')).toMatch(/^\| `allocate` \| 8 \| /m);
  } finally {
    analyzer.close();
    await executor.close();
  }
});
