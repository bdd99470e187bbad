import { uniqueNamespace } from '@stateful-route/test-redis';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bin } from './helpers.js';

const url = inject('redisUrl');
const seeds = inject('clusterSeeds');
const nodes = seeds.map((seed) => `${seed.host}:${seed.port}`).join(',');
let redis: Redis;
let cluster: Cluster;

beforeAll(() => {
  redis = new Redis(url);
  cluster = new Cluster(seeds);
});
afterAll(async () => {
  await redis.quit();
  await cluster.quit();
});

interface Link {
  uid: string;
  service: string;
  podId: number;
  ttlSeconds: number;
}

/** Writes `n` links `u<i>` -> pod i of service room (lobby for odd i) the contract's way. */
async function fill(client: Redis | Cluster, ns: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    const service = i % 2 === 0 ? 'room' : 'lobby';
    await client.set(`sf:{${ns}:lk:u${i}}${service}`, String(i));
    await client.hset(`sf:{${ns}:lk:u${i}}`, service, String(i));
  }
}

/** The cursor in a table's `more: --cursor X` line, or null when there is none. */
function moreCursor(stdout: string): string | null {
  const match = /^more: --cursor (\S+)$/m.exec(stdout);
  return match ? match[1]! : null;
}

/** Every page of `link scan` in JSON, following the cursors. */
async function scanAll(target: string[], ns: string, extra: string[]): Promise<Link[]> {
  const links: Link[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const argv = ['link', 'scan', '--namespace', ns, ...extra, ...target, '--json'];
    const result = await bin(cursor === null ? argv : [...argv, '--cursor', cursor]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const page = JSON.parse(result.stdout) as { links: Link[]; cursor: string | null };
    links.push(...page.links);
    cursor = page.cursor;
    if (cursor === null) return links;
  }
  throw new Error('the scan did not end within 100 pages');
}

const uidsOf = (links: readonly Link[]): string[] => links.map((link) => link.uid).sort();
const expected = (n: number, keep: (i: number) => boolean = () => true): string[] =>
  Array.from({ length: n }, (_, i) => i)
    .filter(keep)
    .map((i) => `u${i}`)
    .sort();

describe('link scan (built binary)', () => {
  it('prints a table of UID / SERVICE / POD / TTL, and the object with --json', async () => {
    const ns = uniqueNamespace('cli-scan');
    await redis.set(`sf:{${ns}:lk:alice}room`, '3');
    await redis.hset(`sf:{${ns}:lk:alice}`, 'room', '3');
    await redis.set(`sf:{${ns}:lk:bob}room`, '5', 'EX', 300);
    await redis.set(`sf:{${ns}:lk:bob}lobby`, '1');
    await redis.hset(`sf:{${ns}:lk:bob}`, 'lobby', '1');

    const table = await bin(['link', 'scan', '--namespace', ns, '--redis', url]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^UID\s+SERVICE\s+POD\s+TTL$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/))).toEqual([
      ['alice', 'room', '3', 'permanent'],
      ['bob', 'lobby', '1', 'permanent'],
      ['bob', 'room', '5', expect.stringMatching(/^(29[0-9]|300)s$/)],
    ]);
    expect(table.stdout).not.toContain('more:');

    const json = await bin(['link', 'scan', '--namespace', ns, '--redis', url, '--json']);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as { links: Link[]; cursor: string | null };
    expect(page.cursor).toBeNull();
    expect(page.links.sort((a, b) => (a.uid + a.service).localeCompare(b.uid + b.service))).toEqual(
      [
        { uid: 'alice', service: 'room', podId: 3, ttlSeconds: -1 },
        { uid: 'bob', service: 'lobby', podId: 1, ttlSeconds: -1 },
        { uid: 'bob', service: 'room', podId: 5, ttlSeconds: expect.any(Number) },
      ],
    );

    const filtered = await bin([
      'link',
      'scan',
      '--namespace',
      ns,
      '--service',
      'lobby',
      '--redis',
      url,
    ]);
    expect(filtered.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(filtered.stdout).toMatch(/^bob\s+lobby\s+1\s+permanent$/m);

    const empty = await bin(['link', 'scan', '--namespace', `${ns}-none`, '--redis', url]);
    expect(empty).toMatchObject({ code: 0, stdout: 'no links found\n' });
  });

  it('pages with --count and --cursor, each link once', async () => {
    const ns = uniqueNamespace('cli-scan');
    await fill(redis, ns, 25);
    // The table says how to go on: "more: --cursor X".
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const argv = ['link', 'scan', '--namespace', ns, '--count', '10', '--redis', url];
      const result = await bin(cursor === null ? argv : [...argv, '--cursor', cursor]);
      expect(result.code).toBe(0);
      const rows = result.stdout.split('\n').filter((line) => /^u[0-9]+\s/.test(line));
      expect(rows.length).toBeLessThanOrEqual(10);
      seen.push(...rows.map((row) => row.split(/\s+/)[0]!));
      cursor = moreCursor(result.stdout);
      if (cursor === null) break;
    }
    expect(cursor).toBeNull();
    expect(seen.sort()).toEqual(expected(25));
    expect(uidsOf(await scanAll(['--redis', url], ns, ['--count', '4']))).toEqual(expected(25));
    const lobby = await scanAll(['--redis', url], ns, ['--count', '3', '--service', 'lobby']);
    expect(uidsOf(lobby)).toEqual(expected(25, (i) => i % 2 === 1));
  });

  it('pages through a Redis Cluster, master after master', async () => {
    const ns = uniqueNamespace('cli-scan');
    await fill(cluster, ns, 30);
    const links = await scanAll(['--redis-cluster', nodes], ns, ['--count', '7']);
    expect(uidsOf(links)).toEqual(expected(30));
    for (const link of links) expect(link.podId).toBe(Number(link.uid.slice(1)));
  });

  it('refuses --server, bad options and bad cursors with exit code 2', async () => {
    const ns = uniqueNamespace('cli-scan');
    const server = await bin(['link', 'scan', '--namespace', ns, '--server', 'http://127.0.0.1:1']);
    expect(server.code).toBe(2);
    expect(server.stderr).toContain('link scan needs a direct Redis target');
    const refused = async (argv: string[], text: string) => {
      const result = await bin(['link', 'scan', ...argv, '--redis', url]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(text);
    };
    await refused([], "required option '--namespace <ns>'");
    await refused(['--namespace', ns, '--count', '0'], 'count');
    await refused(['--namespace', ns, '--count', '10001'], 'count');
    await refused(['--namespace', ns, '--count', 'ten'], 'count');
    await refused(['--namespace', 'a:b'], 'namespace');
    await refused(['--namespace', ns, '--service', 'a{b'], 'service');
    await refused(['--namespace', ns, '--cursor', 'nonsense'], 'cursor');
  });
});
