import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { OpenApiDocument } from './openapi-markdown.js';

/** The repository root (this file runs from tooling/docs/src or /dist). */
export const repositoryRoot = fileURLToPath(new URL('../../../', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts the BUILT server (apps/server/dist/main.js) on the memory backend and a free
 * loopback port, reads `/docs/openapi.json`, and stops it. The document is what a user of
 * the running server sees, not a copy kept by hand.
 */
export async function fetchOpenApi(): Promise<OpenApiDocument> {
  const port = await freePort();
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.REDIS_CLUSTER_NODES;
  delete env.STATEFUL_ROUTE_TOKEN;
  const child = spawn(
    'node',
    [
      `${repositoryRoot}apps/server/dist/main.js`,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'warn',
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const response = await fetch(`http://127.0.0.1:${port}/docs/openapi.json`).catch(
        () => undefined,
      );
      if (response?.ok) return (await response.json()) as OpenApiDocument;
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`the server did not serve /docs/openapi.json\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
