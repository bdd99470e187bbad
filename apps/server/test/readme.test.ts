/**
 * The README's first command (`pnpm start`) runs the built server with no Redis configured:
 * it must come up on the embedded memory backend, say so, serve every kind of route, and
 * stop cleanly on Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@stateful-route/test-redis';
import { expect, test } from 'vitest';
import { ROOT, startBuiltServer } from './helpers/built-server.js';

test("the README's first command starts the server on the embedded backend", async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const firstCommand = firstBlock
    .split('\n')
    .find((line) => line.trim() !== '' && !line.startsWith('#'));
  expect(firstCommand).toMatch(/pnpm start$/);
  const start = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts.start;
  // `pnpm start` builds the server and its dependencies, then runs exactly this, on a
  // supported Node.js (scripts/node-run.sh):
  expect(start).toMatch(/&& bash scripts\/node-run\.sh node apps\/server\/dist\/main\.js$/);

  const port = await freePort();
  // No flags and no REDIS_* variables, as on a fresh machine; PORT only to avoid a clash.
  const server = await startBuiltServer([], { PORT: String(port) }, port);
  expect(server.output()).toContain('embedded in-memory backend');
  const ready = await fetch(`${server.url}/readyz`);
  expect(await ready.json()).toMatchObject({ status: 'ok', backend: 'memory' });
  const link = `${server.url}/v1/namespaces/default/users/user123/links/room`;
  const put = await fetch(link, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ podId: 3, persistSeconds: -1, mode: 'set' }),
  });
  expect(await put.json()).toEqual({ previous: -1 });
  expect(await (await fetch(link)).json()).toEqual({ podId: 3 });
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  expect(metrics).toMatch(
    /stateful_executor_operations_total\{operation="getLinkedPod",status="success"\} 1/,
  );
  const { code } = await server.stop('SIGINT');
  expect(code).toBe(0);
});
