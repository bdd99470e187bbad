/**
 * The Redis backend: ioredis `Redis` (standalone) or `Cluster`, one or several connections.
 * Link operations are one Lua script each, sent by SHA and re-sent as text on NOSCRIPT
 * (or always as text with the `eval` transport, as the original Go port did).
 *
 * The parts live beside it, one idea a file: the connections (connection-pool.ts), the
 * scripts on the wire (script-runner.ts), the near cache's life and the cached reads
 * (cached-reads.ts, near-cache.ts), the command deadline (deadline.ts), the options
 * (options.ts), reading replies (replies.ts) and typing errors (redis-errors.ts). This file
 * holds the operations and the run-time switches, which it runs one after the other.
 */
import type { Redis } from 'ioredis';
import { BaseExecutor } from '../base-executor.js';
import type { ConnectionState } from '../diagnostics.js';
import { ExecutorClosedError, UnsupportedError, ValidationError } from '../errors.js';
import type {
  ExecutorDescription,
  ExecutorStats,
  HealthCheckOptions,
  HealthStatus,
  ScriptTransport,
  TrySetResult,
  TunableExecutor,
} from '../executor.js';
import { NO_POD } from '../executor.js';
import { linkIndexKey, linkKey, serviceStateKey, workloadKey } from '../keys.js';
import type { NamespaceKeysMaintenance } from '../namespace-keys.js';
import type { LinkScanMaintenance, LinkScanOptions, LinkScanPage } from '../link-scan.js';
import type { CacheHitSink } from '../telemetry/telemetry.js';
import { readLink } from '../values.js';
import {
  DEFAULT_PLACEMENT_BATCH,
  type Allocation,
  type Placement,
  type PlacementStrategy,
  type ReconcileResult,
  type ReleaseResult,
  type SweepResult,
} from '../placement.js';
import { RedisPlacement } from './placement.js';
import { CachedReads } from './cached-reads.js';
import { ConnectionPool } from './connection-pool.js';
import { checkRedisHealth } from './health-check.js';
import { CallDeadline, unbounded, type Bound } from './deadline.js';
import type { CachedLink, NearCacheOptions } from './near-cache.js';
import {
  checkNearCacheOptions,
  checkOptions,
  checkTimeout,
  clientCommandTimeout,
  DEFAULT_HEALTH_TIMEOUT_MS,
  isCluster,
  NEAR_CACHE_ON_CLUSTER,
  type RedisClient,
  type RedisExecutorOptions,
} from './options.js';
import { toExecutorError } from './redis-errors.js';
import {
  flag,
  linkServices,
  podOf,
  podStates,
  stringArray,
  trySetResult,
  uidsByPod,
  unexpected,
  workloadStates,
  workloadValue,
} from './replies.js';
import { redisDeleteNamespaceKeys, redisNamespaceHasKeys } from './namespace-keys.js';
import { redisScanLinks } from './link-scan.js';
import { checkTransport, ScriptRunner } from './script-runner.js';
import { SCRIPTS, type LuaScript } from './scripts.js';

export type { RedisClient, RedisExecutorOptions } from './options.js';
export { DEFAULT_HEALTH_TIMEOUT_MS } from './options.js';

const rethrowTyped = (error: unknown): never => {
  throw toExecutorError(error);
};

/** The Redis executor. Create it with `createRedisExecutor()`. */
export class RedisExecutor
  extends BaseExecutor
  implements TunableExecutor, NamespaceKeysMaintenance, LinkScanMaintenance
{
  readonly #pool: ConnectionPool;
  readonly #scripts: ScriptRunner;
  readonly #reads: CachedReads;
  readonly #placement: RedisPlacement;
  readonly #closeClients: boolean;
  readonly #factory: (() => RedisClient) | undefined;
  readonly #chunk: number;
  readonly #deadline: CallDeadline | undefined;
  // The deadline without the error mapping, for scripts and for helpers that map errors
  // themselves (script loading names the script; scans and namespace deletes run many
  // commands per operation).
  readonly #bound: Bound;
  // Run-time switches that await (near cache on/off, connection count, close) run one after
  // the other in call order: concurrent callers can never leave two near caches, a cache
  // without its connection, or a connection without its listeners.
  #switching: Promise<unknown> = Promise.resolve();

  constructor(options: RedisExecutorOptions) {
    checkOptions(options);
    super(options.name ?? 'redis', 'redis');
    const clients = Array.isArray(options.redis) ? options.redis : [options.redis as RedisClient];
    const cluster = isCluster(clients[0]!);
    if (clients.some((client) => isCluster(client) !== cluster)) {
      throw new ValidationError(
        'redis',
        'type',
        'must be all standalone clients or all Cluster clients',
      );
    }
    const transport = options.scriptTransport ?? 'evalsha';
    checkTransport(transport);
    this.#closeClients = options.closeClients ?? false;
    this.#factory = options.connectionFactory;
    this.#chunk = options.batchChunkSize ?? 500;
    if (!Number.isSafeInteger(this.#chunk) || this.#chunk < 1) {
      throw new ValidationError('batchChunkSize', 'range', 'must be an integer >= 1');
    }
    const timeoutMs = options.commandTimeoutMs ?? clientCommandTimeout(clients[0]!);
    const deadline = timeoutMs === undefined ? undefined : new CallDeadline(timeoutMs);
    this.#deadline = deadline;
    this.#bound = deadline ? (command) => deadline.bound(command) : unbounded;
    if (options.nearCache) {
      if (cluster) throw new UnsupportedError(NEAR_CACHE_ON_CLUSTER);
      checkNearCacheOptions(options.nearCache);
    }
    this.#pool = new ConnectionPool(this.name, clients);
    this.#scripts = new ScriptRunner(this.name, this.#pool, transport, this.#bound);
    this.#reads = new CachedReads(this.name, this.#pool, (command) => this.#call(command));
    const pool = this.#pool;
    const reads = this.#reads;
    this.#placement = new RedisPlacement({
      cluster: pool.cluster,
      script: (script, keys, args) => this.#script(script, keys, args),
      call: (command) => this.#call(command),
      client: () => pool.client(),
      invalidate: (key) => reads.invalidate(key),
      scanLinks: (namespace, scan) => this.scanLinks(namespace, scan),
      counters: this.telemetry.placement,
    });
    // The cache starts serving once the invalidation connection is subscribed; it waits for a
    // connection that is not up yet, and gives up only when Redis refuses client-side caching.
    if (options.nearCache) {
      const nearCache = options.nearCache;
      void this.#serially(() => this.#reads.start(nearCache, undefined)).catch(() => {});
    }
    this.announce();
  }

  // Every Redis round trip of an operation goes through here (scripts through #script): the
  // one place where the command timeout is enforced and ioredis errors become typed ones.
  // Not async: the deadline's promise maps the error itself (an async wrapper costs a second
  // promise and two microtask turns per call).
  #call<T>(command: Promise<T>): Promise<T> {
    return this.#deadline
      ? this.#deadline.bound(command, toExecutorError)
      : command.then(undefined, rethrowTyped);
  }

  #script(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.#bound(this.#scripts.run(script, keys, args));
  }

  // Runs `run` after every switch called before it has finished.
  #serially<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#switching.then(run);
    this.#switching = next.catch(() => {});
    return next;
  }

  // ---- tuning, for the optimizer -------------------------------------------------------

  /** The script transport now in use. */
  get scriptTransport(): ScriptTransport {
    return this.#scripts.transport;
  }

  /** Switches the script transport at run time (`evalsha` is the fast, default one). */
  setScriptTransport(transport: ScriptTransport): void {
    checkTransport(transport);
    this.#scripts.transport = transport;
  }

  /** Whether ioredis auto-pipelining is on (read from the first connection). */
  get autoPipelining(): boolean {
    return this.#pool.autoPipelining;
  }

  /**
   * Turns ioredis auto-pipelining on or off on every connection at run time (ioredis reads
   * the option on each command).
   */
  setAutoPipelining(enabled: boolean): void {
    this.#pool.autoPipelining = enabled;
  }

  /** How many connections calls are spread over. */
  get connectionCount(): number {
    return this.#pool.connections.length;
  }

  /** Whether `setConnectionCount()` can add connections (a `connectionFactory` was given). */
  get canAddConnections(): boolean {
    return this.#factory !== undefined;
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
      if (count > this.#pool.connections.length && !this.#factory) {
        throw new ValidationError(
          'connections',
          'range',
          'more connections need the connectionFactory option',
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serially(async () => {
      this.assertOpen();
      await this.#pool.resize(count, this.#factory, async (client) => {
        if (this.#scripts.loaded) await this.#scripts.loadOn(client);
      });
    });
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
      if (this.#pool.cluster) throw new UnsupportedError(NEAR_CACHE_ON_CLUSTER);
      checkNearCacheOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#serially(async () => {
      this.assertOpen();
      await this.#reads.start(options, options.timeoutMs ?? 5000);
    });
  }

  /**
   * Stops the near cache: entries dropped, tracking off, invalidation connection quit. Runs
   * after any switch called before it has finished.
   */
  disableNearCache(): Promise<void> {
    return this.#serially(() => this.#reads.stop());
  }

  /** Whether a near cache is configured (it serves only while its invalidations flow). */
  get nearCacheEnabled(): boolean {
    return this.#reads.cache !== undefined;
  }

  // ---- scripts -------------------------------------------------------------------------

  /**
   * Loads every script into Redis' script cache (on every master of a cluster) so that the
   * first calls are served by SHA. Safe to call again.
   * @throws SR_REDIS_CONNECTION and the other Redis codes
   */
  async loadScripts(): Promise<void> {
    this.assertOpen();
    await this.#scripts.loadAll();
  }

  // ---- describe, stats, health, close -------------------------------------------------

  describe(): ExecutorDescription {
    return {
      name: this.name,
      backend: 'redis',
      topology: this.#pool.cluster ? 'cluster' : 'standalone',
      scriptTransport: this.#scripts.transport,
      autoPipelining: this.autoPipelining,
      connections: this.#pool.connections.length,
      nearCache: this.#pool.cluster
        ? null
        : { enabled: this.nearCacheEnabled, maxEntries: this.#reads.maxEntries },
    };
  }

  stats(): ExecutorStats {
    const scripts = this.#scripts;
    const counters = this.#reads.counters;
    return {
      scriptCallsBySha: scripts.bySha,
      scriptCallsByText: scripts.byText,
      noscriptReloads: scripts.reloads,
      scriptsLoaded: scripts.loads,
      nearCacheHits: counters.hits,
      nearCacheMisses: counters.misses,
      nearCacheInvalidations: counters.invalidations,
      reconnects: this.#pool.reconnects,
    };
  }

  /** Whether every connection is ready. */
  get connected(): boolean {
    return this.#pool.connected;
  }

  /** Each connection and its last state. */
  get connectionStates(): { connection: string; state: ConnectionState }[] {
    return this.#pool.connections.map(({ label, state }) => ({ connection: label, state }));
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
    return checkRedisHealth(this.#pool, this.#scripts, timeoutMs);
  }

  /**
   * Whether any key of `namespace` exists (SCAN of each master, stopping at the first).
   * Not a contract operation: it is neither timed nor published.
   * @throws SR_VALIDATION for a bad namespace, SR_EXECUTOR_CLOSED once closed
   */
  async hasNamespaceKeys(namespace: string): Promise<boolean> {
    if (this.closed) throw new ExecutorClosedError();
    return redisNamespaceHasKeys(this.#pool.client(), namespace, this.#bound);
  }

  /**
   * Deletes every key of `namespace` (SCAN of each master, UNLINK in batches) and returns
   * how many were deleted. Not a contract operation: it is neither timed nor published.
   * @throws SR_VALIDATION for a bad namespace, SR_EXECUTOR_CLOSED once closed
   */
  async deleteNamespaceKeys(namespace: string): Promise<number> {
    if (this.closed) throw new ExecutorClosedError();
    return redisDeleteNamespaceKeys(this.#pool.client(), namespace, this.#bound);
  }

  /**
   * One page of the links of `namespace` (SCAN of each master, GET and TTL per page in one
   * pipeline). Not a contract operation: it is neither timed nor published.
   * @throws SR_VALIDATION for bad arguments, SR_EXECUTOR_CLOSED once closed
   */
  async scanLinks(namespace: string, options?: LinkScanOptions): Promise<LinkScanPage> {
    if (this.closed) throw new ExecutorClosedError();
    return redisScanLinks(this.#pool.client(), namespace, options, this.#bound);
  }

  protected async releaseResources(): Promise<void> {
    // After the switches called before close() (the near cache included) have finished.
    await this.#serially(() => this.#reads.stop());
    await this.#pool.close(this.#closeClients);
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
      await this.#call(this.#pool.client().hset(key, String(podId), state));
    } finally {
      // Read-your-writes: once acknowledged (or failed), no older value is served from here.
      this.#reads.invalidate(key);
    }
  }

  protected async doGetServiceState(
    ns: string,
    svc: string,
    sink?: CacheHitSink,
  ): Promise<Record<number, string>> {
    const key = serviceStateKey(ns, svc);
    const cache = this.#reads.cache;
    if (cache) {
      // A hit costs no promise turn of its own (peek is synchronous).
      const states =
        (this.#reads.peek(cache, key, sink) as Record<number, string> | undefined) ??
        (await this.#reads.read(cache, key, ns, sink, fetchPodStates));
      // A copy: the caller may change what it gets, the cache keeps its own.
      return { ...states };
    }
    // HGETALL by its upper-case name: ioredis' reply transformer is keyed by 'hgetall', so the
    // flat [field, value, ...] reply comes back as is and podStates reads it directly.
    // Building ioredis' object and enumerating it again cost about 2 us per call of the
    // hottest read (measured in bench/). Key routing on a Cluster ignores the case.
    const reply = await this.#call(this.#pool.client().call('HGETALL', key));
    return podStates(reply as unknown[] | Record<string, string>);
  }

  protected async doSetWorkloadState(ns: string, svc: string, state: string): Promise<void> {
    const key = workloadKey(ns, svc);
    try {
      await this.#call(this.#pool.client().set(key, state));
    } finally {
      this.#reads.invalidate(key);
    }
  }

  protected async doGetWorkloadState(
    ns: string,
    svc: string,
    sink?: CacheHitSink,
  ): Promise<string | null> {
    const key = workloadKey(ns, svc);
    const cache = this.#reads.cache;
    if (cache) {
      // A cached null (an absent workload state) is a hit: compare with undefined.
      const hit = this.#reads.peek(cache, key, sink) as string | null | undefined;
      return hit !== undefined ? hit : this.#reads.read(cache, key, ns, sink, fetchWorkloadState);
    }
    return workloadValue(await this.#call(this.#pool.client().get(key)));
  }

  protected async doGetWorkloadStateBatch(
    ns: string,
    svcs: readonly string[],
  ): Promise<Record<string, string>> {
    const keys = svcs.map((svc) => workloadKey(ns, svc));
    return workloadStates(svcs, await this.#call(this.#pool.multiGet(keys, this.#chunk)));
  }

  #linkArgs(ns: string, uid: string, svc: string): [string, string] {
    return [linkKey(ns, uid, svc), linkIndexKey(ns, uid)];
  }

  // A link script; once it is acknowledged (or failed), no older value of the link is served
  // from the near cache (read-your-writes, as for the state writes).
  async #linkScript(
    script: LuaScript,
    ns: string,
    uid: string,
    svc: string,
    args: readonly string[],
  ): Promise<unknown> {
    const keys = this.#linkArgs(ns, uid, svc);
    try {
      return await this.#script(script, keys, args);
    } finally {
      this.#reads.invalidate(keys[0]);
    }
  }

  // The cached link of a link read, or undefined: no cache, links not cached, or the value
  // and TTL read together disagreed (then the operation asks Redis as without a cache). A
  // hit is returned as is, not in a promise: it costs the caller no promise turn.
  #cachedLink(
    key: string,
    ns: string,
    sink: CacheHitSink | undefined,
  ): CachedLink | Promise<CachedLink | undefined> | undefined {
    const cache = this.#reads.cache;
    if (!cache?.links) return undefined;
    return (
      (this.#reads.peek(cache, key, sink) as CachedLink | undefined) ??
      this.#reads.readLink(cache, key, ns, sink)
    );
  }

  protected async doSetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
  ): Promise<number> {
    const script = SCRIPTS.setLinkedPod;
    const reply = await this.#linkScript(script, ns, uid, svc, [
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
    const args = [svc, pod, String(persist)];
    return trySetResult(await this.#linkScript(script, ns, uid, svc, args), pod);
  }

  protected async doSetLinkedPodIfAbsent(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
    persist: number,
    sink?: CacheHitSink,
  ): Promise<number> {
    // A live link: the script would reply the existing pod and change nothing.
    let cached = this.#cachedLink(linkKey(ns, uid, svc), ns, sink);
    if (cached instanceof Promise) cached = await cached;
    if (cached?.value != null) return podOf(cached.value);
    const script = SCRIPTS.setLinkedPodIfAbsent;
    const reply = await this.#linkScript(script, ns, uid, svc, [
      svc,
      String(podId),
      String(persist),
    ]);
    return podOf(stringArray(reply, script, 1)[0]!);
  }

  protected async doGetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    sink?: CacheHitSink,
  ): Promise<number> {
    const key = linkKey(ns, uid, svc);
    let cached = this.#cachedLink(key, ns, sink);
    if (cached instanceof Promise) cached = await cached;
    if (cached) return readLink(key, cached.value);
    return readLink(key, await this.#call(this.#pool.client().get(key)));
  }

  protected async doGetLinkedPodIfPersist(
    ns: string,
    uid: string,
    svc: string,
    sink?: CacheHitSink,
  ): Promise<number> {
    const key = linkKey(ns, uid, svc);
    let cached = this.#cachedLink(key, ns, sink);
    if (cached instanceof Promise) cached = await cached;
    if (cached)
      return cached.value !== null && cached.permanent ? readLink(key, cached.value) : NO_POD;
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
    const keys = uids.map((uid) => linkKey(ns, uid, svc));
    return uidsByPod(uids, await this.#call(this.#pool.multiGet(keys, this.#chunk)));
  }

  protected async doRemoveLinkedPod(ns: string, uid: string, svc: string): Promise<boolean> {
    const reply = await this.#linkScript(SCRIPTS.removeLinkedPod, ns, uid, svc, [svc]);
    return flag(reply, SCRIPTS.removeLinkedPod);
  }

  protected async doRemoveLinkedPodWithId(
    ns: string,
    uid: string,
    svc: string,
    podId: number,
  ): Promise<boolean> {
    const script = SCRIPTS.removeLinkedPodWithId;
    const reply = await this.#linkScript(script, ns, uid, svc, [svc, String(podId)]);
    return flag(reply, script);
  }

  protected async doGetLinkService(ns: string, uid: string): Promise<Record<string, number>> {
    return linkServices(await this.#call(this.#pool.client().hgetall(linkIndexKey(ns, uid))));
  }

  // ---- placement (docs/placement.md) ---------------------------------------------------

  protected doRegisterPod(
    ns: string,
    svc: string,
    podId: number,
    capacity: number,
    ttlSeconds: number,
  ): Promise<void> {
    return this.#placement.register(ns, svc, podId, capacity, ttlSeconds);
  }

  protected doSetDraining(
    ns: string,
    svc: string,
    podId: number,
    draining: boolean,
  ): Promise<void> {
    return this.#placement.setDraining(ns, svc, podId, draining);
  }

  protected doAllocate(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
  ): Promise<Allocation> {
    return this.#placement.allocate(ns, uid, svc, persist, strategy, DEFAULT_PLACEMENT_BATCH);
  }

  protected doRelease(ns: string, uid: string, svc: string): Promise<ReleaseResult> {
    return this.#placement.release(ns, uid, svc);
  }

  protected doPlacement(ns: string, svc: string): Promise<Placement> {
    return this.#placement.placement(ns, svc);
  }

  protected doSweepDeadPods(ns: string, svc: string, batch: number): Promise<SweepResult> {
    return this.#placement.sweep(ns, svc, batch);
  }

  protected doReconcilePlacement(
    ns: string,
    svc: string,
    batch: number,
    full: boolean,
  ): Promise<ReconcileResult> {
    return this.#placement.reconcile(ns, svc, batch, full);
  }
}

/**
 * An executor on Redis (standalone or Cluster) through ioredis clients you own.
 * @example
 * import { Redis } from 'ioredis';
 * const executor = createRedisExecutor({ redis: new Redis() });
 * await executor.loadScripts();
 * await executor.setLinkedPodIfAbsent('default', 'user123', 'room', { podId: 3, persistSeconds: 300 });
 * @throws SR_VALIDATION when the options are invalid
 */
export function createRedisExecutor(options: RedisExecutorOptions): RedisExecutor {
  return new RedisExecutor(options);
}

// The near cache's reads of states (the same HGETALL as without a cache) and workloads.
async function fetchPodStates(client: Redis, key: string): Promise<Record<number, string>> {
  return podStates((await client.call('HGETALL', key)) as unknown[]);
}

async function fetchWorkloadState(client: Redis, key: string): Promise<string | null> {
  return workloadValue(await client.get(key));
}
