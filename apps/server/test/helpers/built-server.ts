/**
 * The BUILT server (`node apps/server/dist/main.js`) as a real process. `ensureBuilt()`
 * rebuilds the server and the workspace packages it imports when their dist/ is missing or
 * older than their sources (under `pnpm test`, turbo has built them already and this is a
 * few stat calls).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** The server package folder. */
export const SERVER_DIR = join(ROOT, 'apps/server');
/** The bin. */
export const MAIN = join(SERVER_DIR, 'dist/main.js');

function newest(dir: string): number {
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return max;
}

function oldest(dir: string): number {
  let min = Infinity;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    min = Math.min(min, entry.isDirectory() ? oldest(path) : statSync(path).mtimeMs);
  }
  return min;
}

function stale(dir: string): boolean {
  const src = join(dir, 'src');
  const dist = join(dir, 'dist');
  if (!hasSources(dir)) return false;
  if (!existsSync(dist) || readdirSync(dist).length === 0) return true;
  return newest(src) > oldest(dist);
}

/**
 * Builds the server when its dist/ is missing or older than its sources, and a workspace
 * package it imports when that package's dist/ is missing. (Those packages are rebuilt by
 * `pnpm test` through turbo; rebuilding them here on every source change would race with
 * whoever is editing them.)
 */
export function ensureBuilt(): void {
  const manifest = JSON.parse(readFileSync(join(SERVER_DIR, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const workspace = Object.entries(manifest.dependencies)
    .filter(([, range]) => range.startsWith('workspace:'))
    .map(([name]) => name);
  // executor-core first: the other packages import its types.
  workspace.sort(
    (a, b) => Number(b.endsWith('/executor-core')) - Number(a.endsWith('/executor-core')),
  );
  for (const name of workspace) {
    const dir = join(ROOT, 'packages', name.slice('@stateful-route/'.length));
    if (existsSync(join(dir, 'dist/index.js')) || !hasSources(dir)) continue;
    execFileSync('pnpm', ['--filter', name, 'build'], { cwd: ROOT, stdio: 'pipe' });
  }
  if (stale(SERVER_DIR)) {
    execFileSync('pnpm', ['--filter', '@stateful-route/server', 'build'], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  }
}

function hasSources(dir: string): boolean {
  return existsSync(join(dir, 'src')) && readdirSync(join(dir, 'src')).length > 0;
}

/** A running server process. */
export interface BuiltServer {
  url: string;
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM (or `signal`), then the exit code and signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `node dist/main.js` with `args` and `env` (on top of a copy of this process'
 * environment without any REDIS_* / STATEFUL_ROUTE_* variables) and waits for /healthz.
 */
export async function startBuiltServer(
  args: string[],
  env: Record<string, string>,
  port: number,
): Promise<BuiltServer> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(REDIS_|STATEFUL_ROUTE_|PORT$|HOST$|LOG_LEVEL$)/.test(key))
      continue;
    clean[key] = value;
  }
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /healthz within 20 s:\n${output}`);
    }
    await sleep(50);
  }
  return {
    url,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
