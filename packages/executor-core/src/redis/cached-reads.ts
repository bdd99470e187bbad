/**
 * The near cache's life in an executor (on, off, replaced; counters that survive it) and the
 * one cached read path that `getServiceState` and `getWorkloadState` share: a hit, a read
 * of the key already in flight, or a tracked read from Redis.
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { connectionChannel, type ConnectionMessage } from '../diagnostics.js';
import { ConnectionError, StatefulRouteError, UnsupportedError } from '../errors.js';
import type { CacheHitSink } from '../telemetry/telemetry.js';
import type { ConnectionPool } from './connection-pool.js';
import {
  CachedLink,
  DEFAULT_NEAR_CACHE_ENTRIES,
  NearCache,
  type NearCacheCounters,
  type NearCacheOptions,
} from './near-cache.js';

/** Typed errors and the command deadline around a Redis round trip (the executor's). */
type Call = <T>(command: Promise<T>) => Promise<T>;

/** @internal */
export class CachedReads {
  /** Cumulative counters, kept across disable/enable. */
  readonly counters: NearCacheCounters = { hits: 0, misses: 0, invalidations: 0 };
  /** The `maxEntries` of the last cache started (for `describe()`). */
  maxEntries = DEFAULT_NEAR_CACHE_ENTRIES;
  #cache: NearCache | undefined;

  constructor(
    private readonly executor: string,
    private readonly pool: ConnectionPool,
    private readonly call: Call,
  ) {}

  /** The cache in use, if any (it serves only while its invalidations flow). */
  get cache(): NearCache | undefined {
    return this.#cache;
  }

  /**
   * Starts a cache (closing the one before). With `timeoutMs`, a cache not active by then is
   * closed and this rejects; without (the constructor option) it stays and activates once
   * Redis is reachable, unless Redis refuses client-side caching. Callers serialise it with
   * the other switches.
   * @throws SR_UNSUPPORTED when Redis refuses CLIENT TRACKING (Redis < 6)
   * @throws SR_REDIS_CONNECTION when the cache is not active within `timeoutMs`
   */
  async start(options: NearCacheOptions, timeoutMs: number | undefined): Promise<void> {
    await this.stop();
    const pool = this.pool;
    const cache = new NearCache(options, pool.first as Redis, this.counters, (state, errorCode) => {
      if (state === 'reconnecting') pool.reconnects++;
      if (connectionChannel.hasSubscribers) {
        const message: ConnectionMessage = {
          executor: this.executor,
          state,
          connection: 'invalidation',
        };
        if (errorCode !== undefined) message.errorCode = errorCode;
        connectionChannel.publish(message);
      }
    });
    this.#cache = cache;
    this.maxEntries = cache.maxEntries;
    let timer: NodeJS.Timeout | undefined;
    try {
      await (timeoutMs === undefined
        ? cache.activated()
        : Promise.race([
            cache.activated(),
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () => reject(new ConnectionError('near cache: invalidation connection not ready')),
                timeoutMs,
              );
            }),
          ]));
    } catch (error) {
      if (this.#cache === cache) this.#cache = undefined;
      await cache.close();
      if (error instanceof StatefulRouteError) throw error;
      throw new UnsupportedError(
        `near cache: Redis refused client-side caching (CLIENT TRACKING needs Redis 6+): ${String(
          (error as Error).message,
        )}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the cache: entries dropped, tracking off, invalidation connection quit. */
  async stop(): Promise<void> {
    const cache = this.#cache;
    this.#cache = undefined;
    await cache?.close();
  }

  /** Read-your-writes: once a write of `key` is acknowledged (or failed), no older value is served. */
  invalidate(key: string): void {
    this.#cache?.invalidate(key);
  }

  /**
   * The cached value of `key` (a hit, marked on `sink`), or undefined: synchronous, so that a
   * hit costs no promise turn. On undefined, call `read` in the same synchronous run.
   */
  peek(cache: NearCache, key: string, sink: CacheHitSink | undefined): unknown {
    const hit = cache.lookup(key);
    if (hit !== undefined) sink?.markCached();
    return hit;
  }

  /**
   * `key` (of `namespace`) through `cache` after a `peek` that missed: a read of it already
   * in flight, or a read from Redis whose value is kept when it is still fresh.
   */
  async read<T>(
    cache: NearCache,
    key: string,
    namespace: string,
    sink: CacheHitSink | undefined,
    fetch: (client: Redis, key: string) => Promise<T>,
  ): Promise<T> {
    // Synchronously (before any await): concurrent misses must see each other's read.
    const shared = cache.join(key);
    if (shared) {
      // A shared null (an absent workload state) is an answer: compare with undefined.
      const value = (await this.call(shared)) as T | undefined;
      if (value !== undefined) {
        sink?.markCached();
        return value;
      }
    }
    // The connection is picked when the read is sent (after a first registration round trip),
    // so a connection dropped meanwhile by setConnectionCount is never used.
    return this.call(cache.load(key, namespace, () => this.pool.client() as Redis, fetch));
  }

  /**
   * The link at `key` (of `namespace`) after a `peek` that missed, as `read` does, or
   * undefined when the value and the TTL read from Redis disagreed (the key changed between
   * them): the caller then runs the operation on Redis as without a cache. A link past its
   * expiry is never returned, neither from the cache (`lookup`) nor from a read in flight that
   * another call sent.
   */
  async readLink(
    cache: NearCache,
    key: string,
    namespace: string,
    sink: CacheHitSink | undefined,
  ): Promise<CachedLink | undefined> {
    const shared = cache.join(key) as Promise<CachedLink | undefined> | undefined;
    if (shared) {
      const link = await this.call(shared);
      if (link !== undefined && performance.now() < link.expiresAt) {
        sink?.markCached();
        return link;
      }
    }
    return this.call(cache.load(key, namespace, () => this.pool.client() as Redis, fetchLink));
  }
}

// GET and PTTL back to back on one connection: Redis runs them in that order, and a write in
// between shows as a disagreement (CachedLink.fromReplies) or as an invalidation that fences
// the read; the TTL counts from before the GET was sent.
async function fetchLink(client: Redis, key: string): Promise<CachedLink | undefined> {
  const sentAt = performance.now();
  const [value, pttl] = await Promise.all([client.get(key), client.pttl(key)]);
  return CachedLink.fromReplies(value, pttl, sentAt);
}
