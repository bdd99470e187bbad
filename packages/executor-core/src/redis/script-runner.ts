/**
 * The link scripts on the wire: loaded once per node (`SCRIPT LOAD`), called by SHA and sent
 * again as text on NOSCRIPT, or always as text with the `eval` transport (the original Go
 * port's way); counted for `stats()` and reported on the script-load and noscript channels.
 */
import { performance } from 'node:perf_hooks';
import {
  noscriptChannel,
  scriptLoadChannel,
  type NoscriptMessage,
  type ScriptLoadMessage,
} from '../diagnostics.js';
import { ScriptError, ValidationError } from '../errors.js';
import type { ScriptTransport } from '../executor.js';
import type { ConnectionPool } from './connection-pool.js';
import { unbounded, type Bound } from './deadline.js';
import type { RedisClient } from './options.js';
import { isNoscript, toExecutorError } from './redis-errors.js';
import { ALL_SCRIPTS, type LuaScript } from './scripts.js';

/** Throws unless `transport` is one of the two. @throws SR_VALIDATION */
export function checkTransport(transport: unknown): asserts transport is ScriptTransport {
  if (transport !== 'evalsha' && transport !== 'eval') {
    throw new ValidationError('scriptTransport', 'range', "must be 'evalsha' or 'eval'");
  }
}

/** @internal The scripts of one Redis executor. */
export class ScriptRunner {
  transport: ScriptTransport;
  /** Whether `loadScripts()` completed (new connections then load them too). */
  loaded = false;
  bySha = 0;
  byText = 0;
  reloads = 0;
  loads = 0;

  constructor(
    private readonly executor: string,
    private readonly pool: ConnectionPool,
    transport: ScriptTransport,
    // The executor's command deadline, around each SCRIPT LOAD (script calls are bounded by
    // the executor as a whole: EVALSHA and, on NOSCRIPT, EVAL).
    private readonly bound: Bound = unbounded,
  ) {
    this.transport = transport;
  }

  /** Loads every script on every connection's node(s). */
  async loadAll(): Promise<void> {
    const seen = new Set<RedisClient>();
    for (const { client } of this.pool.connections) {
      if (seen.has(client)) continue;
      seen.add(client);
      await this.loadOn(client);
    }
    this.loaded = true;
  }

  /** Loads every script on one connection's node(s) (each master of a Cluster). */
  async loadOn(client: RedisClient): Promise<void> {
    await Promise.all(
      this.pool.masters(client).map(async (node) => {
        for (const script of ALL_SCRIPTS) {
          const started = performance.now();
          let sha: unknown;
          try {
            sha = await this.bound(node.script('LOAD', script.source));
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
          this.loads++;
          if (scriptLoadChannel.hasSubscribers) {
            const message: ScriptLoadMessage = {
              executor: this.executor,
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

  /** Whether every master holds every script (SCRIPT EXISTS, one round trip per master). */
  async cached(): Promise<boolean> {
    const shas = ALL_SCRIPTS.map((script) => script.sha);
    const replies = await Promise.all(
      this.pool.masters().map((node) => node.script('EXISTS', ...shas) as Promise<number[]>),
    );
    return replies.every((flags) => flags.every((flag) => flag === 1));
  }

  /** Runs `script` on the next connection; errors come out typed. */
  async run(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const client = this.pool.client();
    if (this.transport === 'eval') {
      this.byText++;
      try {
        return await client.eval(script.source, script.numberOfKeys, ...keys, ...args);
      } catch (error) {
        throw toExecutorError(error, script.name);
      }
    }
    try {
      const reply = await client.evalsha(script.sha, script.numberOfKeys, ...keys, ...args);
      this.bySha++;
      return reply;
    } catch (error) {
      if (!isNoscript(error)) throw toExecutorError(error, script.name);
    }
    // The script cache was flushed (SCRIPT FLUSH, restart, failover): EVAL runs the script
    // and caches it again in one round trip.
    this.reloads++;
    this.byText++;
    if (noscriptChannel.hasSubscribers) {
      const message: NoscriptMessage = {
        executor: this.executor,
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
}
