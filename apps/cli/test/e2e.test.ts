/**
 * End-to-end: the BUILT binary (`node dist/main.js`), as a user runs it, against a real
 * Redis and a real server on free ports. `pnpm test` at the root builds first (turbo).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, uniqueNamespace } from '@stateful-route/test-redis';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BIN, bin, binBytes } from './helpers.js';
import { startServer, type TestServer } from './server.js';

const redisUrl = inject('redisUrl');
let server: TestServer;
let dir: string;

/** Every key of a namespace with its DUMP, read with plain commands. */
async function namespaceImage(ns: string): Promise<Record<string, string>> {
  const client = new Redis(redisUrl);
  try {
    const out: Record<string, string> = {};
    for (const key of (await client.keys(`sf:{${ns}:*`)).sort()) {
      out[key] = (await client.dumpBuffer(key))?.toString('hex') ?? '';
    }
    return out;
  } finally {
    client.disconnect();
  }
}

beforeAll(async () => {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: run pnpm build (pnpm test at the root builds first)`);
  server = await startServer({ redisUrl });
  dir = await mkdtemp(join(tmpdir(), 'sr-cli-e2e-'));
});
afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the stateful-route binary', () => {
  it('sets a link on Redis and reads it back, directly and through the server', async () => {
    const ns = uniqueNamespace('e2e');
    const set = await bin(['link', 'set', ns, 'user123', 'room', '7', '--redis', redisUrl]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toBe('linked user123 to pod 7 (previous: none (-1))\n');

    const direct = await bin(['link', 'get', ns, 'user123', 'room', '--json'], {
      env: { REDIS_URL: redisUrl },
    });
    expect(direct.code).toBe(0);
    expect(JSON.parse(direct.stdout)).toEqual({ podId: 7 });

    const viaServer = await bin([
      'link',
      'get',
      ns,
      'user123',
      'room',
      '--server',
      server.url,
      '--json',
    ]);
    expect(viaServer.code).toBe(0);
    expect(JSON.parse(viaServer.stdout)).toEqual({ podId: 7 });

    const live = await bin(['report', '--server', server.url, '--format', 'markdown']);
    expect(live.code).toBe(0);
    expect(live.stdout).toContain('getLinkedPod');
  });

  it('refuses a uid with a brace: exit 2, the message names the field', async () => {
    for (const target of [
      ['--redis', redisUrl],
      ['--server', server.url],
    ]) {
      const result = await bin(['link', 'set', 'default', 'user{1}', 'room', '3', ...target]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^stateful-route: uid: .*\[SR_VALIDATION\]\n$/);
    }
  });

  it("issue 11 finding 5: refuses a namespace with ':' (exit 2, SR_VALIDATION namespace) and writes nothing", async () => {
    const ns = uniqueNamespace('e2e');
    // Namespace `<ns>:lk:b`, service `c` would be the key of the link index of uid
    // `b:workload:c` in namespace `<ns>`.
    const link = await bin(['link', 'set', ns, 'b:workload:c', 'room', '3', '--redis', redisUrl]);
    expect(link.code).toBe(0);
    const before = await namespaceImage(ns);
    for (const target of [
      ['--redis', redisUrl],
      ['--server', server.url],
    ]) {
      const result = await bin(['workload', 'set', `${ns}:lk:b`, 'c', 'Running', ...target]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        "stateful-route: namespace: must not contain ':' [SR_VALIDATION]\n",
      );
    }
    expect(await namespaceImage(ns)).toEqual(before);
    const links = await bin(['link', 'list', ns, 'b:workload:c', '--redis', redisUrl, '--json']);
    expect(links.code, links.stderr).toBe(0);
    expect(JSON.parse(links.stdout)).toEqual({ links: { room: 3 } });
  });

  it('issue 11 finding 6: refuses an argument with a byte that is not UTF-8 (exit 2, its position named) and writes nothing', async () => {
    const ns = uniqueNamespace('e2e');
    // execFile takes strings only (UTF-8 encoded): the shell's printf writes the raw byte.
    for (const target of [
      ['--redis', redisUrl],
      ['--server', server.url],
    ]) {
      for (const json of [false, true]) {
        const result = await binBytes([
          'link',
          'set',
          ns,
          Buffer.from('caf\xff', 'latin1'),
          'room',
          '3',
          ...target,
          ...(json ? ['--json'] : []),
        ]);
        expect(result.code, result.stderr).toBe(2);
        expect(result.stdout).toBe('');
        if (json) {
          expect(JSON.parse(result.stderr)).toEqual({
            error: {
              code: 'SR_CLI_USAGE',
              field: 'argv[4]',
              message: expect.stringContaining('argument 4 is not valid UTF-8') as unknown,
            },
          });
        } else {
          expect(result.stderr).toMatch(
            /^stateful-route: argument 4 is not valid UTF-8.*\[SR_CLI_USAGE\]\n$/,
          );
        }
      }
    }
    expect(await namespaceImage(ns)).toEqual({});
    // A U+FFFD typed as UTF-8 is text like any other: stored as given.
    const typed = await binBytes([
      'link',
      'set',
      ns,
      Buffer.from('caf\ufffd', 'utf8'),
      'room',
      '3',
      '--redis',
      redisUrl,
    ]);
    expect(typed.code, typed.stderr).toBe(0);
    expect(Object.keys(await namespaceImage(ns))).toContain(`sf:{${ns}:lk:caf\ufffd}room`);
  });

  it('exits 3 quickly when the target is unreachable', async () => {
    const port = await freePort();
    for (const target of [
      ['--redis', `redis://127.0.0.1:${port}`],
      ['--redis-cluster', `127.0.0.1:${port}`],
      ['--server', `http://127.0.0.1:${port}`],
    ]) {
      const result = await bin([
        'state',
        'get',
        'default',
        'room',
        ...target,
        '--connect-timeout',
        '20000',
        '--timeout',
        '20000',
      ]);
      expect(result.code, target.join(' ')).toBe(3);
      expect(result.stderr).toMatch(/cannot reach/);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      // Node start-up included; waiting for a timeout instead would take 20 s.
      expect(result.ms).toBeLessThan(10_000);
    }
  });

  it('exits 2 with the flags named when there is no target', async () => {
    const result = await bin(['state', 'get', 'default', 'room']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--redis <url>');
    expect(result.stderr).toContain('--server <url>');
  });

  it('benches, saves a snapshot, reports it in every format, and fails a threshold against it', async () => {
    const snapshot = join(dir, 'run.json');
    const bench = await bin([
      'bench',
      '--redis',
      redisUrl,
      '--duration',
      '2s',
      '--concurrency',
      '16',
      '--out',
      snapshot,
      '--json',
    ]);
    expect(bench.code).toBe(0);
    // No progress bar in a pipe: stderr stays clean and stdout is one JSON document.
    expect(bench.stderr).toBe('');
    const result = JSON.parse(bench.stdout) as {
      operations: number;
      snapshot: { operations: Record<string, unknown> };
    };
    expect(result.operations).toBeGreaterThan(0);
    const saved = JSON.parse(await readFile(snapshot, 'utf8')) as {
      schemaVersion: number;
      operations: Record<string, unknown>;
    };
    expect(saved.schemaVersion).toBe(1);
    expect(Object.keys(saved.operations)).toEqual(
      expect.arrayContaining(['getServiceState', 'setLinkedPodIfAbsent']),
    );

    const text = await bin(['report', '--input', snapshot]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('getServiceState');
    const markdown = await bin(['report', '--input', snapshot, '--format', 'markdown']);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toMatch(/^#/m);
    expect(markdown.stdout).toContain('| ');
    const html = join(dir, 'report.html');
    const htmlRun = await bin(['report', '--input', snapshot, '--format', 'html', '--out', html]);
    expect(htmlRun.code).toBe(0);
    expect(htmlRun.stdout).toBe('');
    const page = await readFile(html, 'utf8');
    expect(page.toLowerCase()).toContain('<html');
    expect(page).toContain('getServiceState');
    const json = await bin(['report', '--input', snapshot, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.stringify(JSON.parse(json.stdout))).toContain('getServiceState');

    const failing = await bin([
      'bench',
      '--redis',
      redisUrl,
      '--duration',
      '1s',
      '--concurrency',
      '16',
      '--baseline',
      snapshot,
      '--threshold',
      'getServiceState.p99<1us',
    ]);
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('FAIL');
    expect(failing.stdout).toContain('getServiceState.p99<1us');
  });

  it('prints help with examples and exits 0', async () => {
    for (const command of [[], ['link', 'set'], ['bench']]) {
      const result = await bin([...command, '--help']);
      expect(result.code).toBe(0);
      if (command.length > 0) expect(result.stdout).toContain('Examples:');
    }
  });
});
