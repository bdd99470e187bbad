/**
 * A bounded in-process cache of the hottest reads (`getServiceState`, `getWorkloadState`),
 * kept correct by Redis itself through client-side caching: every data connection runs
 * `CLIENT TRACKING on REDIRECT <id> OPTIN`, where `<id>` is a dedicated connection subscribed
 * to `__redis__:invalidate`, and Redis sends the name of every tracked key that changes.
 *
 * Why OPTIN: in the default mode Redis would also track every key our Lua scripts read (link
 * keys), filling its tracking table and sending an invalidation on nearly every link write.
 * With OPTIN only the reads sent right after `CLIENT CACHING yes` are tracked; the two are
 * sent as one pipeline so that nothing can slip between them on the connection.
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { ConnectionState } from '../diagnostics.js';

/** Options of the near cache (`createRedisExecutor({ nearCache })`, `enableNearCache()`). */
export interface NearCacheOptions {
  /** Entries kept at most; the least recently used is evicted first. Default 10 000. */
  maxEntries?: number;
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
}

/** The default `maxEntries`. */
export const DEFAULT_NEAR_CACHE_ENTRIES = 10_000;

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

interface DataConnection {
  client: Redis;
  // Set once `CLIENT TRACKING` was acknowledged for the current session of the connection
  // and the current invalidation connection.
  tracked: boolean;
  // Bumped whenever the connection drops or comes back: a read sent in an older session
  // may be answered untracked (ioredis resends unfulfilled commands after a reconnect).
  session: number;
  detach: () => void;
  // Resolved the first time tracking is on (activation waits for connections still connecting).
  firstTracked: Promise<void>;
  resolveTracked: () => void;
}

type Reporter = (state: ConnectionState, errorCode?: string) => void;

const LOST_STATES = ['close', 'reconnecting', 'end'] as const;

/**
 * Sends `CLIENT CACHING yes` and the read so that nothing can come between them on the
 * connection. Without auto-pipelining ioredis writes each command to the socket as it is
 * called, so two calls in a row are adjacent (and cost about one command; a pipeline costs
 * about three). With auto-pipelining the read would wait in the auto-pipeline queue while
 * CLIENT (never auto-pipelined) goes out at once: then an explicit pipeline keeps them together.
 * Resolves to whether CACHING was accepted, and the read's reply; rejects with the read's error.
 */
async function readTracked(
  client: Redis,
  command: 'hgetall' | 'get',
  key: string,
): Promise<[boolean, unknown]> {
  if (!client.options.enableAutoPipelining) {
    const caching = client.call('CLIENT', 'CACHING', 'yes').then(
      () => true,
      () => false,
    );
    const read = command === 'get' ? client.get(key) : client.hgetall(key);
    return Promise.all([caching, read]);
  }
  const pipeline = client.pipeline().call('CLIENT', 'CACHING', 'yes');
  const replies = await (command === 'get' ? pipeline.get(key) : pipeline.hgetall(key)).exec();
  const [caching, read] = replies ?? [];
  if (!read) throw new Error('near cache: empty pipeline reply');
  if (read[0]) throw read[0];
  return [!caching?.[0], read[1]];
}

/** @internal The near cache of a standalone Redis executor. */
export class NearCache {
  readonly maxEntries: number;
  readonly #entries = new Map<string, unknown>();
  readonly #pending = new Map<string, Pending>();
  readonly #data = new Map<Redis, DataConnection>();
  readonly #counters: NearCacheCounters;
  readonly #invalidation: Redis;
  readonly #report: Reporter;
  #detachInvalidation: () => void = () => {};
  // Bumped whenever the whole cache is dropped; reads sent before cannot store.
  #epoch = 0;
  // CLIENT ID of the invalidation connection while it is subscribed, else null.
  #redirect: number | null = null;
  #subscribing = 0;
  #closed = false;
  // Entries may be served until this time (performance.now() ms): see `heartbeatMs`.
  #leaseUntil = 0;
  readonly #heartbeatMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  // When the PING in flight was sent (undefined: none in flight).
  #pingSentAt: number | undefined;
  #activated: Promise<void>;
  #resolveActivated: () => void = () => {};
  #rejectActivated: (error: unknown) => void = () => {};

  constructor(
    options: NearCacheOptions,
    fallbackFactory: () => Redis,
    counters: NearCacheCounters,
    report: Reporter,
  ) {
    this.maxEntries = options.maxEntries ?? DEFAULT_NEAR_CACHE_ENTRIES;
    this.#counters = counters;
    this.#report = report;
    this.#activated = new Promise<void>((resolve, reject) => {
      this.#resolveActivated = resolve;
      this.#rejectActivated = reject;
    });
    // Nobody may be waiting (constructor option): never an unhandled rejection.
    this.#activated.catch(() => {});
    const client = (options.invalidationConnection ?? fallbackFactory)();
    // We subscribe ourselves after CLIENT ID on every 'ready': an automatic resubscribe
    // would put the connection in subscriber mode, where CLIENT ID is refused.
    client.options.autoResubscribe = false;
    this.#invalidation = client;
    this.#heartbeatMs = options.heartbeatMs ?? 500;
    this.#listenInvalidation();
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
  }

  /** True while invalidations flow and at least the cache may serve. */
  get active(): boolean {
    return this.#redirect !== null;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Resolves once the invalidation connection is subscribed and every data connection tracks. */
  activated(): Promise<void> {
    return this.#activated;
  }

  // ---- connections ---------------------------------------------------------------------

  #listenInvalidation(): void {
    const client = this.#invalidation;
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
    client.on('ready', onReady);
    client.on('error', onError);
    client.on('messageBuffer', onMessage);
    for (const [state, handler] of lost) client.on(state, handler);
    this.#detachInvalidation = () => {
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('messageBuffer', onMessage);
      for (const [state, handler] of lost) client.off(state, handler);
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
      this.#flush();
      this.#redirect = id;
      this.#pingSentAt = undefined;
      this.#leaseUntil = performance.now() + 3 * this.#heartbeatMs;
      const data = [...this.#data.values()];
      await Promise.all(data.map((connection) => this.#track(connection)));
      await Promise.all(data.map((connection) => connection.firstTracked));
      if (this.#redirect === id) this.#resolveActivated();
    } catch (error) {
      // A lost connection will come back with 'ready'; a refused command (Redis < 6) will not.
      if (client.status === 'ready') this.#rejectActivated(error);
    }
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
    for (const data of this.#data.values()) data.tracked = false;
    this.#flush();
  }

  /** Tracks a data connection (now, and again after each of its reconnects). */
  addConnection(client: Redis): Promise<void> {
    if (this.#data.has(client)) return Promise.resolve();
    let resolveTracked = () => {};
    const firstTracked = new Promise<void>((resolve) => (resolveTracked = resolve));
    const data: DataConnection = {
      client,
      tracked: false,
      session: 0,
      detach: () => {},
      firstTracked,
      resolveTracked,
    };
    const onReady = () => {
      data.session++;
      data.tracked = false;
      this.#flush();
      void this.#track(data);
    };
    const onLost = () => {
      data.session++;
      data.tracked = false;
      this.#flush();
    };
    client.on('ready', onReady);
    for (const state of LOST_STATES) client.on(state, onLost);
    data.detach = () => {
      client.off('ready', onReady);
      for (const state of LOST_STATES) client.off(state, onLost);
    };
    this.#data.set(client, data);
    return this.#track(data);
  }

  /** Stops tracking a connection the executor drops. */
  removeConnection(client: Redis): void {
    const data = this.#data.get(client);
    if (!data) return;
    data.detach();
    data.tracked = false;
    this.#data.delete(client);
  }

  async #track(data: DataConnection): Promise<void> {
    const id = this.#redirect;
    const session = data.session;
    if (id === null || data.client.status !== 'ready' || this.#closed) return;
    try {
      await data.client.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'OPTIN');
    } catch (error) {
      if (data.client.status === 'ready' && data.session === session) this.#rejectActivated(error);
      return;
    }
    if (
      this.#redirect === id &&
      data.session === session &&
      this.#data.get(data.client) === data &&
      !this.#closed
    ) {
      data.tracked = true;
      data.resolveTracked();
    }
  }

  // ---- entries -------------------------------------------------------------------------

  /** The cached value of `key` (counted as a hit), or undefined. */
  lookup(key: string): unknown {
    const entries = this.#entries;
    const value = entries.get(key);
    if (value === undefined || performance.now() > this.#leaseUntil) return undefined;
    // Least recently used order: a hit moves the entry to the end.
    entries.delete(key);
    entries.set(key, value);
    this.#counters.hits++;
    return value;
  }

  /**
   * Reads `key` from Redis on `client` (counted as a miss) and keeps the parsed value when no
   * invalidation of the key, and no loss of either connection, happened while it was in
   * flight. Errors are the raw ioredis ones (the executor wraps them).
   */
  async load<T>(
    key: string,
    client: Redis,
    command: 'hgetall' | 'get',
    parse: (raw: never) => T,
  ): Promise<T> {
    this.#counters.misses++;
    const data = this.#data.get(client);
    if (!data?.tracked || this.#redirect === null) {
      return parse((await client[command](key)) as never);
    }
    const epoch = this.#epoch;
    const session = data.session;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = { count: 0, version: 0, shared: undefined, sharedVersion: 0, sharedEpoch: 0 };
      this.#pending.set(key, pending);
    }
    const entry = pending;
    entry.count++;
    const version = entry.version;
    const fetch = (async () => {
      const [cachingOk, raw] = await readTracked(client, command, key);
      const value = parse(raw as never);
      if (
        cachingOk &&
        performance.now() <= this.#leaseUntil &&
        value !== undefined &&
        epoch === this.#epoch &&
        version === entry.version &&
        data.tracked &&
        data.session === session &&
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
    entries.delete(key);
    entries.set(key, value);
    if (entries.size > this.maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
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
    // flushed (FLUSHALL/FLUSHDB) or the tracking table overflowed.
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
    for (const pending of this.#pending.values()) pending.version++;
  }

  /** Drops every entry, stops tracking and quits the invalidation connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#invalidationLost();
    this.#rejectActivated(new Error('near cache closed'));
    this.#detachInvalidation();
    clearInterval(this.#heartbeat);
    const data = [...this.#data.values()];
    this.#data.clear();
    for (const connection of data) connection.detach();
    await Promise.all(
      data.map(async ({ client }) => {
        if (client.status !== 'ready') return;
        try {
          await client.call('CLIENT', 'TRACKING', 'off');
        } catch {
          // The connection is going away; its tracking state goes with it.
        }
      }),
    );
    try {
      await this.#invalidation.quit();
    } catch {
      this.#invalidation.disconnect();
    }
  }
}
