/**
 * A bounded in-process cache of the hottest reads (`getServiceState`, `getWorkloadState` and,
 * unless turned off, the links read by `getLinkedPod`, `getLinkedPodIfPersist` and
 * `setLinkedPodIfAbsent`), kept correct by Redis itself through client-side caching in
 * broadcast mode: one connection (the tracker, the executor's first) runs `CLIENT TRACKING on
 * REDIRECT <id> BCAST PREFIX sf:{<ns>:state: PREFIX sf:{<ns>:workload: PREFIX sf:{<ns>:lk:`
 * for each namespace the cache serves, where `<id>` is a dedicated connection subscribed to
 * `__redis__:invalidate`; Redis then sends the name of every key under those prefixes that
 * changes, whoever changed it (a script, a raw SET or DEL, an expiry, an eviction).
 *
 * Why broadcast mode: in the default (and OPTIN) mode Redis remembers every key a client
 * read, in a table that only reads fill: reading 40 000 distinct services left 40 000 keys
 * in it, whatever our own entry bound (issue 11, finding 2). In broadcast mode Redis keeps
 * only the prefixes, so its memory is bounded by `maxNamespaces`. What it costs: an
 * invalidation message for every write under a prefix, including keys we never read (state
 * and workload writes are rare next to reads: every 30 s per pod; link writes happen when a
 * user binds to or leaves a pod: `links: false` spares those), and Redis checks each written
 * key against every registered prefix, hence the small namespace bound.
 *
 * A cached link carries its expiry: the remaining TTL is read with the value (`GET` and
 * `PTTL` back to back on one connection) and counted from the moment the read was sent, so
 * the entry dies no later than the key; Redis' own expiry notice (sent when it actually
 * deletes the key, which can be later) only drops it sooner.
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { ConnectionState } from '../diagnostics.js';
import { cachedKeyPrefixes } from '../keys.js';

/** Options of the near cache (`createRedisExecutor({ nearCache })`, `enableNearCache()`). */
export interface NearCacheOptions {
  /**
   * Entries kept at most; past it, an entry not read since the eviction hand last passed it
   * is evicted (second chance, an approximation of least recently used). Default 100 000
   * (a cached link holds about 180 bytes of heap: at most about 18 MB of links).
   */
  maxEntries?: number;
  /**
   * Namespaces served from the cache at most (Redis tracks two key prefixes for each); reads
   * of further namespaces go to Redis every time. Default 16.
   */
  maxNamespaces?: number;
  /**
   * Makes the dedicated invalidation connection (owned and quit by the executor). Default:
   * `duplicate()` of the executor's first connection.
   */
  invalidationConnection?: () => Redis;
  /**
   * PING interval on the invalidation connection, in ms. Entries are served only while a PING
   * sent less than 3 intervals ago has been answered: invalidations travel on the same
   * connection before the PONG, so a connection that dies silently (no FIN: a partition, a
   * stalled proxy) cannot make the cache serve stale values for longer than that. Without an
   * answer for 10 intervals the connection is dropped and made again. Default 500.
   */
  heartbeatMs?: number;
  /**
   * Cache links too (`getLinkedPod`, `getLinkedPodIfPersist`, and `setLinkedPodIfAbsent` on a
   * live link, which then changes nothing in Redis and answers the existing pod). Default
   * true. Off, Redis sends no invalidation for link writes (one per bind and unbind).
   */
  links?: boolean;
}

/**
 * The default `maxEntries`: room for the links of a workload of 10 000 users on a few
 * services, which the section-5 mix reads (40 000 links: at 10 000 entries the optimizer
 * benchmark made 0.22 round trips per call and about 160k calls/s; at 50 000 or 100 000,
 * 0.11 and about 210k, side by side). Measured: 177 bytes of heap per cached link, so
 * 100 000 entries is about 18 MB.
 */
export const DEFAULT_NEAR_CACHE_ENTRIES = 100_000;
/** The default `maxNamespaces`. */
export const DEFAULT_NEAR_CACHE_NAMESPACES = 16;
/** The default `heartbeatMs`. */
export const DEFAULT_NEAR_CACHE_HEARTBEAT_MS = 500;

/** The Pub/Sub channel Redis publishes invalidations on in RESP2 redirect mode. */
export const INVALIDATION_CHANNEL = '__redis__:invalidate';

/** Cumulative counters, owned by the executor so they survive disable/enable. */
export interface NearCacheCounters {
  hits: number;
  misses: number;
  invalidations: number;
}

// One in-flight read per key share a version; an invalidation of the key bumps it, and a
// read only stores its reply when the version it saw when sent is still current.
interface Pending {
  count: number;
  version: number;
  // The read later callers may share, while no invalidation came after it was sent.
  shared: Promise<unknown> | undefined;
  sharedVersion: number;
  sharedEpoch: number;
}

type Reporter = (state: ConnectionState, errorCode?: string) => void;

/**
 * A link as Redis held it when read: the raw value of the link key (null: no key) and whether
 * it was permanent; served only before `expiresAt` (performance.now() ms; Infinity for a
 * permanent or absent link, which only an invalidation ends).
 */
export class CachedLink {
  constructor(
    readonly value: string | null,
    readonly permanent: boolean,
    readonly expiresAt: number,
  ) {}

  /**
   * The entry for a `GET` reply and a `PTTL` reply sent back to back at `sentAt`, or undefined
   * when they disagree (the key changed between the two: the caller asks Redis again).
   */
  static fromReplies(value: string | null, pttl: number, sentAt: number): CachedLink | undefined {
    if (value === null) return pttl === -2 ? new CachedLink(null, false, Infinity) : undefined;
    if (pttl === -1) return new CachedLink(value, true, Infinity);
    // The TTL counted from when the read was sent, less the 1 ms by which Redis' integer-ms
    // PTTL may round up: never later than the key's own expiry.
    if (pttl >= 0) return new CachedLink(value, false, sentAt + pttl - 1);
    return undefined;
  }
}

const LOST_STATES = ['close', 'reconnecting', 'end'] as const;

/**
 * A cached value and whether it was read since the eviction hand last passed it. A hit only
 * sets `used`: keeping exact LRU order in the Map (delete and set again on every hit) cost
 * 0.5 to 1.5 µs per hit at 10 000 to 40 000 entries on Node 24 (V8's ordered hash table
 * accumulates deleted slots and rehashes), about 44% of the CPU of the section-5 workload
 * with links cached (optimizer benchmark, profile).
 */
class Entry {
  used = false;
  constructor(public value: unknown) {}
}

/** @internal The near cache of a standalone Redis executor. */
export class NearCache {
  readonly maxEntries: number;
  readonly maxNamespaces: number;
  /** Whether links are cached (`links` option). */
  readonly links: boolean;
  // In insertion order; #hand walks it (CLOCK): a used entry gets a second chance, the first
  // unused one is evicted.
  readonly #entries = new Map<string, Entry>();
  #hand: Iterator<[string, Entry]> | undefined;
  readonly #pending = new Map<string, Pending>();
  readonly #counters: NearCacheCounters;
  readonly #invalidation: Redis;
  readonly #tracker: Redis;
  readonly #report: Reporter;
  #detach: () => void = () => {};
  // Bumped whenever the whole cache is dropped; reads sent before cannot store.
  #epoch = 0;
  // CLIENT ID of the invalidation connection while it is subscribed, else null.
  #redirect: number | null = null;
  #subscribing = 0;
  #closed = false;
  // Namespaces the cache serves (at most maxNamespaces), and those whose prefixes Redis has
  // acknowledged for the current epoch: only reads of those may be stored.
  readonly #namespaces = new Set<string>();
  readonly #registered = new Set<string>();
  // Whether the tracker has tracking on for the current redirect (else it must be reset).
  #trackerOn = false;
  // The CLIENT TRACKING registration in flight, if any (one at a time).
  #registering: Promise<void> | undefined;
  // Bumped when the tracker or the invalidation connection is lost or reset: a registration
  // acknowledged in an older session no longer stands.
  #session = 0;
  // Entries may be served until this time (performance.now() ms): see `heartbeatMs`.
  #leaseUntil = 0;
  readonly #heartbeatMs: number;
  readonly #heartbeat: NodeJS.Timeout;
  // When the PING in flight was sent (undefined: none in flight).
  #pingSentAt: number | undefined;
  readonly #activated: Promise<void>;
  #resolveActivated: () => void = () => {};
  #rejectActivated: (error: unknown) => void = () => {};

  constructor(
    options: NearCacheOptions,
    tracker: Redis,
    counters: NearCacheCounters,
    report: Reporter,
  ) {
    this.maxEntries = options.maxEntries ?? DEFAULT_NEAR_CACHE_ENTRIES;
    this.maxNamespaces = options.maxNamespaces ?? DEFAULT_NEAR_CACHE_NAMESPACES;
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_NEAR_CACHE_HEARTBEAT_MS;
    this.links = options.links ?? true;
    this.#counters = counters;
    this.#report = report;
    this.#tracker = tracker;
    this.#activated = new Promise<void>((resolve, reject) => {
      this.#resolveActivated = resolve;
      this.#rejectActivated = reject;
    });
    // Nobody may be waiting (constructor option): never an unhandled rejection.
    this.#activated.catch(() => {});
    const client = options.invalidationConnection
      ? options.invalidationConnection()
      : tracker.duplicate();
    // We subscribe ourselves after CLIENT ID on every 'ready': an automatic resubscribe
    // would put the connection in subscriber mode, where CLIENT ID is refused.
    client.options.autoResubscribe = false;
    this.#invalidation = client;
    this.#listen();
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /** True while invalidations flow and the cache may serve. */
  get active(): boolean {
    return this.#redirect !== null;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Resolves once the invalidation connection is subscribed and the tracker connection has
   * accepted client-side caching; rejects when Redis refuses it (Redis < 6).
   */
  activated(): Promise<void> {
    return this.#activated;
  }

  // ---- connections ---------------------------------------------------------------------

  #listen(): void {
    const client = this.#invalidation;
    const tracker = this.#tracker;
    const onReady = () => {
      this.#report('ready');
      void this.#subscribe();
    };
    const onLost = (state: ConnectionState) => () => {
      this.#report(state);
      this.#invalidationLost();
    };
    const onError = (error?: { code?: unknown }) => {
      this.#report('error', typeof error?.code === 'string' ? error.code : undefined);
    };
    const onMessage = (channel: Buffer, payload: unknown) => {
      if (channel.toString() === INVALIDATION_CHANNEL) this.#onInvalidation(payload);
    };
    const lost = LOST_STATES.map((state) => [state, onLost(state)] as const);
    // The tracker's tracking ends with its connection: drop everything, register again.
    const onTrackerLost = () => this.#trackerLost();
    const onTrackerReady = () => {
      this.#trackerLost();
      void this.#activate();
    };
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('messageBuffer', onMessage);
    for (const [state, handler] of lost) client.on(state, handler);
    tracker.on('ready', onTrackerReady);
    for (const state of LOST_STATES) tracker.on(state, onTrackerLost);
    this.#detach = () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('messageBuffer', onMessage);
      for (const [state, handler] of lost) client.off(state, handler);
      tracker.off('ready', onTrackerReady);
      for (const state of LOST_STATES) tracker.off(state, onTrackerLost);
    };
    if (client.status === 'ready') void this.#subscribe();
    else if (client.status === 'wait') client.connect().catch(() => {});
  }

  async #subscribe(): Promise<void> {
    const attempt = ++this.#subscribing;
    const client = this.#invalidation;
    try {
      const id = (await client.client('ID')) as number;
      await client.subscribe(INVALIDATION_CHANNEL);
      if (this.#closed || attempt !== this.#subscribing || client.status !== 'ready') return;
      this.#trackerLost();
      this.#redirect = id;
      this.#pingSentAt = undefined;
      this.#leaseUntil = performance.now() + 3 * this.#heartbeatMs;
      void this.#activate();
    } catch {
      // The connection was lost meanwhile: it comes back with 'ready' and we subscribe again.
    }
  }

  /**
   * Resets the tracker (dropping prefixes that still point at a previous redirect) and
   * registers the namespaces again. Redis 6+ answers CLIENT TRACKING; an older server refuses
   * it, and the cache cannot work: activation rejects.
   */
  async #activate(): Promise<void> {
    const tracker = this.#tracker;
    if (this.#redirect === null || tracker.status !== 'ready' || this.#closed) return;
    try {
      await tracker.call('CLIENT', 'TRACKING', 'off');
    } catch (error) {
      if (tracker.status === 'ready') this.#rejectActivated(error);
      return;
    }
    this.#resolveActivated();
    void this.#register();
  }

  #beat(): void {
    const client = this.#invalidation;
    if (this.#redirect === null || client.status !== 'ready' || this.#closed) return;
    const now = performance.now();
    const sentAt = this.#pingSentAt;
    if (sentAt !== undefined) {
      // Silent for 10 intervals: drop it (the 'close' handler flushes), ioredis reconnects.
      if (now - sentAt > 10 * this.#heartbeatMs) {
        this.#invalidationLost();
        client.disconnect(true);
      }
      return;
    }
    this.#pingSentAt = now;
    const subscription = this.#subscribing;
    client.ping().then(
      () => {
        if (this.#pingSentAt !== now || subscription !== this.#subscribing) return;
        this.#pingSentAt = undefined;
        // Every invalidation Redis sent before it answered this PING has arrived.
        this.#leaseUntil = now + 3 * this.#heartbeatMs;
      },
      () => {
        if (this.#pingSentAt === now) this.#pingSentAt = undefined;
      },
    );
  }

  #invalidationLost(): void {
    this.#leaseUntil = 0;
    this.#pingSentAt = undefined;
    this.#subscribing++;
    this.#redirect = null;
    this.#trackerLost();
  }

  #trackerLost(): void {
    this.#session++;
    this.#trackerOn = false;
    this.#registered.clear();
    this.#flush();
  }

  /**
   * Sends the prefixes of the namespaces not yet registered, one command at a time. A read
   * sent after Redis acknowledged its namespace's prefixes may be stored: every later write
   * of the key is then broadcast to the invalidation connection.
   */
  #register(): Promise<void> | undefined {
    if (this.#registering) return this.#registering;
    const redirect = this.#redirect;
    const tracker = this.#tracker;
    if (this.#closed || redirect === null || tracker.status !== 'ready') return undefined;
    const fresh = [...this.#namespaces].filter((ns) => !this.#registered.has(ns));
    if (fresh.length === 0) return undefined;
    const args = ['TRACKING', 'on', 'REDIRECT', String(redirect), 'BCAST'];
    for (const ns of fresh)
      for (const prefix of cachedKeyPrefixes(ns, this.links)) args.push('PREFIX', prefix);
    const session = this.#session;
    const sent = this.#trackerOn
      ? tracker.call('CLIENT', ...args)
      : tracker.call('CLIENT', 'TRACKING', 'off').then(() => tracker.call('CLIENT', ...args));
    const registering = sent.then(
      () => {
        this.#registering = undefined;
        if (this.#closed) return;
        // Acknowledged in the session it was sent in: no loss in between, the prefixes stand.
        if (session === this.#session && redirect === this.#redirect) {
          this.#trackerOn = true;
          for (const ns of fresh) this.#registered.add(ns);
        }
      },
      () => {
        // The redirect went away meanwhile, or a prefix clashed with one Redis still holds:
        // start over from a reset tracker when the next read asks.
        this.#registering = undefined;
        if (session === this.#session) this.#trackerLost();
      },
    );
    this.#registering = registering;
    return registering;
  }

  /**
   * Registers `namespace` (when under `maxNamespaces`) and resolves once Redis tracks it, or
   * once that cannot happen now (connection down, registration refused).
   */
  async #tracked(namespace: string): Promise<boolean> {
    if (!this.#namespaces.has(namespace)) {
      // Past maxNamespaces a namespace is never cached: its reads always go to Redis.
      if (this.#namespaces.size >= this.maxNamespaces) return false;
      this.#namespaces.add(namespace);
    }
    // A registration in flight may have been sent before this namespace was added: then the
    // next one carries it.
    for (let round = 0; round < 2 && !this.#registered.has(namespace); round++) {
      const registering = this.#register();
      if (!registering) break;
      await registering;
    }
    return this.#registered.has(namespace);
  }

  // ---- entries -------------------------------------------------------------------------

  /** The cached value of `key` (counted as a hit), or undefined. */
  lookup(key: string): unknown {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const now = performance.now();
    if (now > this.#leaseUntil) return undefined;
    const value = entry.value;
    if (value instanceof CachedLink && now >= value.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    entry.used = true;
    this.#counters.hits++;
    return value;
  }

  /**
   * Reads `key` (of `namespace`) from Redis with `read`, on the connection `pick` gives when
   * the read is sent (counted as a miss), and keeps the value when its namespace is tracked
   * and no invalidation of the key, and no loss of a connection the cache depends on,
   * happened while it was in flight (an undefined value is never kept). Errors are the raw
   * ioredis ones (the executor wraps them).
   */
  async load<T>(
    key: string,
    namespace: string,
    pick: () => Redis,
    read: (client: Redis, key: string) => Promise<T>,
  ): Promise<T> {
    // The first read of a namespace waits for Redis to track it (one round trip, once).
    if (!this.#registered.has(namespace)) {
      if (!(await this.#tracked(namespace))) {
        this.#counters.misses++;
        return read(pick(), key);
      }
      // Concurrent first reads of a key waited together: share the first one's read.
      const shared = this.join(key);
      if (shared) return (await shared) as T;
    }
    this.#counters.misses++;
    const epoch = this.#epoch;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = { count: 0, version: 0, shared: undefined, sharedVersion: 0, sharedEpoch: 0 };
      this.#pending.set(key, pending);
    }
    const entry = pending;
    entry.count++;
    const version = entry.version;
    const fetch = (async () => {
      const value = await read(pick(), key);
      if (
        performance.now() <= this.#leaseUntil &&
        value !== undefined &&
        epoch === this.#epoch &&
        version === entry.version &&
        !this.#closed
      ) {
        this.#store(key, value);
      }
      return value;
    })();
    entry.shared = fetch;
    entry.sharedVersion = version;
    entry.sharedEpoch = epoch;
    try {
      return await fetch;
    } finally {
      if (entry.shared === fetch) entry.shared = undefined;
      if (--entry.count === 0 && this.#pending.get(key) === entry) this.#pending.delete(key);
    }
  }

  /**
   * A read of `key` in flight that was sent after the last invalidation of the key, to share
   * instead of sending another (counted as a hit: no round trip of its own), or undefined.
   * Its answer is as fresh as a cached entry would be: no invalidation arrived since it was sent.
   */
  join(key: string): Promise<unknown> | undefined {
    const pending = this.#pending.get(key);
    const shared = pending?.shared;
    if (
      !shared ||
      performance.now() > this.#leaseUntil ||
      pending.sharedVersion !== pending.version ||
      pending.sharedEpoch !== this.#epoch
    ) {
      return undefined;
    }
    this.#counters.hits++;
    return shared;
  }

  #store(key: string, value: unknown): void {
    const entries = this.#entries;
    const entry = entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.used = true;
      return;
    }
    entries.set(key, new Entry(value));
    if (entries.size > this.maxEntries) this.#evictOne();
  }

  // Advances the hand to the first entry not used since its last pass and deletes it; used
  // entries on the way lose their mark. Ends within one lap: after it, every mark is clear.
  #evictOne(): void {
    const entries = this.#entries;
    for (let steps = 0; steps <= entries.size; steps++) {
      let next = this.#hand?.next();
      if (next === undefined || next.done === true) {
        this.#hand = entries.entries();
        next = this.#hand.next();
        if (next.done === true) return;
      }
      const [key, entry] = next.value;
      if (entry.used) entry.used = false;
      else {
        entries.delete(key);
        return;
      }
    }
  }

  /** Forgets `key` now, and stops any read of it in flight from storing its reply. */
  invalidate(key: string): void {
    const dropped = this.#entries.delete(key);
    const pending = this.#pending.get(key);
    if (pending) pending.version++;
    // Counted when it changed something: an entry dropped or a read in flight fenced (the
    // message Redis sends after our own write usually finds nothing left to drop).
    if (dropped || pending) this.#counters.invalidations++;
  }

  #onInvalidation(payload: unknown): void {
    // RESP2 redirect mode: an array of key names, or null when the whole database was
    // flushed (FLUSHALL/FLUSHDB).
    if (Array.isArray(payload)) {
      for (const key of payload) this.invalidate(String(key));
    } else {
      this.#counters.invalidations++;
      this.#flush();
    }
  }

  #flush(): void {
    this.#epoch++;
    this.#entries.clear();
    this.#hand = undefined;
    for (const pending of this.#pending.values()) pending.version++;
  }

  /** Drops every entry, stops tracking and quits the invalidation connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#invalidationLost();
    this.#rejectActivated(new Error('near cache closed'));
    this.#detach();
    clearInterval(this.#heartbeat);
    if (this.#tracker.status === 'ready') {
      try {
        await this.#tracker.call('CLIENT', 'TRACKING', 'off');
      } catch {
        // The connection is going away; its tracking state goes with it.
      }
    }
    try {
      await this.#invalidation.quit();
    } catch {
      this.#invalidation.disconnect();
    }
  }
}
