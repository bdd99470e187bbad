/**
 * Reads a few Redis server figures with `INFO` at scrape time. A scrape never waits longer
 * than `timeoutMs`: a slow or paused Redis gets the cached figures (or none) instead, and the
 * read keeps going in the background to refresh the cache for the next scrape. Figures younger
 * than `cacheMs` are served without a round trip, so frequent scrapes cost Redis nothing.
 */
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

function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

function nodeLabel(node: Redis): string {
  const { host, port, path } = node.options;
  return path ? path : `${host ?? 'localhost'}:${port ?? 6379}`;
}

function numberOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Parses the reply of `INFO` (sections server, clients, memory, stats, keyspace, ...). */
export function parseInfo(text: string): NodeInfo {
  const fields = new Map<string, string>();
  const keys = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1);
    if (/^db\d+$/.test(name)) {
      // db0:keys=12,expires=3,avg_ttl=0
      const match = /(?:^|,)keys=(\d+)/.exec(value);
      if (match) keys.set(name, Number(match[1]));
    } else {
      fields.set(name, value);
    }
  }
  return {
    usedMemory: numberOf(fields.get('used_memory')),
    maxmemory: numberOf(fields.get('maxmemory')),
    connectedClients: numberOf(fields.get('connected_clients')),
    opsPerSec: numberOf(fields.get('instantaneous_ops_per_sec')),
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
        next.set(label, parseInfo(result.value));
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
