/**
 * Reads a few Redis server figures with `INFO` at scrape time. A scrape never waits longer
 * than `timeoutMs`: a slow or paused Redis gets the cached figures (or none) instead, and the
 * read keeps going in the background to refresh the cache for the next scrape. Figures younger
 * than `cacheMs` are served without a round trip, so frequent scrapes cost Redis nothing.
 * The reply is parsed by executor-core's `parseRedisInfo`, the one INFO reader.
 */
import {
  infoNumber,
  isCluster,
  parseRedisInfo,
  type RedisInfo,
} from '@stateful-route/executor-core';
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';

/** The figures of one node. */
export interface NodeInfo {
  usedMemory: number | undefined;
  maxmemory: number | undefined;
  connectedClients: number | undefined;
  opsPerSec: number | undefined;
  /** Keys per database (`db0` -> n). */
  keys: Map<string, number>;
}

function nodeLabel(node: Redis): string {
  const { host, port, path } = node.options;
  return path ? path : `${host ?? 'localhost'}:${port ?? 6379}`;
}

/** The figures exposed of one node's parsed `INFO` (executor-core's `parseRedisInfo`). */
export function nodeInfoOf(info: RedisInfo): NodeInfo {
  const keys = new Map<string, number>();
  for (const [db, { keys: count }] of info.keyspace) keys.set(db, count);
  return {
    usedMemory: infoNumber(info, 'used_memory'),
    maxmemory: infoNumber(info, 'maxmemory'),
    connectedClients: infoNumber(info, 'connected_clients'),
    opsPerSec: infoNumber(info, 'instantaneous_ops_per_sec'),
    keys,
  };
}

interface Refresh {
  promise: Promise<void>;
  /** A scrape already counted this refresh as an error (it timed out). */
  counted: boolean;
}

/** See the file comment. */
export class RedisInfoReader {
  /** INFO reads that failed or did not answer within the timeout. */
  errors = 0;
  #cache = new Map<string, NodeInfo>();
  #refreshedAt = Number.NEGATIVE_INFINITY;
  #refresh: Refresh | undefined;
  #scrape: Promise<ReadonlyMap<string, NodeInfo>> | undefined;
  #disposed = false;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly cacheMs: number,
    private readonly timeoutMs: number,
  ) {}

  /**
   * The figures to expose now. Every family of one scrape calls this; they share one read.
   * Never rejects.
   */
  read(): Promise<ReadonlyMap<string, NodeInfo>> {
    if (this.#scrape) return this.#scrape;
    if (this.#disposed || performance.now() - this.#refreshedAt < this.cacheMs) {
      return Promise.resolve(this.#cache);
    }
    const refresh = this.#refresh ?? this.#startRefresh();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.timeoutMs);
      timer.unref();
    });
    this.#scrape = Promise.race([refresh.promise.then(() => true as const), timeout]).then(
      (answered) => {
        clearTimeout(timer);
        this.#scrape = undefined;
        if (!answered && !refresh.counted) {
          refresh.counted = true;
          this.errors++;
        }
        return this.#cache;
      },
    );
    return this.#scrape;
  }

  /** Stops reading: later scrapes get the last figures without a round trip. */
  dispose(): void {
    this.#disposed = true;
  }

  #startRefresh(): Refresh {
    const refresh: Refresh = { promise: Promise.resolve(), counted: false };
    refresh.promise = this.#fetch(refresh).finally(() => {
      if (this.#refresh === refresh) this.#refresh = undefined;
    });
    this.#refresh = refresh;
    return refresh;
  }

  async #fetch(refresh: Refresh): Promise<void> {
    let nodes: Redis[];
    try {
      nodes = isCluster(this.client) ? this.client.nodes('master') : [this.client];
    } catch {
      this.#fail(refresh);
      return;
    }
    const results = await Promise.allSettled(nodes.map((node) => node.info()));
    const next = new Map<string, NodeInfo>();
    let failed = false;
    results.forEach((result, i) => {
      const label = nodeLabel(nodes[i]!);
      if (result.status === 'fulfilled') {
        next.set(label, nodeInfoOf(parseRedisInfo(result.value)));
      } else {
        failed = true;
        // Keep the node's last figures: a node that stops answering is better shown stale
        // (with the error counter moving) than dropped.
        const previous = this.#cache.get(label);
        if (previous) next.set(label, previous);
      }
    });
    this.#cache = next;
    if (failed) this.#fail(refresh);
    else this.#refreshedAt = performance.now();
  }

  #fail(refresh: Refresh): void {
    if (!refresh.counted) {
      refresh.counted = true;
      this.errors++;
    }
  }
}
