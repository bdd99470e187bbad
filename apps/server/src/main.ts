#!/usr/bin/env node
/**
 * The `stateful-route-server` bin: reads the configuration, builds the app, listens, and
 * shuts down gracefully on SIGTERM or SIGINT (stop accepting, finish in-flight requests,
 * close the executor and Redis, exit 0). A bad configuration exits with code 2; `--help` and
 * `--version` print and exit 0. With `--workers` above 1 the process is a node:cluster primary
 * (workers.ts) and each worker it forks runs this same file as a single server.
 */
import cluster from 'node:cluster';
import { buildApp } from './app.js';
import { WORKER_ENV } from './cluster-metrics.js';
import { loadConfig, USAGE, type LoadedConfig } from './config.js';
import { ConfigError } from './errors.js';
import { SERVER_VERSION } from './version.js';
import { runPrimary } from './workers.js';

/** How long in-flight requests get to finish after a signal before the process gives up. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `stateful-route-server: ${error.message} (${error.code})\nRun stateful-route-server --help for the options.\n`,
    );
    process.exit(2);
  }
  if (loaded.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (loaded.version) {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return;
  }
  const { config } = loaded;
  if (config.workers > 1 && cluster.isPrimary) {
    // The workers get a little longer than their own grace period to exit on their own.
    process.exit(await runPrimary(config, { graceMs: SHUTDOWN_GRACE_MS + 2000 }));
  }
  // One process sweeps placement: the single server, or worker 1 of `--workers` (its slot
  // survives restarts). Sweeps are compare-and-delete, so more would be safe, only wasteful.
  const sweepPlacement = !cluster.isWorker || process.env[WORKER_ENV] === '1';
  const app = await buildApp({ config, sweepPlacement });

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // A worker hears Ctrl-C (the whole process group) and then the primary's SIGTERM: the
      // primary, which escalates on a second signal of its own, decides.
      if (cluster.isWorker) return;
      app.log.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    stopping = true;
    app.log.info(
      { signal },
      'shutting down: refusing new connections, finishing in-flight requests',
    );
    const timer = setTimeout(() => {
      app.log.error(`shutdown took longer than ${SHUTDOWN_GRACE_MS} ms: exiting`);
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    app.close().then(
      () => {
        app.log.info('shut down cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    app.log.error({ err: error }, `cannot listen on ${config.host}:${config.port}`);
    await app.close().catch(() => {});
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`stateful-route-server: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
