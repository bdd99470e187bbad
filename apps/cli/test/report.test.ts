import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execFile } from 'node:child_process';
import { BIN, cli } from './helpers.js';

const url = inject('redisUrl');
let dir: string;
let snapshot: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sr-cli-report-'));
  snapshot = join(dir, 'run.json');
  const bench = await cli([
    'bench',
    '--redis',
    url,
    '--duration',
    '500ms',
    '--concurrency',
    '8',
    '--out',
    snapshot,
  ]);
  expect(bench.code).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('report --input', () => {
  it('renders a saved snapshot in every format', async () => {
    const text = await cli(['report', '--input', snapshot, '--title', 'nightly']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('nightly');
    expect(text.stdout).toContain('getServiceState');
    const markdown = await cli(['report', '--input', snapshot, '--format', 'markdown']);
    expect(markdown.stdout).toMatch(/^# /m);
    const html = await cli(['report', '--input', snapshot, '--format', 'html']);
    expect(html.stdout.toLowerCase()).toContain('<!doctype html>');
    // --json alone means the JSON report.
    for (const argv of [['--format', 'json'], ['--json']]) {
      const json = await cli(['report', '--input', snapshot, ...argv]);
      expect(json.code).toBe(0);
      const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
      expect(JSON.stringify(parsed)).toContain('getServiceState');
    }
    // --json with another named format is a contradiction, not silently one of them (issue 16).
    for (const format of ['html', 'markdown']) {
      const both = await cli(['report', '--input', snapshot, '--json', '--format', format]);
      expect(both.code).toBe(2);
      expect(both.stdout + both.stderr).toContain('SR_CLI_USAGE');
    }
  });

  it('writes to --out and says so on stderr only', async () => {
    const out = join(dir, 'report.md');
    const result = await cli(['report', '--input', snapshot, '--format', 'markdown', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(out);
    expect(await readFile(out, 'utf8')).toContain('getServiceState');
  });

  it('compares with a baseline and fails on a threshold (exit 1)', async () => {
    const pass = await cli([
      'report',
      '--input',
      snapshot,
      '--baseline',
      snapshot,
      '--format',
      'markdown',
    ]);
    expect(pass.code).toBe(0);
    const fail = await cli(['report', '--input', snapshot, '--threshold', 'p99<1us']);
    expect(fail.code).toBe(1);
  });

  it('reads the --json output of bench as input', async () => {
    const bench = await cli([
      'bench',
      '--redis',
      url,
      '--duration',
      '300ms',
      '--concurrency',
      '4',
      '--json',
    ]);
    const file = join(dir, 'bench.json');
    await writeFile(file, bench.stdout);
    const result = await cli(['report', '--input', file]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('getServiceState');
  });

  it('refuses missing, non-JSON and non-snapshot input, and an unknown format (exit 2)', async () => {
    const notJson = join(dir, 'not.json');
    await writeFile(notJson, 'hello');
    const notSnapshot = join(dir, 'other.json');
    await writeFile(notSnapshot, '{"hello":1}');
    const oldVersion = join(dir, 'old.json');
    await writeFile(oldVersion, '{"schemaVersion":99,"operations":{}}');
    for (const argv of [
      ['--input', join(dir, 'missing.json')],
      ['--input', notJson],
      ['--input', notSnapshot],
      ['--input', oldVersion],
      ['--input', snapshot, '--format', 'pdf'],
      ['--redis', url],
    ]) {
      const result = await cli(['report', ...argv]);
      expect(result.code, argv.join(' ')).toBe(2);
    }
  });
});

describe('a closed pipe (issue 16)', () => {
  it('report --format html | true ends quietly with exit 0 (no EPIPE stack trace)', async () => {
    // `true` exits at once: the CLI writes into a pipe nobody reads, which is EPIPE.
    const script = `"${process.execPath}" "${BIN}" report --input "${snapshot}" --format html | true; echo "exit=\${PIPESTATUS[0]}" >&2`;
    const { stderr } = await new Promise<{ stderr: string }>((resolve) => {
      execFile('/bin/bash', ['-c', script], { timeout: 30_000 }, (_error, _stdout, err) =>
        resolve({ stderr: err }),
      );
    });
    expect(stderr.trim()).toBe('exit=0');
  });
});
