/**
 * `analyze --watch` against a real server (the built binary, ended by a real SIGINT), and
 * `analyze` pointed at something that is not a metrics exposition (an HTML page, JSON).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { uniqueNamespace } from '@stateful-route/test-redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { run } from '../src/index.js';
import { BIN, cli, memoryIo } from './helpers.js';
import { startServer, type TestServer } from './server.js';

const redisUrl = inject('redisUrl');
let server: TestServer;
let pages: Server;
let pagesUrl: string;

const HTML =
  '<!doctype html>\n<html><head><title>Grafana</title></head><body>hello</body></html>\n';

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
  server = await startServer({ redisUrl });
  pages = createServer((request, response) => {
    if (request.url === '/json') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"status":"ok"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(HTML);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  pagesUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => pages?.close(resolve));
});

describe('analyze on a URL that is not a metrics exposition', () => {
  it('says what it fetched and where /metrics is, at once', async () => {
    const result = await cli(['analyze', '--url', `${pagesUrl}/dashboards`, '--duration', '1m']);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `${pagesUrl}/dashboards did not answer with a Prometheus text exposition`,
    );
    expect(result.stderr).toContain('an HTML page');
    expect(result.stderr).toContain('content-type text/html; charset=utf-8');
    expect(result.stderr).toContain(`${Buffer.byteLength(HTML)} bytes`);
    expect(result.stderr).toContain('starting "<!doctype html> <html><head><title>Grafana');
    expect(result.stderr).toContain('line 1: expected a metric name');
    expect(result.stderr).toContain(`e.g. ${pagesUrl}/metrics`);
    expect(result.stderr).toContain('[SR_CLI_REMOTE]');
  });

  it('names a JSON reply as such', async () => {
    const result = await cli(['analyze', '--url', `${pagesUrl}/json`, '--json']);
    expect(result.code).toBe(4);
    const error = (JSON.parse(result.stderr) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('SR_CLI_REMOTE');
    expect(error.message).toContain('a JSON document (content-type application/json');
  });
});

describe('analyze --watch', () => {
  it('redraws every interval until SIGINT, then exits 0', async () => {
    const ns = uniqueNamespace('watch');
    const child = spawn(
      process.execPath,
      [BIN, 'analyze', '--url', `${server.url}/metrics`, '--watch', '300ms'],
      { env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const frames = () => stdout.match(/, every 0\.3 s, #\d+ at /g)?.length ?? 0;
    try {
      // Traffic for the frames to show, through the server.
      const written = await cli(['link', 'set', ns, 'u1', 'room', '2', '--server', server.url]);
      expect(written.code).toBe(0);
      const deadline = Date.now() + 20_000;
      while (frames() < 2 && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(frames(), stderr).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(`${server.url}/metrics, every 0.3 s, #1 at `);
    expect(stdout).toContain(`${server.url}/metrics, every 0.3 s, #2 at `);
    // Not a terminal: one block after another, no screen clearing.
    expect(stdout).not.toContain('\u001b[');
  });

  it('prints one JSON snapshot per line with --json', async () => {
    const controller = new AbortController();
    const io = memoryIo({ signal: controller.signal });
    const running = run(
      ['analyze', '--url', `${server.url}/metrics`, '--watch', '200ms', '--json'],
      io,
    );
    const deadline = Date.now() + 20_000;
    while (io.out().split('\n').length < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    controller.abort();
    expect(await running).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) {
      const snapshot = JSON.parse(line) as { operations: object; provenance: object };
      expect(typeof snapshot.operations).toBe('object');
    }
  });

  it('refuses --duration and --out beside it (exit 2)', async () => {
    const url = `${server.url}/metrics`;
    const both = await cli(['analyze', '--url', url, '--watch', '--duration', '5s']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--watch takes the interval itself');
    const out = await cli(['analyze', '--url', url, '--watch', '--out', 'x.json']);
    expect(out.code).toBe(2);
    const bad = await cli(['analyze', '--url', url, '--watch', 'soon']);
    expect(bad.code).toBe(2);
  });
});
