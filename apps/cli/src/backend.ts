/**
 * The data operations a command runs, behind one interface with two implementations: the
 * executor on a direct Redis connection, or the server's HTTP API. Commands never know
 * which one they hold; results and error codes are the same.
 */
import {
  OPERATION_CHECKS as CHECKS,
  ALL_OPERATIONS,
  createRedisExecutor,
  ErrorCodes,
  type Allocation,
  type AllocateOptions,
  type OperationName,
  type Placement,
  type PlacementBatchOptions,
  type ReconcileOptions,
  type ReconcileResult,
  type RedisClient,
  type RedisExecutor,
  type RegisterPodOptions,
  type ReleaseResult,
  type StatefulExecutor,
  type SweepResult,
  type LinkWriteOptions,
  type RemoveLinkOptions,
  type RemoveLinkWithIdOptions,
  type TrySetResult,
} from '@stateful-route/executor-core';
import { CliErrorCodes, RemoteError } from './errors.js';
import { ServerClient } from './http-client.js';
import { connectRedis, type ConnectOptions, type Target } from './target.js';

/** The 14 operations of the contract and the placement operations, plus `close()`. */
export interface Backend extends Pick<StatefulExecutor, OperationName> {
  /** `redis` (direct) or `server` (HTTP). */
  readonly kind: 'redis' | 'server';
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}

/** A backend on a direct Redis connection; `executor` is there for bench, doctor and tune. */
export interface RedisBackend extends Backend {
  readonly kind: 'redis';
  readonly executor: RedisExecutor;
  /** The connection (standalone or Cluster), for INFO figures and clean-up. */
  readonly client: RedisClient;
}

/**
 * Opens the backend of a target: connects to Redis once (fails fast) or prepares the HTTP
 * client (the server is first reached by the first call).
 * @throws SR_REDIS_CONNECTION when Redis is unreachable (exit 3)
 */
export async function openBackend(target: Target, options: ConnectOptions): Promise<Backend> {
  if (target.kind === 'server') {
    return new HttpBackend(new ServerClient(target.url, target.token, options.commandTimeoutMs));
  }
  return openRedisBackend(target, options);
}

/** Opens a direct Redis backend. @throws SR_REDIS_CONNECTION (exit 3) */
export async function openRedisBackend(
  target: Exclude<Target, { kind: 'server' }>,
  options: ConnectOptions,
  executorOptions: { name?: string; connectionFactory?: boolean } = {},
): Promise<RedisBackend> {
  const client = await connectRedis(target, options);
  const executor = createRedisExecutor({
    redis: client,
    name: executorOptions.name ?? 'cli',
    closeClients: true,
    ...(executorOptions.connectionFactory ? { connectionFactory: () => client.duplicate() } : {}),
  });
  // Bound methods: the executor keeps its state in private fields, so `this` must be it.
  const operations = Object.fromEntries(
    ALL_OPERATIONS.map((operation) => [operation, executor[operation].bind(executor)]),
  ) as Pick<StatefulExecutor, OperationName>;
  const backend: RedisBackend = {
    ...operations,
    kind: 'redis',
    executor,
    client,
    close: () => executor.close(),
  };
  return backend;
}

const path = (...segments: (string | number)[]): string =>
  segments.map((segment) => encodeURIComponent(String(segment))).join('/');

interface LinkReply {
  previous?: number;
  linked?: boolean;
  current?: number;
  podId?: number;
}

/**
 * The server's `/v1` routes as a backend. Every call first runs executor-core's own checks
 * of the operation's arguments (`OPERATION_CHECKS`) before any I/O, so bad input is refused
 * here with the same `SR_VALIDATION` error (field and rule) as on a direct target, and an id
 * the URL could not even carry (an empty one) never reaches the network.
 */
export class HttpBackend implements Backend {
  readonly kind = 'server' as const;
  readonly #client: ServerClient;

  constructor(client: ServerClient) {
    this.#client = client;
  }

  async close(): Promise<void> {
    // Nothing to release: the HTTP client holds no connection between requests.
  }

  async setServiceState(ns: string, svc: string, podId: number, state: string): Promise<void> {
    CHECKS.setServiceState(ns, svc, podId, state);
    await this.#client.json(
      `/v1/namespaces/${path(ns)}/services/${path(svc)}/pods/${podId}/state`,
      {
        method: 'PUT',
        body: { state },
      },
    );
  }

  async getServiceState(ns: string, svc: string): Promise<Record<number, string>> {
    CHECKS.getServiceState(ns, svc);
    const reply = await this.#client.json<{ pods: Record<string, string> }>(
      `/v1/namespaces/${path(ns)}/services/${path(svc)}/pods`,
    );
    return reply.pods;
  }

  async setWorkloadState(ns: string, svc: string, state: string): Promise<void> {
    CHECKS.setWorkloadState(ns, svc, state);
    await this.#client.json(`/v1/namespaces/${path(ns)}/services/${path(svc)}/workload`, {
      method: 'PUT',
      body: { state },
    });
  }

  async getWorkloadState(ns: string, svc: string): Promise<string | null> {
    CHECKS.getWorkloadState(ns, svc);
    const reply = await this.#client.json<{ state: string | null }>(
      `/v1/namespaces/${path(ns)}/services/${path(svc)}/workload`,
    );
    return reply.state ?? null;
  }

  async getWorkloadStateBatch(
    ns: string,
    services: readonly string[],
  ): Promise<Record<string, string>> {
    CHECKS.getWorkloadStateBatch(ns, services);
    if (services.length === 0) return {};
    const reply = await this.#client.json<{ states: Record<string, string> }>(
      `/v1/namespaces/${path(ns)}/workloads/query`,
      { method: 'POST', body: { services } },
    );
    return reply.states;
  }

  async #link(
    mode: 'set' | 'try' | 'if-absent',
    ns: string,
    uid: string,
    svc: string,
    { podId, persistSeconds }: LinkWriteOptions,
  ): Promise<LinkReply> {
    return this.#client.json<LinkReply>(
      `/v1/namespaces/${path(ns)}/users/${path(uid)}/links/${path(svc)}`,
      {
        method: 'PUT',
        body: { podId, persistSeconds, mode },
      },
    );
  }

  async setLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    options: LinkWriteOptions,
  ): Promise<number> {
    CHECKS.setLinkedPod(ns, uid, svc, options);
    const reply = await this.#link('set', ns, uid, svc, options);
    return expectNumber(reply.previous, 'previous');
  }

  async trySetLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    options: LinkWriteOptions,
  ): Promise<TrySetResult> {
    CHECKS.trySetLinkedPod(ns, uid, svc, options);
    const reply = await this.#link('try', ns, uid, svc, options);
    return {
      linked: reply.linked === true,
      current: expectNumber(reply.current, 'current'),
      previous: expectNumber(reply.previous, 'previous'),
    };
  }

  async setLinkedPodIfAbsent(
    ns: string,
    uid: string,
    svc: string,
    options: LinkWriteOptions,
  ): Promise<number> {
    CHECKS.setLinkedPodIfAbsent(ns, uid, svc, options);
    const reply = await this.#link('if-absent', ns, uid, svc, options);
    return expectNumber(reply.podId, 'podId');
  }

  async #getLink(ns: string, uid: string, svc: string, persistentOnly: boolean): Promise<number> {
    const reply = await this.#client.json<{ podId: number }>(
      `/v1/namespaces/${path(ns)}/users/${path(uid)}/links/${path(svc)}`,
      { query: { persistentOnly: persistentOnly ? 'true' : undefined } },
    );
    return expectNumber(reply.podId, 'podId');
  }

  async getLinkedPod(ns: string, uid: string, svc: string): Promise<number> {
    CHECKS.getLinkedPod(ns, uid, svc);
    return this.#getLink(ns, uid, svc, false);
  }

  async getLinkedPodIfPersist(ns: string, uid: string, svc: string): Promise<number> {
    CHECKS.getLinkedPodIfPersist(ns, uid, svc);
    return this.#getLink(ns, uid, svc, true);
  }

  async batchGetLinkedPod(
    ns: string,
    uids: readonly string[],
    svc: string,
  ): Promise<Record<number, string[]>> {
    CHECKS.batchGetLinkedPod(ns, uids, svc);
    if (uids.length === 0) return {};
    const reply = await this.#client.json<{ pods: Record<string, string[]> }>(
      `/v1/namespaces/${path(ns)}/services/${path(svc)}/links/query`,
      { method: 'POST', body: { uids } },
    );
    return reply.pods;
  }

  async removeLinkedPod(
    ns: string,
    uid: string,
    svc: string,
    options?: RemoveLinkOptions,
  ): Promise<boolean> {
    CHECKS.removeLinkedPod(ns, uid, svc, options);
    const reply = await this.#client.json<{ removed: boolean }>(
      `/v1/namespaces/${path(ns)}/users/${path(uid)}/links/${path(svc)}`,
      { method: 'DELETE', query: { keepSeconds: options?.keepSeconds } },
    );
    return reply.removed === true;
  }

  async removeLinkedPodWithId(
    ns: string,
    uid: string,
    svc: string,
    options: RemoveLinkWithIdOptions,
  ): Promise<boolean> {
    CHECKS.removeLinkedPodWithId(ns, uid, svc, options);
    const reply = await this.#client.json<{ removed: boolean }>(
      `/v1/namespaces/${path(ns)}/users/${path(uid)}/links/${path(svc)}`,
      { method: 'DELETE', query: { keepSeconds: options.keepSeconds, podId: options.podId } },
    );
    return reply.removed === true;
  }

  async getLinkService(ns: string, uid: string): Promise<Record<string, number>> {
    CHECKS.getLinkService(ns, uid);
    const reply = await this.#client.json<{ links: Record<string, number> }>(
      `/v1/namespaces/${path(ns)}/users/${path(uid)}/links`,
    );
    return reply.links;
  }

  // Placement (docs/placement.md): the server's `.../pods/:podId/...`, `.../allocations`,
  // `.../placement`, `.../sweep` and `.../reconcile` routes.

  #service(ns: string, svc: string): string {
    return `/v1/namespaces/${path(ns)}/services/${path(svc)}`;
  }

  async registerPod(
    ns: string,
    svc: string,
    podId: number,
    options: RegisterPodOptions,
  ): Promise<void> {
    CHECKS.registerPod(ns, svc, podId, options);
    await this.#client.json(`${this.#service(ns, svc)}/pods/${podId}/registration`, {
      method: 'PUT',
      body: { capacity: options.capacity, ttlSeconds: options.ttlSeconds },
    });
  }

  async drainPod(ns: string, svc: string, podId: number): Promise<void> {
    CHECKS.drainPod(ns, svc, podId);
    await this.#client.json(`${this.#service(ns, svc)}/pods/${podId}/drain`, { method: 'POST' });
  }

  async undrainPod(ns: string, svc: string, podId: number): Promise<void> {
    CHECKS.undrainPod(ns, svc, podId);
    await this.#client.json(`${this.#service(ns, svc)}/pods/${podId}/drain`, {
      method: 'DELETE',
    });
  }

  /** @throws SR_NO_CAPACITY (the server's 409), as on a direct target */
  async allocate(
    ns: string,
    uid: string,
    svc: string,
    options: AllocateOptions,
  ): Promise<Allocation> {
    CHECKS.allocate(ns, uid, svc, options);
    let reply: Partial<Allocation>;
    try {
      reply = await this.#client.json<Partial<Allocation>>(
        `${this.#service(ns, svc)}/allocations`,
        {
          method: 'POST',
          body: { uid, persistSeconds: options.persistSeconds, strategy: options.strategy },
        },
      );
    } catch (error) {
      // 409 is this route's "no room": whatever code a proxy left on it, the caller sees the
      // executor's SR_NO_CAPACITY (and its exit code), as on a direct target.
      if (
        error instanceof RemoteError &&
        error.status === 409 &&
        error.code !== ErrorCodes.NO_CAPACITY
      ) {
        throw new RemoteError(
          409,
          ErrorCodes.NO_CAPACITY,
          `no live, non-draining pod of service ${svc} has free capacity (the server answered 409: ${error.message})`,
        );
      }
      throw error;
    }
    return {
      podId: expectNumber(reply.podId, 'podId'),
      created: expectBoolean(reply.created, 'created'),
      load: reply.load === null ? null : expectNumber(reply.load, 'load'),
      capacity: reply.capacity === null ? null : expectNumber(reply.capacity, 'capacity'),
    };
  }

  async release(ns: string, uid: string, svc: string): Promise<ReleaseResult> {
    CHECKS.release(ns, uid, svc);
    const reply = await this.#client.json<Partial<ReleaseResult>>(
      `${this.#service(ns, svc)}/allocations/${path(uid)}`,
      { method: 'DELETE' },
    );
    return {
      released: expectBoolean(reply.released, 'released'),
      podId: expectNumber(reply.podId, 'podId'),
    };
  }

  async placement(ns: string, svc: string): Promise<Placement> {
    CHECKS.placement(ns, svc);
    const reply = await this.#client.json<Partial<Placement>>(
      `${this.#service(ns, svc)}/placement`,
    );
    if (typeof reply.pods !== 'object' || reply.pods === null) {
      throw new RemoteError(200, CliErrorCodes.REMOTE, "the server's reply has no object 'pods'");
    }
    return { pods: reply.pods };
  }

  async sweepDeadPods(
    ns: string,
    svc: string,
    options?: PlacementBatchOptions,
  ): Promise<SweepResult> {
    CHECKS.sweepDeadPods(ns, svc, options);
    const reply = await this.#client.json<Partial<SweepResult>>(`${this.#service(ns, svc)}/sweep`, {
      method: 'POST',
      body: { batch: options?.batch },
    });
    return {
      swept: expectNumber(reply.swept, 'swept'),
      released: expectNumber(reply.released, 'released'),
    };
  }

  async reconcilePlacement(
    ns: string,
    svc: string,
    options?: ReconcileOptions,
  ): Promise<ReconcileResult> {
    CHECKS.reconcilePlacement(ns, svc, options);
    const reply = await this.#client.json<Partial<ReconcileResult>>(
      `${this.#service(ns, svc)}/reconcile`,
      { method: 'POST', body: { batch: options?.batch, full: options?.full } },
    );
    return {
      checked: expectNumber(reply.checked, 'checked'),
      released: expectNumber(reply.released, 'released'),
      confirmed: expectNumber(reply.confirmed, 'confirmed'),
      adopted: expectNumber(reply.adopted, 'adopted'),
    };
  }
}

function expectBoolean(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new RemoteError(200, CliErrorCodes.REMOTE, `the server's reply has no boolean '${field}'`);
}

function expectNumber(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value)) return Number(value);
  throw new RemoteError(200, CliErrorCodes.REMOTE, `the server's reply has no integer '${field}'`);
}
