// Starts the built server (dist/main.js) as a real process on a free loopback port, for the
// fault tests: they kill and pause Redis underneath a server that must ride it out.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { freePort } from '@stateful-route/test-redis';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/** A running server process. */
export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote on stdout and stderr so far. */
  logs(): string;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `node dist/main.js --port <free> ...args` and waits for `/healthz`. */
export async function startServer(
  args: string[],
  options: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), MAIN, '--port', String(port), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`server exited with ${child.exitCode} before answering:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /healthz within 15 s:\n${output}`);
    }
    await sleep(50);
  }
  return {
    url,
    child,
    logs: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      );
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** One HTTP call: status, parsed JSON body (or null) and elapsed ms. Never throws. */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; ms: number }> {
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await response.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, body, ms: performance.now() - started };
  } catch (error) {
    return { status: 0, body: String(error), ms: performance.now() - started };
  }
}

/** The `code` of an error reply body, or undefined. */
export function codeOf(body: unknown): string | undefined {
  return (body as { error?: { code?: string } } | null)?.error?.code;
}

/** The URL of a link (path segments encoded). */
export function linkUrl(base: string, ns: string, uid: string, svc = 'room'): string {
  return `${base}/v1/namespaces/${encodeURIComponent(ns)}/users/${encodeURIComponent(uid)}/links/${encodeURIComponent(svc)}`;
}

/** Values of `stateful_executor_redis_connection_status{status=...}` in a /metrics text. */
export function connectionStatus(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    const match = /^stateful_executor_redis_connection_status\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match) continue;
    const status = /status="([^"]*)"/.exec(match[1]!)?.[1] ?? '?';
    out[status] = (out[status] ?? 0) + Number(match[2]);
  }
  return out;
}

/** The p-th percentile (0..1) of some durations. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** What a fault test runs against: a Redis (or a cluster) and the built server on it. */
export interface ServerOnRedis<R> {
  /** The Redis of the file (started in `beforeAll`). */
  redis(): R;
  /** The server of the file (started in `beforeAll`). */
  server(): ServerProcess;
}

/**
 * Registers the file's hooks: before its tests, starts `start()` (a redis-server or a
 * cluster) and the built server with the flags `args(redis)` gives; after them, stops both
 * (the server first).
 */
export function serverOnRedis<R extends { stop(): Promise<void> }>(
  start: () => Promise<R>,
  args: (redis: R) => string[],
): ServerOnRedis<R> {
  let redis: R | undefined;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    redis = await start();
    server = await startServer(args(redis));
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
  });
  return { redis: () => redis!, server: () => server! };
}
