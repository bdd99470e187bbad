// There is no Docker engine here, so the image in deploy/docker/Dockerfile is never built.
// This runs its two essential steps on the host instead: `pnpm deploy --prod` of the server
// into a fresh folder (the build stage), then the image's entry point from that folder
// alone (the runtime stage), and checks the folder needs nothing from the workspace.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@stateful-route/test-redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOrThrow } from '../src/run.js';
import { workspaceRoot } from '../src/workspace.js';

const DEPLOY = 'pnpm --filter @stateful-route/server deploy --prod /out';
let folder: string;
let out: string;
let dockerfile: string;

beforeAll(async () => {
  dockerfile = await readFile(join(workspaceRoot, 'deploy/docker/Dockerfile'), 'utf8');
  folder = await mkdtemp(join(tmpdir(), 'stateful-route-deploy-'));
  out = join(folder, 'out');
  // The Dockerfile's command, with /out moved to a temp folder.
  const [command, ...args] = DEPLOY.replace('/out', out).split(' ');
  await runOrThrow(command!, args, { cwd: workspaceRoot, timeoutMs: 120_000 });
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('deploy/docker/Dockerfile steps, run on the host', () => {
  it('the Dockerfile runs these steps on node:24-slim', () => {
    expect(dockerfile).toMatch(/^FROM node:24-slim AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:24-slim$/m);
    expect(dockerfile).toContain(DEPLOY);
    expect(dockerfile).toMatch(/^COPY --from=build --chown=node:node \/out \.\/$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/main\.js"\]$/m);
  });

  it('pnpm deploy copies the workspace packages in, with no link back to the workspace', async () => {
    for (const name of ['executor-core', 'metrics', 'analyzer', 'optimizer', 'reporter']) {
      const real = await realpath(join(out, 'node_modules/@stateful-route', name));
      expect(real.startsWith(out), `${name} -> ${real}`).toBe(true);
      expect(await readFile(join(real, 'dist/index.js'), 'utf8')).not.toBe('');
    }
  });

  it('the deployed folder alone runs the server: /healthz, /readyz, clean exit on SIGTERM', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
    delete env.REDIS_URL;
    delete env.REDIS_CLUSTER_NODES;
    const server = spawn(
      'node',
      ['dist/main.js', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
      { cwd: out, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) =>
      server.on('exit', (code) => resolve(code)),
    );
    try {
      let health: Response | undefined;
      for (const deadline = Date.now() + 15_000; Date.now() < deadline && !health;) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!health) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(health?.status, output).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  });
});
