/**
 * The server under test on one backend, plus raw access to what the backend stored (the
 * memory executor's dump, or the Redis keys of a namespace read with plain commands), so a
 * test can prove that a refused request wrote nothing.
 */
import { createMemoryExecutor, type MemoryExecutor } from '@stateful-route/executor-core';
import { uniqueNamespace } from '@stateful-route/test-redis';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { buildApp, type ServerConfig } from '../../src/index.js';

export type BackendName = 'memory' | 'redis';

export interface ServerHarness {
  backend: BackendName;
  app: FastifyInstance;
  /** A fresh namespace for this harness. */
  ns: string;
  /** Every stored key whose name contains `needle`, with its type and value, sorted. */
  snapshot(needle: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Starts the app on `backend` with `config` (silent logs unless given). */
export async function startHarness(
  backend: BackendName,
  config: Partial<ServerConfig> = {},
): Promise<ServerHarness> {
  const ns = uniqueNamespace('server');
  const base: Partial<ServerConfig> = { logLevel: 'silent', ...config };
  if (backend === 'memory') {
    const executor: MemoryExecutor = createMemoryExecutor();
    const app = await buildApp({ config: base, executor, closeExecutor: true });
    return {
      backend,
      app,
      ns,
      async snapshot(needle) {
        const dump = executor.dump();
        const out: Record<string, unknown> = {};
        for (const key of Object.keys(dump).sort()) {
          if (key.includes(needle)) out[key] = { type: dump[key]!.type, value: dump[key]!.value };
        }
        return out;
      },
      close: () => app.close(),
    };
  }
  const url = inject('redisUrl');
  const app = await buildApp({ config: { ...base, redisUrl: url } });
  const raw = new Redis(url);
  return {
    backend,
    app,
    ns,
    async snapshot(needle) {
      const keys: string[] = [];
      // Glob-escape the needle: ids may hold [ ] * ? \ characters.
      const pattern = `*${needle.replace(/[[\]*?\\]/g, (c) => `\\${c}`)}*`;
      let cursor = '0';
      do {
        const [next, batch] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      const out: Record<string, unknown> = {};
      for (const key of [...new Set(keys)].sort()) {
        const type = await raw.type(key);
        out[key] = { type, value: type === 'hash' ? await raw.hgetall(key) : await raw.get(key) };
      }
      return out;
    },
    async close() {
      await app.close();
      raw.disconnect();
    },
  };
}
