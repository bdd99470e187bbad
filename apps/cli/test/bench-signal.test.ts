/**
 * Ctrl-C on the BUILT binary: a real SIGINT to a running `bench`, on a Redis of its own (so
 * that the keys that show the run has started can only be this run's).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedis, type RedisServer } from '@stateful-route/test-redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN } from './helpers.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: run pnpm build (pnpm test at the root builds first)`);
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** Every bench key on the server, by SCAN. */
async function benchKeys(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.scan(
      cursor,
      'MATCH',
      'sf:{stateful-route-bench-*',
      'COUNT',
      1000,
    );
    cursor = next;
    keys.push(...page);
  } while (cursor !== '0');
  return keys;
}

it('SIGINT on a running bench: says it was interrupted, deletes its keys, exits 130', async () => {
  // Ten minutes unless stopped: the test would time out if the signal were ignored.
  const child = spawn(
    process.execPath,
    [
      BIN,
      'bench',
      '--redis',
      server.url,
      '--duration',
      '10m',
      '--warmup',
      '100ms',
      '--concurrency',
      '8',
      '--keys',
      '200',
    ],
    { env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );

  // The run has started (and the SIGINT handler is installed) once its keys exist.
  const deadline = Date.now() + 30_000;
  while ((await benchKeys()).length === 0) {
    if (Date.now() > deadline) throw new Error(`bench never started: ${stderr}`);
    await sleep(50);
  }
  // Past the 100 ms warm-up: the measured part has begun.
  await sleep(700);
  child.kill('SIGINT');
  const { code, signal } = await exited;

  expect(signal).toBeNull();
  expect(code).toBe(130);
  expect(stderr).toMatch(/bench: interrupted \(Ctrl-C\) after [0-9.]+ s of 600 s/);
  // What it measured before the interruption is printed, as after a full run.
  expect(stdout).toMatch(/^bench on .* ops\/s/m);
  expect(stdout).toContain('getServiceState');
  expect(await benchKeys()).toEqual([]);
});
