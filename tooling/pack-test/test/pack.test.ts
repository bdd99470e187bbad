// Packs every publishable package as `changeset publish` would (pnpm pack), installs the
// tarballs with npm into a folder outside the workspace (no workspace links, no hoisted
// node_modules above it), and uses them the way a consumer does: a TypeScript program
// compiled with the installed tsc and run with node against a real Redis, the CLI's bin and
// the server's bin started as processes.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lintTarball } from '../src/lint.js';
import { packPackages, type PackedPackage } from '../src/pack.js';
import { run, runOrThrow } from '../src/run.js';
import { publishablePackages, workspaceRoot } from '../src/workspace.js';

interface PackedManifest {
  name: string;
  version: string;
  exports: Record<string, unknown>;
  files?: string[];
  sideEffects?: boolean;
  engines?: { node?: string };
  repository?: { directory?: string };
  publishConfig?: { access?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const fixtures = new URL('../fixtures/app/', import.meta.url);
let folder: string;
let app: string;
let packed: PackedPackage[];

async function readPackedManifest(pkg: PackedPackage): Promise<PackedManifest> {
  const { stdout } = await runOrThrow('tar', ['-xzOf', pkg.tarball, 'package/package.json']);
  return JSON.parse(stdout) as PackedManifest;
}

async function workspaceVersion(name: string): Promise<string> {
  const root = JSON.parse(await readFile(join(workspaceRoot, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  return root.devDependencies[name]!;
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'stateful-route-pack-'));
  packed = await packPackages(await publishablePackages(), join(folder, 'tarballs'));
  app = join(folder, 'app');
  await mkdir(app);
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'pack-test-app', private: true, type: 'module' }, null, 2),
  );
  // The caller owns ioredis and prom-client (peer dependencies of the libraries).
  await runOrThrow(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      // A stalled or refused registry request fails within a minute or so instead of
      // hanging the run (npm's defaults retry for minutes).
      '--fetch-timeout=30000',
      '--fetch-retries=2',
      '--fetch-retry-maxtimeout=15000',
      ...packed.map((p) => p.tarball),
      'ioredis@^5',
      'prom-client@^15',
      `typescript@${await workspaceVersion('typescript')}`,
      `@types/node@${await workspaceVersion('@types/node')}`,
    ],
    { cwd: app, timeoutMs: 240_000 },
  );
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('the packed tarballs', () => {
  it('packs every package under packages/ and apps/', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([
      '@stateful-route/analyzer',
      '@stateful-route/cli',
      '@stateful-route/executor-core',
      '@stateful-route/metrics',
      '@stateful-route/optimizer',
      '@stateful-route/reporter',
      '@stateful-route/server',
    ]);
  });

  it('carry the publishing fields, real version ranges and no source condition', async () => {
    for (const pkg of packed) {
      const manifest = await readPackedManifest(pkg);
      const workspace = JSON.parse(await readFile(join(pkg.dir, 'package.json'), 'utf8')) as {
        exports: Record<string, unknown>;
      };
      const text = JSON.stringify(manifest);
      expect(text, pkg.name).not.toContain('workspace:');
      expect(text, pkg.name).not.toContain('@stateful-route/source');
      expect(text, pkg.name).not.toContain('./src/');
      // publishConfig.exports must list every subpath of the workspace's exports.
      expect(Object.keys(manifest.exports).sort(), pkg.name).toEqual(
        Object.keys(workspace.exports).sort(),
      );
      expect(manifest.exports['.'], pkg.name).toEqual({
        types: './dist/index.d.ts',
        default: './dist/index.js',
      });
      expect(manifest.files, pkg.name).toContain('dist');
      expect(manifest.sideEffects, pkg.name).toBe(false);
      expect(manifest.engines?.node, pkg.name).toBe('^22.13.0 || >=24');
      expect(manifest.repository?.directory, pkg.name).toBe(
        pkg.dir.slice(workspaceRoot.length).replace(/\/$/, ''),
      );
      expect(manifest.publishConfig?.access, pkg.name).toBe('public');
      for (const range of Object.values({
        ...manifest.dependencies,
        ...manifest.peerDependencies,
      })) {
        expect(range, pkg.name).toMatch(/^[\^~]?\d/);
      }
    }
  });

  it('ship dist, the README and the license, and no sources or tests', async () => {
    for (const pkg of packed) {
      const { stdout } = await runOrThrow('tar', ['-tzf', pkg.tarball]);
      const files = stdout.split('\n').filter(Boolean);
      expect(files, pkg.name).toContain('package/README.md');
      expect(files, pkg.name).toContain('package/LICENSE');
      expect(files, pkg.name).toContain('package/dist/index.js');
      expect(files, pkg.name).toContain('package/dist/index.d.ts');
      expect(
        files.filter((f) => /^package\/(src|test|bench)\//.test(f)),
        pkg.name,
      ).toEqual([]);
    }
  });

  it('pass publint (strict) and attw (esm-only profile)', async () => {
    const failures: string[] = [];
    for (const pkg of packed) {
      for (const result of await lintTarball(pkg.tarball)) {
        if (!result.ok) failures.push(`${pkg.name} ${result.tool}:\n${result.output}`);
      }
    }
    expect(failures.join('\n')).toBe('');
  });
});

describe('installed with npm outside the workspace', () => {
  it('a TypeScript program type-checks and runs: executor on Redis, metrics, analyzer, report', async () => {
    for (const file of ['main.ts', 'tsconfig.json']) {
      await copyFile(new URL(file, fixtures), join(app, file));
    }
    const tsc = await run(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], { cwd: app });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.code).toBe(0);

    const namespace = uniqueNamespace('pack');
    const program = await run('node', ['dist/main.js'], {
      cwd: app,
      env: { ...process.env, REDIS_URL: inject('redisUrl'), NAMESPACE: namespace },
      timeoutMs: 30_000,
    });
    expect(program.stderr).toBe('');
    expect(program.code).toBe(0);
    const out = JSON.parse(program.stdout) as {
      states: Record<string, string>;
      linked: number;
      pod: number;
      rejected: string;
      counts: Record<string, number>;
      packages: Record<string, string>;
      findings: { id: string; title: string }[];
      text: string;
      markdown: string;
      exposition: string;
    };
    expect(out.states).toEqual({ 0: 'READY', 1: 'BUSY' });
    expect(out.linked).toBe(1);
    expect(out.pod).toBe(1);
    expect(out.rejected).toBe('SR_VALIDATION');
    expect(out.counts).toMatchObject({
      setServiceState: 2,
      getServiceState: 1,
      setLinkedPodIfAbsent: 1,
      getLinkedPod: 2,
    });
    // The analyzer reads versions from the installed manifests, not the workspace's.
    expect(out.packages['@stateful-route/analyzer']).toBe('0.1.0');
    expect(out.text).toContain('setServiceState');
    // The optimizer flags the EVAL transport, and the Markdown report shows the finding.
    const transport = out.findings.find((f) => f.id === 'script-transport');
    expect(transport, JSON.stringify(out.findings)).toBeDefined();
    expect(out.markdown).toContain(transport!.title);
    expect(out.markdown).toContain('getLinkedPod');
    expect(out.exposition).toMatch(
      /stateful_executor_cache_hit_ratio\{[^}]*cache_type="script"[^}]*\} 0\b/,
    );
    expect(out.exposition).toMatch(
      /stateful_executor_operations_total\{[^}]*operation="setServiceState"[^}]*status="success"[^}]*\} 2\b/,
    );
    expect(out.exposition).toMatch(
      /stateful_executor_errors_total\{[^}]*operation="getLinkedPod"[^}]*error_type="validation"[^}]*\} 1\b/,
    );
    expect(out.exposition).toMatch(/stateful_executor_operation_duration_seconds_bucket\{/);
  });

  it('CommonJS projects use the ES-only package: nodenext (.cts) and node10 without esModuleInterop', async () => {
    await mkdir(join(app, 'cjs'), { recursive: true });
    for (const file of [
      'cjs/main.cts',
      'cjs/legacy.ts',
      'tsconfig.cjs.json',
      'tsconfig.node10.json',
    ]) {
      await copyFile(new URL(file, fixtures), join(app, file));
    }
    const expected = { states: { 1: 'READY' }, refused: true };
    for (const [config, output] of [
      ['tsconfig.cjs.json', 'dist-cjs/main.cjs'],
      ['tsconfig.node10.json', 'dist-node10/legacy.js'],
    ] as const) {
      const tsc = await run(join(app, 'node_modules/.bin/tsc'), ['-p', config], { cwd: app });
      expect(tsc.stdout + tsc.stderr, config).toBe('');
      expect(tsc.code).toBe(0);
      // The app's package.json says "type": "module": the node10 output is CommonJS .js.
      if (config === 'tsconfig.node10.json') {
        await writeFile(join(app, 'dist-node10/package.json'), '{ "type": "commonjs" }\n');
      }
      const program = await run('node', [output], { cwd: app, timeoutMs: 30_000 });
      expect(program.stderr, config).toBe('');
      expect(program.code).toBe(0);
      expect(JSON.parse(program.stdout)).toEqual(expected);
    }
  });

  it('the CLI bin starts and answers --help', async () => {
    const cli = await run(join(app, 'node_modules/.bin/stateful-route'), ['--help'], {
      cwd: app,
      timeoutMs: 20_000,
    });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/Usage: stateful-route/);
  });

  it('the server bin starts on the memory backend, answers, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    // No Redis configured: the server must come up on its embedded memory backend.
    const env = { ...process.env };
    delete env.REDIS_URL;
    delete env.REDIS_CLUSTER_NODES;
    delete env.STATEFUL_ROUTE_TOKEN;
    const server = spawn(
      join(app, 'node_modules/.bin/stateful-route-server'),
      ['--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'],
      { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    server.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    server.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) =>
      server.on('exit', (code) => resolve(code)),
    );
    try {
      const base = `http://127.0.0.1:${port}`;
      let health: Response | undefined;
      for (const deadline = Date.now() + 15_000; Date.now() < deadline;) {
        health = await fetch(`${base}/healthz`).catch(() => undefined);
        if (health) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(health?.status, output).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const put = await fetch(`${base}/v1/namespaces/pack/users/u1/links/room`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ podId: 3, persistSeconds: -1, mode: 'set' }),
      });
      expect(put.status).toBe(200);
      const get = await fetch(`${base}/v1/namespaces/pack/users/u1/links/room`);
      expect(await get.json()).toEqual({ podId: 3 });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(
        /stateful_executor_operations_total\{[^}]*operation="getLinkedPod"[^}]*status="success"[^}]*\} 1\b/,
      );
    } finally {
      server.kill('SIGTERM');
    }
    expect(await exited, output).toBe(0);
  });
});
