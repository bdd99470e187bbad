import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, inject, test } from 'vitest';
import {
  createMemoryExecutor,
  createRedisExecutor,
  hasLinkScan,
  redisScanLinks,
  type LinkScanMaintenance,
  type LinkScanOptions,
  type ScannedLink,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';

const redis = new Redis(inject('redisUrl'));
const cluster = new Cluster(inject('clusterSeeds'));
afterAll(() => {
  redis.disconnect();
  cluster.disconnect();
});

type Scanner = StatefulExecutor & LinkScanMaintenance;

const SERVICES = ['s0', 's1', 's2'];
const TEMPORARY_SECONDS = 3600;

/** Link `u-<i>` for i < uids to pod i % 97 on service s<i % 3>; every 5th is temporary. */
async function fill(executor: StatefulExecutor, ns: string, uids: number): Promise<void> {
  const writes: Promise<number>[] = [];
  for (let i = 0; i < uids; i += 1) {
    writes.push(
      executor.setLinkedPod(ns, `u-${i}`, SERVICES[i % 3]!, {
        podId: i % 97,
        persistSeconds: i % 5 === 0 ? TEMPORARY_SECONDS : -1,
      }),
    );
    if (writes.length === 200) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}

/** Every page of a scan, with the size of each. */
async function scanAll(
  executor: Scanner,
  ns: string,
  options: Omit<LinkScanOptions, 'cursor'> = {},
): Promise<{ links: ScannedLink[]; pages: number[] }> {
  const links: ScannedLink[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const page = await executor.scanLinks(ns, { ...options, cursor });
    links.push(...page.links);
    pages.push(page.links.length);
    cursor = page.cursor;
    // A runaway cursor would loop forever: 10 000 pages is far more than any test needs.
    expect(pages.length).toBeLessThan(10_000);
  } while (cursor !== null);
  return { links, pages };
}

/** Checks that `links` are exactly links u-<i> for the i in `expected`, each once. */
function expectLinks(links: readonly ScannedLink[], expected: readonly number[]): void {
  const uids = links.map((link) => link.uid);
  expect(new Set(uids).size).toBe(uids.length);
  expect(uids.sort()).toEqual(expected.map((i) => `u-${i}`).sort());
  for (const link of links) {
    const i = Number(link.uid.slice(2));
    expect(link.service).toBe(SERVICES[i % 3]);
    expect(link.podId).toBe(i % 97);
    if (i % 5 === 0) {
      expect(link.ttlSeconds).toBeGreaterThan(TEMPORARY_SECONDS - 120);
      expect(link.ttlSeconds).toBeLessThanOrEqual(TEMPORARY_SECONDS);
    } else {
      expect(link.ttlSeconds).toBe(-1);
    }
  }
}

const range = (n: number, keep: (i: number) => boolean = () => true): number[] =>
  Array.from({ length: n }, (_, i) => i).filter(keep);

const backends = [
  ['memory', () => createMemoryExecutor({ name: 'link-scan-memory' })],
  ['standalone', () => createRedisExecutor({ redis, name: 'link-scan-redis' })],
  ['cluster', () => createRedisExecutor({ redis: cluster, name: 'link-scan-cluster' })],
] as const;

describe.each(backends)('scanLinks on %s', (_, create) => {
  const executor = create();
  afterAll(() => executor.close());
  const ns = uniqueNamespace('lscan');
  // Namespaces a careless pattern would mix up: `ns` is their prefix, and unescaped, `ns*`
  // would match `ns` and `longer`, and `ns[x]` would match `longer`.
  const longer = `${ns}x`;
  const glob = `${ns}*`;
  const bracket = `${ns}[x]`;
  const filled = (async () => {
    if (!hasLinkScan(executor)) throw new Error('scanLinks missing');
    await fill(executor, ns, 2500);
    await fill(executor, longer, 4);
    await fill(executor, glob, 5);
    await fill(executor, bracket, 6);
    return executor;
  })();

  test('pages through every link exactly once, the cursor null at the end', async () => {
    const scanner = await filled;
    const { links, pages } = await scanAll(scanner, ns, { count: 1000 });
    expectLinks(links, range(2500));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (const size of pages) expect(size).toBeLessThanOrEqual(1000);
    // The default page size is 100.
    const first = await scanner.scanLinks(ns);
    expect(first.links).toHaveLength(100);
    expect(first.cursor).not.toBeNull();
  });

  test('count bounds every page, and a page cut short resumes where it stopped', async () => {
    const scanner = await filled;
    const { links, pages } = await scanAll(scanner, ns, { count: 7, service: 's1' });
    expectLinks(
      links,
      range(2500, (i) => i % 3 === 1),
    );
    for (const size of pages) expect(size).toBeLessThanOrEqual(7);
    // Most pages are full: the scan stops once it has `count` links.
    expect(pages.filter((size) => size === 7).length).toBeGreaterThanOrEqual(
      Math.floor(links.length / 7) - 10,
    );
    const one = await scanner.scanLinks(ns, { count: 1 });
    expect(one.links).toHaveLength(1);
  });

  test('--service keeps one service', async () => {
    const scanner = await filled;
    const { links } = await scanAll(scanner, ns, { service: 's2', count: 10_000 });
    expectLinks(
      links,
      range(2500, (i) => i % 3 === 2),
    );
    expect((await scanAll(scanner, ns, { service: 'nope' })).links).toEqual([]);
  });

  test('matches only its own namespace, glob characters included', async () => {
    const scanner = await filled;
    expectLinks((await scanAll(scanner, longer)).links, range(4));
    expectLinks((await scanAll(scanner, glob)).links, range(5));
    expectLinks((await scanAll(scanner, bracket)).links, range(6));
    const empty = await scanner.scanLinks(uniqueNamespace('lscan-empty'));
    expect(empty).toEqual({ links: [], cursor: null });
  });

  test('refuses bad options before any I/O', async () => {
    const scanner = await filled;
    const refused = (namespace: string, options: unknown, field: string, rule: string) =>
      expect(scanner.scanLinks(namespace, options as LinkScanOptions)).rejects.toMatchObject({
        code: 'SR_VALIDATION',
        field,
        rule,
      });
    await refused('a:b', {}, 'namespace', 'forbidden-character');
    await refused('', {}, 'namespace', 'blank');
    await refused(ns, { count: 0 }, 'count', 'range');
    await refused(ns, { count: 10_001 }, 'count', 'range');
    await refused(ns, { count: 1.5 }, 'count', 'integer');
    await refused(ns, { count: '5' }, 'count', 'integer');
    await refused(ns, { service: 'a}b' }, 'service', 'forbidden-character');
    await refused(ns, { servce: 's1' }, 'servce', 'unknown-option');
    await refused(ns, [], 'options', 'type');
    await refused(ns, { cursor: '' }, 'cursor', 'range');
    await refused(ns, { cursor: 'garbage' }, 'cursor', 'type');
    await refused(ns, { cursor: 'r1.!!' }, 'cursor', 'type');
    await refused(ns, { cursor: 'm1.e30' }, 'cursor', 'type');
    await refused(ns, { cursor: 7 }, 'cursor', 'type');
    // A cursor of the other backend kind is refused, not misread.
    const other = _ === 'memory' ? 'r1.e30' : 'm1.e30';
    await refused(ns, { cursor: other }, 'cursor', 'type');
  });
});

describe.each(backends)('scanLinks on %s, once closed', (_, create) => {
  test('is refused', async () => {
    const executor = create();
    if (!hasLinkScan(executor)) throw new Error('scanLinks missing');
    await executor.close();
    await expect(executor.scanLinks('ok')).rejects.toMatchObject({ code: 'SR_EXECUTOR_CLOSED' });
  });
});

describe('scanLinks on Redis only', () => {
  const cursorOf = (state: object): string =>
    `r1.${Buffer.from(JSON.stringify(state)).toString('base64url')}`;

  test('leaves out link indexes, values that are not pod ids, and keys of other kinds', async () => {
    const ns = uniqueNamespace('lscan-raw');
    await redis.set(`sf:{${ns}:lk:good}room`, '4');
    await redis.set(`sf:{${ns}:lk:ttl}room`, '5', 'EX', 100);
    await redis.set(`sf:{${ns}:lk:bad}room`, 'four');
    await redis.set(`sf:{${ns}:lk:empty}room`, '');
    await redis.hset(`sf:{${ns}:lk:hash}room`, 'x', '1');
    await redis.hset(`sf:{${ns}:lk:good}`, 'room', '4');
    await redis.set(`sf:{${ns}:lk:odd}a}b`, '1');
    await redis.set(`sf:{${ns}:state:room}`, '1');
    const page = await redisScanLinks(redis, ns, { count: 100 });
    expect(page.cursor).toBeNull();
    expect(page.links.sort((a, b) => a.uid.localeCompare(b.uid))).toEqual([
      { uid: 'good', service: 'room', podId: 4, ttlSeconds: -1 },
      { uid: 'ttl', service: 'room', podId: 5, ttlSeconds: expect.any(Number) },
    ]);
    expect(page.links[1]!.ttlSeconds).toBeGreaterThan(90);
    // A service filter with glob characters is matched literally.
    await redis.set(`sf:{${ns}:lk:g}r*`, '6');
    expect((await redisScanLinks(redis, ns, { service: 'r*' })).links).toEqual([
      { uid: 'g', service: 'r*', podId: 6, ttlSeconds: -1 },
    ]);
    await redis.unlink(...(await redis.keys(`sf:{${ns}:*`)));
  });

  test('a cursor names its master: one of another topology or a gone master is refused', async () => {
    const ns = uniqueNamespace('lscan-cursor');
    const gone = cursorOf({ node: '127.0.0.1:1', scan: '0' });
    await expect(redisScanLinks(cluster, ns, { cursor: gone })).rejects.toMatchObject({
      code: 'SR_VALIDATION',
      field: 'cursor',
      rule: 'range',
    });
    await expect(redisScanLinks(redis, ns, { cursor: gone })).rejects.toMatchObject({
      field: 'cursor',
      rule: 'type',
    });
    await expect(
      redisScanLinks(cluster, ns, { cursor: cursorOf({ node: null, scan: '0' }) }),
    ).rejects.toMatchObject({ field: 'cursor', rule: 'type' });
    await expect(
      redisScanLinks(redis, ns, { cursor: cursorOf({ node: null, scan: '12x' }) }),
    ).rejects.toMatchObject({ field: 'cursor', rule: 'type' });
    // A cursor of a cluster page names one of the masters, and resumes there.
    for (let i = 0; i < 40; i += 1) await cluster.set(`sf:{${ns}:lk:u${i}}room`, String(i));
    const first = await redisScanLinks(cluster, ns, { count: 3 });
    expect(first.links).toHaveLength(3);
    const state = JSON.parse(Buffer.from(first.cursor!.slice(3), 'base64url').toString()) as {
      node: string;
      scan: string;
    };
    const masters = cluster.nodes('master').map((n) => `${n.options.host}:${n.options.port}`);
    expect(masters).toContain(state.node);
    const rest = [];
    let cursor: string | null = first.cursor;
    while (cursor !== null) {
      const page = await redisScanLinks(cluster, ns, { count: 3, cursor });
      rest.push(...page.links);
      cursor = page.cursor;
    }
    const uids = [...first.links, ...rest].map((link) => link.uid).sort();
    expect(uids).toEqual(
      range(40)
        .map((i) => `u${i}`)
        .sort(),
    );
  });
});

test('memory: expired links are not listed, and TTLs follow the clock', async () => {
  let now = 1_000_000;
  const executor = createMemoryExecutor({ clock: { now: () => now } });
  const ns = uniqueNamespace('lscan-clock');
  await executor.setLinkedPod(ns, 'a', 'room', { podId: 1, persistSeconds: 10 });
  await executor.setLinkedPod(ns, 'b', 'room', { podId: 2, persistSeconds: 100 });
  now += 4_000;
  expect((await executor.scanLinks(ns)).links.map((link) => link.ttlSeconds).sort()).toEqual([
    6, 96,
  ]);
  now += 7_000;
  expect(await executor.scanLinks(ns)).toEqual({
    links: [{ uid: 'b', service: 'room', podId: 2, ttlSeconds: 89 }],
    cursor: null,
  });
  await executor.close();
});
