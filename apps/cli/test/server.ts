/** Starts the built stateful-route server as a real process on a free port, for tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '@stateful-route/test-redis';

const SERVER_BIN = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));

/** A running server. */
export interface TestServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `node apps/server/dist/main.js --port <free> --redis <url>` (without `--redis`: on
 * the server's embedded memory backend) and waits for /healthz.
 */
export async function startServer(options: {
  redisUrl?: string;
  token?: string;
  /** More flags, e.g. `['--command-timeout-ms', '5000']`. */
  args?: string[];
}): Promise<TestServer> {
  if (!existsSync(SERVER_BIN)) {
    throw new Error(`${SERVER_BIN} is missing: build first (pnpm build, or pnpm test at the root)`);
  }
  const port = await freePort();
  const args = [SERVER_BIN, '--port', String(port), '--log-level', 'warn'];
  if (options.redisUrl !== undefined) args.push('--redis', options.redisUrl);
  if (options.token) args.push('--token', options.token);
  args.push(...(options.args ?? []));
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env['PATH'] ?? '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the server exited (${child.exitCode}): ${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not start within 15 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
