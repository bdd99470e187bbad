/**
 * Issue 14, hostile clients: the BUILT server as a real process, driven over raw sockets by
 * clients that send slowly, open too many connections, pipeline without reading the replies,
 * put tokens in query strings, or send what is not HTTP. Each of these tests fails on the
 * server as it was before issue 14.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { buildApp, STATUS_OF_CODE } from '../src/index.js';
import {
  MAIN,
  ROOT,
  SERVER_DIR,
  startBuiltServer,
  type BuiltServer,
} from './helpers/built-server.js';
import { exchange, RawConnection, type RawReply } from './helpers/raw-http.js';

const servers: BuiltServer[] = [];
const connections: RawConnection[] = [];

afterEach(async () => {
  for (const connection of connections.splice(0)) connection.destroy();
  for (const server of servers.splice(0)) {
    if (server.child.exitCode === null && server.child.signalCode === null)
      await server.stop('SIGKILL');
  }
});

async function start(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ server: BuiltServer; port: number }> {
  const port = await freePort();
  const server = await startBuiltServer(['--port', String(port), ...args], env, port);
  servers.push(server);
  return { server, port };
}

async function open(port: number): Promise<RawConnection> {
  const connection = await RawConnection.open(port);
  connections.push(connection);
  return connection;
}

const ERRORS_MD = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');

/** An error reply in the documented shape, with a documented code that maps to `status`. */
function expectDocumentedError(reply: RawReply | undefined, status: number, code: string): void {
  expect(reply, `expected a ${status} reply`).toBeDefined();
  expect(reply!.status, reply!.body).toBe(status);
  const body = JSON.parse(reply!.body) as Record<string, unknown>;
  expect(body).toEqual({ error: { code, message: expect.any(String) as unknown } });
  expect(reply!.headers['content-type']).toBe('application/json; charset=utf-8');
  expect((STATUS_OF_CODE as Record<string, number>)[code]).toBe(status);
  expect(ERRORS_MD.includes(`| \`${code}\``), `${code} in docs/errors.md`).toBe(true);
}

const GET_HEALTHZ = 'GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n';

function putWorkload(ns: string, body: string): string {
  return (
    `PUT /v1/namespaces/${ns}/services/room/workload HTTP/1.1\r\nHost: test\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`
  );
}

/** Resident memory of a process from /proc (Linux): now, or the peak so far. */
function memoryOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
}

describe('issue 14: slow clients and too many connections', () => {
  test('issue 14: by default a request must arrive within 30 s (headers 10 s), idle keep-alive lasts 72 s, and at most 10 000 connections are open', async () => {
    const app = await buildApp({ config: { logLevel: 'silent' } });
    try {
      expect(app.server.requestTimeout).toBe(30_000);
      expect(app.server.headersTimeout).toBe(10_000);
      expect(app.server.keepAliveTimeout).toBe(72_000);
      expect(app.server.maxConnections).toBe(10_000);
    } finally {
      await app.close();
    }
  });

  test('issue 14: a body or headers sent 1 byte every 300 ms are answered 408 SR_REQUEST_TIMEOUT and closed after --request-timeout-ms; an ordinary client is served meanwhile and nothing is written', async () => {
    const { server, port } = await start(['--request-timeout-ms', '1000']);
    const ns = uniqueNamespace('slow');
    const body = JSON.stringify({ state: 'dribbled-in' });
    const slowBody = await open(port);
    slowBody.write(putWorkload(ns, body));
    const slowHeaders = await open(port);
    let sent = 0;
    const dribble = setInterval(() => {
      slowBody.write(body[sent] ?? ' ');
      slowHeaders.write(GET_HEALTHZ[sent] ?? ' ');
      sent++;
    }, 300);
    const statuses: number[] = [];
    try {
      while (!(slowBody.closed && slowHeaders.closed) && sent < 20) {
        const reply = await fetch(`${server.url}/v1/namespaces/${ns}/services/room/workload`);
        statuses.push(reply.status);
        await reply.arrayBuffer();
        await sleep(50);
      }
    } finally {
      clearInterval(dribble);
    }
    for (const slow of [slowBody, slowHeaders]) {
      expect(slow.closed).toBe(true);
      expect(slow.closedAfterMs).toBeGreaterThanOrEqual(900);
      expect(slow.closedAfterMs).toBeLessThan(2500);
      const replies = slow.replies();
      expect(replies).toHaveLength(1);
      expectDocumentedError(replies[0], 408, 'SR_REQUEST_TIMEOUT');
      expect(replies[0]!.headers.connection).toBe('close');
    }
    expect(statuses.length).toBeGreaterThan(5);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const state = await fetch(`${server.url}/v1/namespaces/${ns}/services/room/workload`);
    expect(await state.json()).toEqual({ state: null });
  });

  test('issue 14: connections above --max-connections are closed at once; open ones, an ordinary client and new ones below the cap are served', async () => {
    const cap = 4;
    const { server, port } = await start(['--max-connections', String(cap)]);
    // The ordinary client: fetch keeps one keep-alive connection open, one of the cap.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // Raw connections until one is refused: the test's own fetch holds one or more slots.
    const held: RawConnection[] = [];
    let refused: RawConnection | undefined;
    for (let i = 0; i <= cap && !refused; i++) {
      const connection = await open(port);
      connection.write(GET_HEALTHZ);
      const replies = await connection.waitForReplies(1, 2000);
      if (replies.length === 0) refused = connection;
      else {
        expect(replies.map((r) => r.status)).toEqual([200]);
        held.push(connection);
      }
    }
    expect(refused, 'a connection above the cap').toBeDefined();
    expect(refused!.closed).toBe(true);
    expect(refused!.received).toBe('');
    expect(held.length).toBeGreaterThanOrEqual(1);
    expect(held.length).toBeLessThan(cap);

    for (const connection of held) {
      connection.write(GET_HEALTHZ);
      expect((await connection.waitForReplies(2, 2000)).map((r) => r.status)).toEqual([200, 200]);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    held.pop()!.destroy();
    await sleep(200);
    const next = await open(port);
    next.write(GET_HEALTHZ);
    expect((await next.waitForReplies(1, 2000)).map((r) => r.status)).toEqual([200]);
    expect(server.output().match(/connection cap reached/g)).toHaveLength(1);
  });

  test('issue 14: malformed --request-timeout-ms and --max-connections stop the server with exit code 2, naming them', async () => {
    for (const [args, env, named] of [
      [['--request-timeout-ms', '0'], {}, '--request-timeout-ms'],
      [['--max-connections', 'many'], {}, '--max-connections'],
      [[], { STATEFUL_ROUTE_REQUEST_TIMEOUT_MS: '1e3' }, 'STATEFUL_ROUTE_REQUEST_TIMEOUT_MS'],
      [[], { STATEFUL_ROUTE_MAX_CONNECTIONS: '0' }, 'STATEFUL_ROUTE_MAX_CONNECTIONS'],
    ] as const) {
      const port = await freePort();
      await expect(startBuiltServer(['--port', String(port), ...args], env, port)).rejects.toThrow(
        new RegExp(`exited with 2:\\n.*${named}: must be a decimal integer`),
      );
    }
  });
});

describe('issue 14: a client that pipelines without reading the replies', () => {
  test('issue 14: four connections pipelining GETs without reading are closed, one log line each; the server stays under 100 MB more RSS and /healthz keeps answering (within 2 s; it stalled for 5 s and more before)', async () => {
    const { server, port } = await start([], { REDIS_URL: inject('redisUrl') });
    const ns = uniqueNamespace('pipeline');
    const request = `GET /v1/namespaces/${ns}/users/u1/links/room HTTP/1.1\r\nHost: test\r\n\r\n`;

    // A client that pipelines and reads its replies is served (and warms the server up).
    const reader = await open(port);
    reader.write(request.repeat(100));
    const replies = await reader.waitForReplies(100, 5000);
    expect(replies.map((r) => r.status)).toEqual(Array<number>(100).fill(200));
    reader.destroy();

    const pid = server.child.pid!;
    const rssBefore = memoryOf(pid, 'VmRSS');
    const logBefore = server.output().length;

    const chunk = Buffer.from(request.repeat(1000));
    const flooders = await Promise.all([1, 2, 3, 4].map(() => open(port)));
    let flooding = true;
    const floods = flooders.map(async (connection) => {
      const { socket } = connection;
      socket.pause(); // never reads a reply
      while (flooding && !socket.destroyed) {
        if (!socket.write(chunk)) {
          await new Promise((resolve) => {
            socket.once('drain', resolve);
            socket.once('close', resolve);
          });
        }
      }
    });
    const latencies: number[] = [];
    const started = performance.now();
    let closedByServer: boolean[];
    try {
      while (performance.now() - started < 3000) {
        const asked = performance.now();
        try {
          const reply = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
          await reply.arrayBuffer();
          expect(reply.status).toBe(200);
          latencies.push(performance.now() - asked);
        } catch {
          latencies.push(Infinity); // no answer within 5 s
        }
        await sleep(50);
      }
    } finally {
      flooding = false;
      // Closed by the server (the test closes them only now, to stop the writers).
      closedByServer = flooders.map((connection) => connection.closed);
      for (const connection of flooders) connection.destroy();
      await Promise.all(floods);
    }
    const grew = memoryOf(pid, 'VmHWM') - rssBefore;
    expect(grew, `peak RSS grew by ${Math.round(grew / 1e6)} MB`).toBeLessThan(100 * 1024 * 1024);
    expect(
      Math.max(...latencies),
      `/healthz latencies (ms): ${latencies.map(Math.round).join(' ')}`,
      // A stall bound, not a speed figure: a loaded CI machine takes hundreds of ms anyway.
    ).toBeLessThan(2000);
    expect(closedByServer).toEqual([true, true, true, true]);
    await sleep(100);
    const log = server.output().slice(logBefore);
    expect(log.match(/pipelined requests waiting for their replies/g)).toHaveLength(4);
    expect(log.trim().split('\n').length, log).toBeLessThanOrEqual(6);
  });

  test('issue 14: a client that pipelines requests for a large reply and never reads the replies is closed once they have not moved for --request-timeout-ms', async () => {
    const { server, port } = await start(['--request-timeout-ms', '1000']);
    const connection = await open(port);
    connection.socket.pause(); // reads nothing until the end of the test
    // 120 replies of ~48 KB: more than the kernel's socket buffers take on loopback.
    connection.write('GET /docs/openapi.json HTTP/1.1\r\nHost: test\r\n\r\n'.repeat(120));
    const sent = performance.now();
    while (
      !server.output().includes('pipelined replies not read') &&
      performance.now() - sent < 6000
    )
      await sleep(20);
    const closedAfter = performance.now() - sent;
    expect(closedAfter, 'the server closed the connection').toBeLessThan(4000);
    // What the server had sent before it gave up arrives, then the end of the connection.
    connection.socket.resume();
    expect(await connection.waitForClose(5000)).toBe(true);
    expect(connection.replies().length).toBeLessThan(120);
    expect(server.output().match(/closed a connection/g)).toHaveLength(1);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});

describe('issue 14: logs, error shapes, methods, --version', () => {
  test('issue 14: a token in the query string never reaches the log, even at trace level', async () => {
    const { server, port } = await start(['--log-level', 'trace']);
    const secrets = ['secret123', 'secret456', 'secret789', 'secret000'];
    const requests = [
      'GET /v1/namespaces/ns/users/u/links/room?token=secret123',
      'GET /v1/namespaces/ns/users/u/links/room?persistentOnly=true&access_token=secret456',
      'GET /healthz?token=secret789',
      'GET /nope?access_token=secret000',
      'DELETE /v1/namespaces/ns/services/s/workload?token=secret123',
      'GET /v1/namespaces/caf%E9/users/u/links/room?token=secret456',
      'GET /v1/namespaces/ns/users/u/links/room?persistentOnly=secret789',
    ];
    for (const line of requests) {
      const { replies } = await exchange(
        port,
        `${line} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`,
      );
      expect(replies).toHaveLength(1);
    }
    await sleep(200);
    const output = server.output();
    for (const secret of secrets) {
      const leaked = output.split('\n').find((line) => line.includes(secret));
      expect(leaked, `${secret} in the log`).toBeUndefined();
    }
    expect(output).toContain('incoming request');
    expect(output).toContain('token=[redacted]');
  });

  test('issue 14: malformed HTTP (400), headers over 16 KiB (431) and chunk extensions over 16 KiB (413) answer the documented error shape and close the connection', async () => {
    const { server, port } = await start([]);
    const put = 'PUT /v1/namespaces/ns/services/room/workload HTTP/1.1\r\nHost: test\r\n';
    const cases = [
      ['GARBAGE\r\n\r\n', 400, 'SR_BAD_REQUEST'],
      ['GET /healthz HTTP/9.9\r\nHost: test\r\n\r\n', 400, 'SR_BAD_REQUEST'],
      [
        `${put}Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
        400,
        'SR_BAD_REQUEST',
      ],
      [
        `GET /healthz HTTP/1.1\r\nHost: test\r\nX-Pad: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
        431,
        'SR_HEADERS_TOO_LARGE',
      ],
      [`GET /${'a'.repeat(17 * 1024)} HTTP/1.1\r\nHost: test\r\n\r\n`, 431, 'SR_HEADERS_TOO_LARGE'],
      [
        `${put}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;${'x'.repeat(17 * 1024)}\r\n{}\r\n0\r\n\r\n`,
        413,
        'SR_BODY_TOO_LARGE',
      ],
    ] as const;
    for (const [bytes, status, code] of cases) {
      const { replies, closed } = await exchange(port, bytes, 4000);
      expect(closed).toBe(true);
      expect(replies).toHaveLength(1);
      expectDocumentedError(replies[0], status, code);
      expect(replies[0]!.headers.connection).toBe('close');
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  test('issue 14: a request that arrives while the server shuts down is answered 503 SR_SHUTTING_DOWN (Retry-After: 1, Connection: close); the one in flight finishes', async () => {
    const { server, port } = await start([]);
    const ns = uniqueNamespace('closing');
    const body = JSON.stringify({ state: 'written-while-closing' });
    const connection = await open(port);
    connection.write(putWorkload(ns, body) + body.slice(0, 5));
    await sleep(100);
    server.child.kill('SIGTERM');
    const deadline = performance.now() + 5000;
    while (!server.output().includes('shutting down') && performance.now() < deadline)
      await sleep(10);
    await sleep(200);
    connection.write(body.slice(5) + GET_HEALTHZ);
    const replies = await connection.waitForReplies(2, 5000);
    expect(replies[0]?.status).toBe(204);
    expectDocumentedError(replies[1], 503, 'SR_SHUTTING_DOWN');
    expect(replies[1]!.headers['retry-after']).toBe('1');
    expect(replies[1]!.headers.connection).toBe('close');
    expect(await connection.waitForClose(2000)).toBe(true);
    expect((await server.stop()).code).toBe(0);
  });

  test('issue 14: a wrong method on a known path answers 405 SR_METHOD_NOT_ALLOWED with Allow; an unknown path stays 404', async () => {
    const { port } = await start(['--token', 'a-long-test-token']);
    const cases = [
      ['DELETE /v1/namespaces/ns/services/s/workload', 'GET, HEAD, PUT'],
      ['POST /healthz', 'GET, HEAD'],
      ['PUT /v1/namespaces/ns/users/u/links', 'GET, HEAD'],
      ['GET /v1/namespaces/ns/workloads/query', 'POST'],
      ['PATCH /v1/namespaces/ns/users/u/links/room', 'DELETE, GET, HEAD, PUT'],
      ['DELETE /metrics', 'GET, HEAD'],
    ] as const;
    for (const [line, allow] of cases) {
      const { replies } = await exchange(
        port,
        `${line} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`,
      );
      expectDocumentedError(replies[0], 405, 'SR_METHOD_NOT_ALLOWED');
      expect(replies[0]!.headers.allow, line).toBe(allow);
    }
    const { replies } = await exchange(
      port,
      'GET /v1/namespaces/ns/nothing HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n',
    );
    expectDocumentedError(replies[0], 404, 'SR_NOT_FOUND');
  });

  test('issue 14: stateful-route-server --version (and -V) prints the version and exits 0', () => {
    const { version } = JSON.parse(readFileSync(join(SERVER_DIR, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const run = spawnSync(process.execPath, [MAIN, flag], { encoding: 'utf8', timeout: 10_000 });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
    }
  });
});
