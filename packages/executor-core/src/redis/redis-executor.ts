/**
 * The Redis backend: ioredis `Redis` (standalone) or `Cluster`, one or several connections.
 * Link operations are one Lua script each, sent by SHA and re-sent as text on NOSCRIPT
 * (or always as text with the `eval` transport, as the original Go port did).
 */
import type { Cluster, Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { BaseExecutor } from '../base-executor.js';
import {
  connectionChannel,
  noscriptChannel,
  scriptLoadChannel,
  type ConnectionMessage,
  type ConnectionState,
  type NoscriptMessage,
  type ScriptLoadMessage,
} from '../diagnostics.js';
import {
  AuthError,
  ConnectionError,
  ScriptError,
  StatefulRouteError,
  TimeoutError,
  UnsupportedError,
  ValidationError,
} from '../errors.js';
import type {
  ExecutorDescription,
  ExecutorStats,
  HealthCheckOptions,
  HealthStatus,
  ScriptTransport,
  TrySetResult,
} from '../executor.js';
import { NO_POD } from '../executor.js';
import { linkIndexKey, linkKey, serviceStateKey, workloadKey } from '../keys.js';
import { readLink } from '../memory/memory-executor.js';
import { isAbsentLink, isAbsentWorkload, parsePodId, record } from '../values.js';
import { toExecutorError, isNoscript } from './redis-errors.js';
import type { CacheHitSink } from '../telemetry/telemetry.js';
import { CallDeadline } from './deadline.js';
import {
  DEFAULT_NEAR_CACHE_ENTRIES,
  DEFAULT_NEAR_CACHE_HEARTBEAT_MS,
  DEFAULT_NEAR_CACHE_NAMESPACES,
  NearCache,
  type NearCacheCounters,
  type NearCacheOptions,
} from './near-cache.js';
import { ALL_SCRIPTS, SCRIPTS, type LuaScript } from './scripts.js';

/** An ioredis client: a standalone `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster;

export interface RedisExecutorOptions {
  /**
   * The connection, or several: calls are spread over them round-robin. The caller owns
   * them unless `closeClients` is true.
   */
  redis: RedisClient | readonly RedisClient[];
  /** Name in diagnostics and metric labels. Default `redis`. */
  name?: string;
  /** `evalsha` (default): by SHA, re-sent on NOSCRIPT. `eval`: full text every call. */
  scriptTransport?: ScriptTransport;
  /** Quit the given connections in `close()`. Default false. */
  closeClients?: boolean;
  /**
   * Makes extra connections for `setConnectionCount()`. Connections it makes are owned by the
   * executor and quit when dropped or on `close()`.
   */
  connectionFactory?: () => RedisClient;
  /** Keys per MGET on a standalone server (batch reads are split). Default 500. */
  batchChunkSize?: number;
  /**
   * Serve `getServiceState` and `getWorkloadState` from an in-process cache invalidated by
   * Redis (client-side caching, `CLIENT TRACKING`). Standalone Redis 6+ only.
   * @throws SR_UNSUPPORTED on a Cluster
   */
  nearCache?: NearCacheOptions;
  /**
   * Every call settles within this many ms (SR_REDIS_TIMEOUT after), however long it waited
   * in a queue before being written (auto-pipelining, a reconnect, a cluster re-route).
   * Default: the client's ioredis `commandTimeout`, when it has one; else no bound.
   */
  commandTimeoutMs?: number;
}

/** The bound of `checkHealth()` when neither it nor the executor has one. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

interface Connection {
  client: RedisClient;
  label: string;
  owned: boolean;
  state: ConnectionState;
  detach: () => void;
}

const CONNECTION_EVENTS: ConnectionState[] = [
  'connect',
  'ready',
  'error',
  'close',
  'reconnecting',
  'end',
];

function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** The Redis executor. Create it with `createRedisExecutor()`. */
export class RedisExecutor extends BaseExecutor {
  readonly #connections: Connection[] = [];
  readonly #cluster: boolean;
  readonly #closeClients: boolean;
  readonly #factory: (() => RedisClient) | undefined;
  readonly #chunk: number;
  readonly #deadline: CallDeadline | undefined;
  #transport: ScriptTransport;
  #next = 0;
  #scriptsLoaded = false;
  #bySha = 0;
  #byText = 0;
  #reloads = 0;
  #loads = 0;
  #reconnects = 0;
  #nearCache: NearCache | undefined;
  #nearCacheMax = DEFAULT_NEAR_CACHE_ENTRIES;
  readonly #nearCounters: NearCacheCounters = { hits: 0, misses: 0, invalidations: 0 };
  // Run-time switches that await (near cache on/off, connection count, close) run one after
  // the other in call order: concurrent callers can never leave two near caches, a cache
  // without its connection, or a connection without its listeners.
  #switching: Promise<unknown> = Promise.resolve();
  // The last refusal of a reconnect by Redis (AUTH or its ready check), until one is ready.
  #authFailure: AuthError | undefined;

  constructor(options: RedisExecutorOptions) {
    checkOptions(options);
    super(options.name ?? 'redis', 'redis');
    const clients = Array.isArray(options.redis) ? options.redis : [options.redis as RedisClient];
    this.#cluster = isCluster(clients[0]!);
    if (clients.some((client) => isCluster(client) !== this.#cluster)) {
      throw new ValidationError(
        'redis',
        'type',
        'must be all standalone clients or all Cluster clients',
      );
    }
    const transport = options.scriptTransport ?? 'evalsha';
    if (transport !== 'evalsha' && transport !== 'eval') {
      throw new ValidationError('scriptTransport', 'range', "must be 'evalsha' or 'eval'");
    }
    this.#transport = transport;
    this.#closeClients = options.closeClients ?? false;
    this.#factory = options.connectionFactory;
    this.#chunk = options.batchChunkSize ?? 500;
    if (!Number.isSafeInteger(this.#chunk) || this.#chunk < 1) {
      throw new ValidationError('batchChunkSize', 'range', 'must be an integer >= 1');
    }
    const timeoutMs = options.commandTimeoutMs ?? clientCommandTimeout(clients[0]!);
    if (timeoutMs !== undefined) this.#deadline = new CallDeadline(timeoutMs);
    if (options.nearCache) {
      if (this.#cluster) throw new UnsupportedError(NEAR_CACHE_ON_CLUSTER);
      checkNearCacheOptions(options.nearCache);
    }
    clients.forEach((client, i) => this.#attach(client, i === 0 ? 'main' : `pool-${i}`, false));
    // The cache starts serving once the invalidation connection is subscribed; it waits for a
    // connection that is not up yet, and gives up only when Redis refuses client-side caching.
    if (options.nearCache) {
      const nearCache = options.nearCache;
      void this.#serially(() => this.#startNearCache(nearCache, undefined)).catch(() => {});
    }
    this.announce();
  }

  #attach(client: RedisClient, label: string, owned: boolean): void {
    const connection: Connection = {
      client,
      label,
      owned,
      state: client.status === 'ready' ? 'ready' : 'connect',
      detach: () => {},
    };
    const handlers = CONNECTION_EVENTS.map((state) => {
      const handler = (error?: { code?: unknown }) => {
        connection.state = state;
        if (state === 'reconnecting') this.#reconnects++;
        else if (state === 'ready') this.#authFailure = undefined;
        else if (state === 'error') {
          // A reconnect refused by Redis (changed password, ACL): calls fail at once with
          // SR_REDIS_AUTH until a connection is ready again, instead of each waiting in the
          // offline queue for the next attempt (up to the command timeout).
          const typed = toExecutorError(error);
          if (typed instanceof AuthError) this.#authFailure = typed;
        }
        if (connectionChannel.hasSubscribers) {
          const message: ConnectionMessage = { executor: this.name, state, connection: label };
          if (state === 'error' && typeof error?.code === 'string') message.errorCode = error.code;
          connectionChannel.publish(message);
        }
      };
      client.on(state, handler);
      return [state, handler] as const;
    });
    connection.detach = () => {
      for (const [state, handler] of handlers) client.off(state, handler);
    };
    this.#connections.push(connection);
  }

  #client(): RedisClient {
    const connections = this.#connections;
    let client: RedisClient;
    if (connections.length === 1) client = connections[0]!.client;
    else {
      client = connections[this.#next++ % connections.length]!.client;
      if (this.#next >= 1 << 30) this.#next = 0;
    }
    const refused = this.#authFailure;
    if (refused !== undefined && client.status !== 'ready') {
      throw new AuthError(refused.reply, refused.message, { cause: refused.cause });
    }
    return client;
  }

  // ---- tuning, for the optimizer -------------------------------------------------------

  /** The script transport now in use. */
  get scriptTransport(): ScriptTransport {
    return this.#transport;
  }

  /** Switches the script transport at run time (`evalsha` is the fast, default one). */
  setScriptTransport(transport: ScriptTransport): void {
    if (transport !== 'evalsha' && transport !== 'eval') {
      throw new ValidationError('scriptTransport', 'range', "must be 'evalsha' or 'eval'");
    }
    this.#transport = transport;
  }

  /** Whether ioredis auto-pipelining is on (read from the first connection). */
  get autoPipelining(): boolean {
    return Boolean(this.#connections[0]?.client.options.enableAutoPipelining);
  }

  /**
   * Turns ioredis auto-pipelining on or off on every connection at run time (ioredis reads
   * the option on each command).
   */
  setAutoPipelining(enabled: boolean): void {
    for (const { client } of this.#connections) client.options.enableAutoPipelining = enabled;
  }

  /** How many connections calls are spread over. */
  get connectionCount(): number {
    return this.#connections.length;
  }

  // Runs `switch` after every switch called before it has finished.
  #serially<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#switching.then(run);
    this.#switching = next.catch(() => {});
    return next;
  }

  /**
   * Spreads calls over `count` connections: extra ones come from `connectionFactory` (and are
   * owned by the executor); surplus owned ones are quit. Given connections are never dropped.
   * Runs after any switch called before it has finished.
   * @throws SR_VALIDATION for a count outside 1..64, or more connections without a factory
   */
  setConnectionCount(count: number): Promise<void> {
    try {
      this.assertOpen();
      if (!Number.isSafeInteger(count) || count < 1 || count > 64) {
        throw new ValidationError('connections', 'range', 'must be an integer from 1 to 64');
      }
      if (count > this.#connections.length && !this.#factory) {
        throw new ValidationError(
          'connections',
          'range',
          'more connections need the connectionFactory option',
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serially(() => this.#resize(count));
  }

  async #resize(count: number): Promise<void> {
    this.assertOpen();
    const factory = this.#factory;
    while (this.#connections.length < count && factory) {
      const client = factory();
      client.options.enableAutoPipelining = this.autoPipelining;
      this.#attach(client, `pool-${this.#connections.length}`, true);
      if (this.#scriptsLoaded) await this.#loadOn(client);
    }
    while (this.#connections.length > count && this.#connections.at(-1)!.owned) {
      const connection = this.#connections.pop()!;
      connection.detach();
      // With auto-pipelining, calls already made may still sit in the client's pipeline
      // queue, and QUIT (never auto-pipelined) would overtake them: a PING queued behind
      // them resolves once they have been written and answered.
      await connection.client.ping().catch(() => {});
      await quit(connection.client);
    }
  }

  // ---- near cache ----------------------------------------------------------------------

  /**
   * Serves `getServiceState` and `getWorkloadState` from an in-process cache that Redis
   * invalidates (client-side caching in broadcast mode, with a redirect connection). Resolves
   * once invalidations flow; replaces a near cache already enabled. Runs after any switch
   * called before it has finished.
   * @throws SR_UNSUPPORTED on a Cluster or when Redis refuses CLIENT TRACKING (Redis < 6)
   * @throws SR_REDIS_CONNECTION when the invalidation connection is not ready within `timeoutMs`
   * @throws SR_VALIDATION for a bad option
   */
  enableNearCache(options: NearCacheOptions & { timeoutMs?: number } = {}): Promise<void> {
    try {
      this.assertOpen();
      if (this.#cluster) throw new UnsupportedError(NEAR_CACHE_ON_CLUSTER);
      checkNearCacheOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serially(() => this.#startNearCache(options, options.timeoutMs ?? 5000));
  }

  /**
   * Stops the near cache: entries dropped, tracking off, invalidation connection quit. Runs
   * after any switch called before it has finished.
   */
  disableNearCache(): Promise<void> {
    return this.#serially(() => this.#stopNearCache());
  }

  /** Whether a near cache is configured (it serves only while its invalidations flow). */
  get nearCacheEnabled(): boolean {
    return this.#nearCache !== undefined;
  }

  async #stopNearCache(): Promise<void> {
    const cache = this.#nearCache;
    this.#nearCache = undefined;
    await cache?.close();
  }

  // Only ever called through #serially. With a timeout, a cache not active by then is closed
  // and the call rejects; without one (the constructor option), it stays and activates when
  // Redis is reachable, unless Redis refuses client-side caching.
  async #startNearCache(options: NearCacheOptions, timeoutMs: number | undefined): Promise<void> {
    this.assertOpen();
    await this.#stopNearCache();
    const tracker = this.#connections[0]!.client as Redis;
    const cache = new NearCache(options, tracker, this.#nearCounters, (state, errorCode) => {
      if (state === 'reconnecting') this.#reconnects++;
      if (connectionChannel.hasSubscribers) {
        const message: ConnectionMessage = {
          executor: this.name,
          state,
          connection: 'invalidation',
        };
        if (errorCode !== undefined) message.errorCode = errorCode;
        connectionChannel.publish(message);
      }
    });
    this.#nearCache = cache;
    this.#nearCacheMax = cache.maxEntries;
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
      if (this.#nearCache === cache) this.#nearCache = undefined;
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

  // ---- scripts -------------------------------------------------------------------------

  /**
   * Loads every script into Redis' script cache (on every master of a cluster) so that the
   * first calls are served by SHA. Safe to call again.
   * @throws SR_REDIS_CONNECTION and the other Redis codes
   */
  async loadScripts(): Promise<void> {
    this.assertOpen();
    const seen = new Set<RedisClient>();
    for (const { client } of this.#connections) {
      if (seen.has(client)) continue;
      seen.add(client);
      await this.#loadOn(client);
    }
    this.#scriptsLoaded = true;
  }

  async #loadOn(client: RedisClient): Promise<void> {
    const nodes: Redis[] = isCluster(client) ? client.nodes('master') : [client];
    await Promise.all(
      nodes.map(async (node) => {
        for (const script of ALL_SCRIPTS) {
          const started = performance.now();
          let sha: unknown;
          try {
            sha = await node.script('LOAD', script.source);
          } catch (error) {
            throw toExecutorError(error, script.name);
          }
          if (sha !== script.sha) {
            throw new ScriptError(
              script.name,
              '',
              `SCRIPT LOAD returned ${String(sha)}, expected ${script.sha}`,
            );
          }
          this.#loads++;
          if (scriptLoadChannel.hasSubscribers) {
            const message: ScriptLoadMessage = {
              executor: this.name,
              script: script.name,
              sha: script.sha,
              node: `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`,
              durationMs: performance.now() - started,
            };
            scriptLoadChannel.publish(message);
          }
        }
      }),
    );
  }

  #script(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const run = this.#runScript(script, keys, args);
    return this.#deadline ? this.#call(run) : run;
  }

  async #runScript(
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    const client = this.#client();
    if (this.#transport === 'eval') {
      this.#byText++;
      try {
        return await client.eval(script.source, script.numberOfKeys, ...keys, ...args);
      } catch (error) {
        throw toExecutorError(error, script.name);
      }
    }
    try {
      const reply = await client.evalsha(script.sha, script.numberOfKeys, ...keys, ...args);
      this.#bySha++;
      return reply;
    } catch (error) {
      if (!isNoscript(error)) throw toExecutorError(error, script.name);
    }
    // The script cache was flushed (SCRIPT FLUSH, restart, failover): EVAL runs the script
    // and caches it again in one round trip.
    this.#reloads++;
    this.#byText++;
    if (noscriptChannel.hasSubscribers) {
      const message: NoscriptMessage = {
        executor: this.name,
        script: script.name,
        sha: script.sha,
      };
      noscriptChannel.publish(message);
    }
    try {
      return await client.eval(script.source, script.numberOfKeys, ...keys, ...args);
    } catch (error) {
      throw toExecutorError(error, script.name);
    }
  }

  // Every Redis round trip of an operation goes through here (scripts through #script): the
  // one place where the command timeout is enforced and ioredis errors become typed ones.
  async #call<T>(command: Promise<T>): Promise<T> {
    try {
      return await (this.#deadline ? this.#deadline.bound(command) : command);
    } catch (error) {
      throw toExecutorError(error);
    }
  }

  // ---- describe, stats, health, close -------------------------------------------------

  describe(): ExecutorDescription {
    return {
      name: this.name,
      backend: 'redis',
      topology: this.#cluster ? 'cluster' : 'standalone',
      scriptTransport: this.#transport,
      autoPipelining: this.autoPipelining,
      connections: this.#connections.length,
      nearCache: this.#cluster
        ? null
        : { enabled: this.#nearCache !== undefined, maxEntries: this.#nearCacheMax },
    };
  }

  stats(): ExecutorStats {
    return {
      scriptCallsBySha: this.#bySha,
      scriptCallsByText: this.#byText,
      noscriptReloads: this.#reloads,
      scriptsLoaded: this.#loads,
      nearCacheHits: this.#nearCounters.hits,
      nearCacheMisses: this.#nearCounters.misses,
      nearCacheInvalidations: this.#nearCounters.invalidations,
      reconnects: this.#reconnects,
    };
  }

  /** Whether every connection is ready. */
  get connected(): boolean {
    return this.#connections.every(({ client }) => client.status === 'ready');
  }

  /**
   * Pings every connection and asks Redis whether it holds the scripts, within `timeoutMs`
   * (default: the command timeout, else 1000 ms). `ok` says whether Redis answers; a script
   * missing from Redis' cache does not make it unhealthy (calls send it again as text), and
   * `scriptsLoaded` says whether every script is cached on every master now.
   * @throws SR_VALIDATION for a bad `timeoutMs`
   */
  async checkHealth(options: HealthCheckOptions = {}): Promise<HealthStatus> {
    const timeoutMs = options.timeoutMs ?? this.#deadline?.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
    checkTimeout(timeoutMs, 'timeoutMs');
    if (this.closed) {
      return {
        ok: false,
        backend: 'redis',
        latencyMs: 0,
        scriptsLoaded: false,
        reason: 'executor closed',
      };
    }
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const down = this.#connections.find(({ client }) => client.status !== 'ready');
        reject(
          down
            ? new ConnectionError(
                `Redis is unreachable: connection ${down.label} is ${down.client.status} after ${timeoutMs} ms`,
              )
            : new TimeoutError(`Redis did not answer the health check within ${timeoutMs} ms`),
        );
      }, timeoutMs);
    });
    try {
      const checks = Promise.all([
        Promise.all(this.#connections.map(({ client }) => client.ping())),
        this.#scriptsCached(),
      ]);
      const [, scriptsLoaded] = await Promise.race([checks, expired]);
      return { ok: true, backend: 'redis', latencyMs: performance.now() - started, scriptsLoaded };
    } catch (error) {
      return {
        ok: false,
        backend: 'redis',
        latencyMs: performance.now() - started,
        scriptsLoaded: false,
        reason: toExecutorError(error).message,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  // Whether every master holds every script (SCRIPT EXISTS, one round trip per master).
  async #scriptsCached(): Promise<boolean> {
    const first = this.#connections[0]!.client;
    const nodes: Redis[] = isCluster(first) ? first.nodes('master') : [first];
    const shas = ALL_SCRIPTS.map((script) => script.sha);
    const replies = await Promise.all(
      nodes.map((node) => node.script('EXISTS', ...shas) as Promise<number[]>),
    );
    return replies.every((flags) => flags.every((flag) => flag === 1));
  }

  protected async release(): Promise<void> {
    // After the switches called before close() (the near cache included) have finished.
    await this.#serially(() => this.#stopNearCache());
    const connections = this.#connections.splice(0);
    for (const connection of connections) connection.detach();
    await Promise.all(
      connections.filter((c) => c.owned || this.#closeClients).map((c) => quit(c.client)),
    );
  }

  // ---- operations ----------------------------------------------------------------------

  protected async doSetServiceState(
    ns: string,
    svc: string,
    podId: number,
    state: string,
  ): Promise<void> {
    const key = serviceStateKey(ns, svc);
    try {
      await this.#call(this.#client().hset(key, String(podId), state));
    } finally {
      // Read-your-writes: once acknowledged (or failed), no older value is served from here.
      this.#nearCache?.invalidate(key);
    }
  }

  protected async doGetServiceState(
    ns: string,
    svc: string,
    sink?: CacheHitSink,
  ): Promise<Record<number, string>> {
    const key = serviceStateKey(ns, svc);
    const cache = this.#nearCache;
    if (cache) {
      let hit = cache.lookup(key) as Record<number, string> | undefined;
      if (hit === undefined) {
        // Synchronously: concurrent misses must see each other's read in flight.
        const shared = cache.join(key);
        if (shared) hit = (await this.#call(shared)) as Record<number, string> | undefined;
      }
      if (hit !== undefined) {
        sink?.markCached();
        return Object.assign(record<string>(), hit);
      }
      const client = this.#client() as Redis;
      const loaded = await this.#call(cache.load(key, ns, client, 'hgetall', podStates));
      return Object.assign(record<string>(), loaded);
    }
    // HGETALL by its upper-case name: ioredis' reply transformer is keyed by 'hgetall', so the
    // flat [field, value, ...] reply comes back as is and podStates reads it directly.
    // Building ioredis' object and enumerating it again cost about 2 us per call of the
    // hottest read (measured in bench/). Key routing on a Cluster ignores the case.
    const reply = await this.#call(this.#client().call('HGETALL', key));
    return podStates(reply as unknown[] | Record<string, string>);
  }

  protected async doSetWorkloadState(ns: string, svc: string, state: string): Promise<void> {
    const key = workloadKey(ns, svc);
    try {
      await this.#call(this.#client().set(key, state));
    } finally {
      this.#nearCache?.invalidate(key);
    }
  }

  protected async doGetWorkloadState(
    ns: string,
    svc: string,
    sink?: CacheHitSink,
  ): Promise<string | null> {
    const key = workloadKey(ns, svc);
    const cache = this.#nearCache;
    if (cache) {
      let hit = cache.lookup(key) as string | null | undefined;
      // A cached null (an absent workload state) is a hit: compare with undefined.
      if (hit === undefined) {
        // Synchronously: concurrent misses must see each other's read in flight.
        const shared = cache.join(key);
        if (shared) hit = (await this.#call(shared)) as string | null | undefined;
      }
      if (hit !== undefined) {
        sink?.markCached();
        return hit;
      }
      return this.#call(cache.load(key, ns, this.#client() as Redis, 'get', workloadValue));
    }
    return workloadValue(await this.#call(this.#client().get(key)));
  }

  protected async doGetWorkloadStateBatch(
    ns: string,
    svcs: readonly string[],
  ): Promise<Record<string, string>> {
    const values = await this.#multiGet(svcs.map((svc) => workloadKey(ns, svc)));
    const out = record<string>();
    for (let i = 0; i < svcs.length; i++) {
      const value = values[i];
      if (!isAbsentWorkload(value)) out[svcs[i]!] = value;
    }
    return out;
  }

  /**
   * Values of keys in different slots. Standalone: MGET in chunks. Cluster: one GET per key,
   * all sent at once (an MGET across slots fails with CROSSSLOT); with auto-pipelining
   * ioredis groups them per node.
   */
  async #multiGet(keys: string[]): Promise<(string | null)[]> {
    const client = this.#client();
    if (this.#cluster) return this.#call(Promise.all(keys.map((key) => client.get(key))));
    if (keys.length <= this.#chunk) return this.#call(client.mget(keys));
    const chunks: Promise<(string | null)[]>[] = [];
    for (let i = 0; i < keys.length; i += this.#chunk)
      chunks.push(client.mget(keys.slice(i, i + this.#chunk)));
    return (await this.#call(Promise.all(chunks))).flat();
  }

  #linkArgs(ns: string, uid: string, svc: string): [string, string] {
    return [linkKey(ns, uid, svc), linkIndexKey(ns, uid)];
  }

  protected async doSetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<number> {
    const script = SCRIPTS.setLinkedPod;
    const reply = await this.#script(script, this.#linkArgs(ns, uid, svc), [
      svc,
      String(podId),
      String(persist),
    ]);
    return podOf(stringArray(reply, script, 1)[0]!);
  }

  protected async doTrySetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<TrySetResult> {
    const script = SCRIPTS.trySetLinkedPod;
    const pod = String(podId);
    const reply = stringArray(
      await this.#script(script, this.#linkArgs(ns, uid, svc), [svc, pod, String(persist)]),
      script,
      1,
      2,
    );
    const first = reply[0]!;
    return {
      linked: first === pod,
      current: podOf(first),
      previous: reply.length > 1 ? podOf(reply[1]!) : NO_POD,
    };
  }

  protected async doSetLinkedPodIfAbsent(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<number> {
    const script = SCRIPTS.setLinkedPodIfAbsent;
    const reply = await this.#script(script, this.#linkArgs(ns, uid, svc), [
      svc,
      String(podId),
      String(persist),
    ]);
    return podOf(stringArray(reply, script, 1)[0]!);
  }

  protected async doGetLinkedPod(ns: string, uid: string, svc: string): Promise<number> {
    const key = linkKey(ns, uid, svc);
    return readLink(key, await this.#call(this.#client().get(key)));
  }

  protected async doGetLinkedPodIfPersist(ns: string, uid: string, svc: string): Promise<number> {
    const key = linkKey(ns, uid, svc);
    const reply = await this.#script(SCRIPTS.getLinkedPodIfPersist, [key], []);
    if (reply === null) return NO_POD;
    if (typeof reply !== 'string') throw unexpected(SCRIPTS.getLinkedPodIfPersist, reply);
    return readLink(key, reply);
  }

  protected async doBatchGetLinkedPod(
    ns: string,
    uids: readonly string[],
    svc: string,
  ): Promise<Record<number, string[]>> {
    const values = await this.#multiGet(uids.map((uid) => linkKey(ns, uid, svc)));
    const out = record<string[]>() as Record<number, string[]>;
    for (let i = 0; i < uids.length; i++) {
      const value = values[i];
      if (isAbsentLink(value)) continue;
      const pod = parsePodId(value);
      if (pod === undefined) continue;
      (out[pod] ??= []).push(uids[i]!);
    }
    return out;
  }

  protected async doRemoveLinkedPod(ns: string, uid: string, svc: string): Promise<boolean> {
    const reply = await this.#script(SCRIPTS.removeLinkedPod, this.#linkArgs(ns, uid, svc), [svc]);
    return flag(reply, SCRIPTS.removeLinkedPod);
  }

  protected async doRemoveLinkedPodWithId(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
  ): Promise<boolean> {
    const reply = await this.#script(SCRIPTS.removeLinkedPodWithId, this.#linkArgs(ns, uid, svc), [
      svc,
      String(podId),
    ]);
    return flag(reply, SCRIPTS.removeLinkedPodWithId);
  }

  protected async doGetLinkService(ns: string, uid: string): Promise<Record<string, number>> {
    const hash = await this.#call(this.#client().hgetall(linkIndexKey(ns, uid)));
    const out = record<number>();
    for (const svc in hash) {
      const pod = parsePodId(hash[svc]!);
      if (pod !== undefined) out[svc] = pod;
    }
    return out;
  }
}

// An ioredis client, told from anything else without importing ioredis' classes (the
// application may use another copy of ioredis than ours).
function isRedisClient(value: unknown): value is RedisClient {
  const client = value as Partial<Record<'on' | 'off' | 'call' | 'duplicate', unknown>> | null;
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.on === 'function' &&
    typeof client.off === 'function' &&
    typeof client.call === 'function' &&
    typeof (client as { status?: unknown }).status === 'string' &&
    typeof (client as { options?: unknown }).options === 'object'
  );
}

const CLIENT_EXPECTED =
  'must be an ioredis client (new Redis(url) or new Cluster(seeds)) or a non-empty array of ' +
  'them; the executor does not make connections from a URL or connection options';

// The options checked before anything is attached, so a wrong one is a typed error naming
// it (not a TypeError from deep inside), and nothing is left behind.
function checkOptions(options: RedisExecutorOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('options', 'type', 'must be an object with a `redis` client');
  }
  const redis: unknown = options.redis;
  const clients: unknown[] = Array.isArray(redis) ? redis : [redis];
  if (clients.length === 0 || !clients.every(isRedisClient)) {
    throw new ValidationError('redis', 'type', CLIENT_EXPECTED);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new ValidationError('name', 'type', 'must be a non-empty string');
  }
  if (options.closeClients !== undefined && typeof options.closeClients !== 'boolean') {
    throw new ValidationError('closeClients', 'type', 'must be a boolean');
  }
  if (options.connectionFactory !== undefined && typeof options.connectionFactory !== 'function') {
    throw new ValidationError('connectionFactory', 'type', 'must be a function returning a client');
  }
  if (
    options.nearCache !== undefined &&
    (typeof options.nearCache !== 'object' || options.nearCache === null)
  ) {
    throw new ValidationError('nearCache', 'type', 'must be an object of near cache options');
  }
  if (options.commandTimeoutMs !== undefined) {
    checkTimeout(options.commandTimeoutMs, 'commandTimeoutMs');
  }
}

function checkTimeout(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(field, 'range', 'must be a number of ms > 0');
  }
}

function checkNearCacheOptions(options: NearCacheOptions & { timeoutMs?: number }): void {
  const max = options.maxEntries ?? DEFAULT_NEAR_CACHE_ENTRIES;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new ValidationError('nearCache.maxEntries', 'range', 'must be an integer >= 1');
  }
  const namespaces = options.maxNamespaces ?? DEFAULT_NEAR_CACHE_NAMESPACES;
  if (!Number.isSafeInteger(namespaces) || namespaces < 1 || namespaces > 1024) {
    throw new ValidationError(
      'nearCache.maxNamespaces',
      'range',
      'must be an integer from 1 to 1024',
    );
  }
  const heartbeat = options.heartbeatMs ?? DEFAULT_NEAR_CACHE_HEARTBEAT_MS;
  if (!Number.isFinite(heartbeat) || heartbeat < 10) {
    throw new ValidationError('nearCache.heartbeatMs', 'range', 'must be a number >= 10');
  }
  if (
    options.invalidationConnection !== undefined &&
    typeof options.invalidationConnection !== 'function'
  ) {
    throw new ValidationError(
      'nearCache.invalidationConnection',
      'type',
      'must be a function returning a client',
    );
  }
  if (options.timeoutMs !== undefined) checkTimeout(options.timeoutMs, 'timeoutMs');
}

// ioredis' own command timeout of a client (a Cluster keeps it in its redisOptions).
function clientCommandTimeout(client: RedisClient): number | undefined {
  const options = client.options as {
    commandTimeout?: unknown;
    redisOptions?: { commandTimeout?: unknown };
  };
  const timeout = isCluster(client) ? options.redisOptions?.commandTimeout : options.commandTimeout;
  return typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0
    ? timeout
    : undefined;
}

const NEAR_CACHE_ON_CLUSTER =
  'near cache: not supported on Redis Cluster (client-side caching would need tracking and ' +
  'an invalidation connection per node); use a standalone Redis or leave it off';

// Accepts HGETALL's flat array (the fast path) or ioredis' object (the near cache's read).
function podStates(reply: Record<string, string> | unknown[]): Record<number, string> {
  const out = record<string>() as Record<number, string>;
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const field = reply[i];
      const pod = typeof field === 'string' ? parsePodId(field) : undefined;
      if (pod !== undefined) out[pod] = String(reply[i + 1]);
    }
    return out;
  }
  const hash = reply;
  for (const field in hash) {
    const pod = parsePodId(field);
    if (pod !== undefined) out[pod] = hash[field]!;
  }
  return out;
}

function workloadValue(value: string | null): string | null {
  return isAbsentWorkload(value) ? null : value;
}

function unexpected(script: LuaScript, reply: unknown): ScriptError {
  const shape = Array.isArray(reply) ? `an array of ${reply.length}` : typeof reply;
  return new ScriptError(
    script.name,
    '',
    `script ${script.name} replied with ${shape}, which the contract does not allow`,
  );
}

function stringArray(reply: unknown, script: LuaScript, min: number, max = min): string[] {
  if (
    !Array.isArray(reply) ||
    reply.length < min ||
    reply.length > max ||
    reply.some((v) => typeof v !== 'string')
  ) {
    throw unexpected(script, reply);
  }
  return reply as string[];
}

function flag(reply: unknown, script: LuaScript): boolean {
  if (reply !== 0 && reply !== 1) throw unexpected(script, reply);
  return reply === 1;
}

// A pod in a script reply; '-1' and anything that is not a pod id are "no pod".
function podOf(value: string): number {
  return parsePodId(value) ?? NO_POD;
}

async function quit(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/**
 * An executor on Redis (standalone or Cluster) through ioredis clients you own.
 * @example
 * import { Redis } from 'ioredis';
 * const executor = createRedisExecutor({ redis: new Redis() });
 * await executor.loadScripts();
 * await executor.setLinkedPodIfAbsent('default', 'user123', 'room', 3, 300);
 * @throws SR_VALIDATION when the options are invalid
 */
export function createRedisExecutor(options: RedisExecutorOptions): RedisExecutor {
  return new RedisExecutor(options);
}
