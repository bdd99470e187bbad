/**
 * The executor's Redis connections: the given ones and those it made itself
 * (`setConnectionCount`), spread over round-robin, their state reported on the connection
 * channel, and the fast failure while Redis refuses a reconnect (credentials).
 */
import type { Redis } from 'ioredis';
import {
  CONNECTION_STATES,
  connectionChannel,
  type ConnectionMessage,
  type ConnectionState,
} from '../diagnostics.js';
import { AuthError } from '../errors.js';
import { isCluster, type RedisClient } from './options.js';
import { toExecutorError } from './redis-errors.js';

/** One connection of the pool. */
export interface Connection {
  readonly client: RedisClient;
  /** `main`, `pool-1`, ...: the `connection` of connection messages. */
  readonly label: string;
  /** Made by the executor (quit when dropped), or given by the caller. */
  readonly owned: boolean;
  state: ConnectionState;
  detach: () => void;
}

/** @internal The connections of one Redis executor. */
export class ConnectionPool {
  readonly connections: Connection[] = [];
  /** Whether the connections are Cluster clients. */
  readonly cluster: boolean;
  /** Reconnection attempts seen, for `stats()`. */
  reconnects = 0;
  #next = 0;
  // The last refusal of a reconnect by Redis (AUTH or its ready check), until one is ready.
  #authFailure: AuthError | undefined;

  constructor(
    private readonly executor: string,
    clients: readonly RedisClient[],
  ) {
    this.cluster = isCluster(clients[0]!);
    clients.forEach((client, i) => this.attach(client, i === 0 ? 'main' : `pool-${i}`, false));
  }

  /** The first connection: the near cache's tracker, the scripts' and health check's anchor. */
  get first(): RedisClient {
    return this.connections[0]!.client;
  }

  /** Whether every connection is ready. */
  get connected(): boolean {
    return this.connections.every(({ client }) => client.status === 'ready');
  }

  /** Whether ioredis auto-pipelining is on (read from the first connection). */
  get autoPipelining(): boolean {
    return Boolean(this.connections[0]?.client.options.enableAutoPipelining);
  }

  /**
   * Turns ioredis auto-pipelining on or off on every connection at run time (ioredis reads
   * the option on each command, so the caller's client options are changed: they are the
   * only switch ioredis has).
   */
  set autoPipelining(enabled: boolean) {
    for (const { client } of this.connections) client.options.enableAutoPipelining = enabled;
  }

  attach(client: RedisClient, label: string, owned: boolean): void {
    const connection: Connection = {
      client,
      label,
      owned,
      state: client.status === 'ready' ? 'ready' : 'connect',
      detach: () => {},
    };
    const handlers = CONNECTION_STATES.map((state) => {
      const handler = (error?: { code?: unknown }) => {
        connection.state = state;
        if (state === 'reconnecting') this.reconnects++;
        else if (state === 'ready') this.#authFailure = undefined;
        else if (state === 'error') {
          // A reconnect refused by Redis (changed password, ACL): calls fail at once with
          // SR_REDIS_AUTH until a connection is ready again, instead of each waiting in the
          // offline queue for the next attempt (up to the command timeout).
          const typed = toExecutorError(error);
          if (typed instanceof AuthError) this.#authFailure = typed;
        }
        if (connectionChannel.hasSubscribers) {
          const message: ConnectionMessage = {
            executor: this.executor,
            state,
            connection: label,
          };
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
    this.connections.push(connection);
  }

  /** The next connection, round-robin. @throws SR_REDIS_AUTH while Redis refuses it */
  client(): RedisClient {
    const connections = this.connections;
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

  /**
   * Grows to `count` connections with `factory` (each new one handed to `added`, e.g. to load
   * the scripts), or shrinks by quitting owned connections; given ones are never dropped.
   */
  async resize(
    count: number,
    factory: (() => RedisClient) | undefined,
    added: (client: RedisClient) => Promise<void>,
  ): Promise<void> {
    const autoPipelining = this.autoPipelining;
    while (this.connections.length < count && factory) {
      const client = factory();
      client.options.enableAutoPipelining = autoPipelining;
      this.attach(client, `pool-${this.connections.length}`, true);
      await added(client);
    }
    while (this.connections.length > count && this.connections.at(-1)!.owned) {
      const connection = this.connections.pop()!;
      connection.detach();
      // With auto-pipelining, calls already made may still sit in the client's pipeline
      // queue, and QUIT (never auto-pipelined) would overtake them: a PING queued behind
      // them resolves once they have been written and answered.
      await connection.client.ping().catch(() => {});
      await quit(connection.client);
    }
  }

  /**
   * Values of keys in different slots, on the next connection. Standalone: MGET in chunks of
   * `chunk` keys. Cluster: one GET per key, all sent at once (an MGET across slots fails with
   * CROSSSLOT); with auto-pipelining ioredis groups them per node. Errors are ioredis' own.
   */
  async multiGet(keys: readonly string[], chunk: number): Promise<(string | null)[]> {
    const client = this.client();
    if (this.cluster) return Promise.all(keys.map((key) => client.get(key)));
    if (keys.length <= chunk) return client.mget(keys as string[]);
    const chunks: Promise<(string | null)[]>[] = [];
    for (let i = 0; i < keys.length; i += chunk) chunks.push(client.mget(keys.slice(i, i + chunk)));
    return (await Promise.all(chunks)).flat();
  }

  /** Detaches every connection; quits the owned ones, and the given ones when asked. */
  async close(closeGiven: boolean): Promise<void> {
    const connections = this.connections.splice(0);
    for (const connection of connections) connection.detach();
    await Promise.all(connections.filter((c) => c.owned || closeGiven).map((c) => quit(c.client)));
  }

  /** The masters to run a per-node command on (each master of a Cluster, else the first). */
  masters(client: RedisClient = this.first): Redis[] {
    return isCluster(client) ? client.nodes('master') : [client];
  }
}

async function quit(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
