/**
 * A tuned configuration as the code and flags that make it from the start: the options of
 * `createRedisExecutor`, the ioredis options of its connections, a snippet to paste, and the
 * flags of the stateful-route server where it has them.
 */
import type { ScriptTransport } from '@stateful-route/executor-core';

/** The switches `tune()` tries (its `TuneConfiguration`). */
interface Switches {
  scriptTransport: ScriptTransport;
  autoPipelining: boolean;
  connections: number;
  nearCache: boolean;
}

/** How to build an executor in a configuration. */
export interface ExecutorSetup {
  /**
   * The `createRedisExecutor` options it sets (besides `redis`): `scriptTransport`, and
   * `nearCache: {}` (the default sizes) when the near cache is on.
   */
  options: { scriptTransport: ScriptTransport; nearCache?: Record<string, never> };
  /** ioredis options of every connection: auto-pipelining is a client option. */
  clientOptions: { enableAutoPipelining: boolean };
  /** Connections to pass as `redis` (one client, or an array of this many). */
  connections: number;
  /** TypeScript (also plain JavaScript) that builds the executor; reads `REDIS_URL`. */
  paste: string;
  /** The stateful-route server's flags for the switches it has (`--auto-pipelining`). */
  serverFlags: string;
  /** The switches the server has no flag for, and what it runs instead. */
  serverNotes: string[];
}

/** The setup of a configuration (pure). */
export function setupOf(c: Switches): ExecutorSetup {
  const options: ExecutorSetup['options'] = { scriptTransport: c.scriptTransport };
  if (c.nearCache) options.nearCache = {};
  const clientOptions = { enableAutoPipelining: c.autoPipelining };
  const redis =
    c.connections === 1
      ? 'connect()'
      : `[${Array.from({ length: c.connections }, () => 'connect()').join(', ')}]`;
  const paste = [
    "import { Redis } from 'ioredis';",
    "import { createRedisExecutor } from '@stateful-route/executor-core';",
    '',
    `const connect = () => new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: ${c.autoPipelining} });`,
    'const executor = createRedisExecutor({',
    `  redis: ${redis},`,
    '  closeClients: true,',
    `  scriptTransport: '${c.scriptTransport}',`,
    ...(c.nearCache ? ['  nearCache: {},'] : []),
    '});',
  ].join('\n');
  const serverNotes: string[] = [];
  if (c.scriptTransport !== 'evalsha') {
    serverNotes.push(
      `script transport ${c.scriptTransport}: no server flag (the server always calls scripts by SHA, evalsha)`,
    );
  }
  if (c.connections !== 1) {
    serverNotes.push(
      `${c.connections} connections: no server flag (the server starts with 1; POST /v1/optimizations/apply ` +
        'adds a second with auto-pipelining when the enable-autopipelining finding fires)',
    );
  }
  return {
    options,
    clientOptions,
    connections: c.connections,
    paste,
    serverFlags:
      `--auto-pipelining ${c.autoPipelining ? 'on' : 'off'}` +
      ` --near-cache ${c.nearCache ? 'on' : 'off'}`,
    serverNotes,
  };
}
