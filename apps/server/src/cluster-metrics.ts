/**
 * `/metrics` across the workers of `--workers N`: the worker that receives a scrape asks the
 * primary over the cluster IPC channel; the primary asks every serving worker for its
 * registry (`getMetricsAsJSON()`), sums them with prom-client's cluster aggregation
 * (`AggregatorRegistry.aggregate`) and hands the exposition back. Counters and histograms are
 * summed; each gauge is aggregated as `GAUGE_AGGREGATION` says (prom-client's own choice for
 * its process metrics). A worker that does not answer within `CLUSTER_METRICS_TIMEOUT_MS`
 * fails the whole scrape: a partial sum would look like a counter reset to Prometheus.
 */
import cluster, { type Worker } from 'node:cluster';
import {
  DEFAULT_METRIC_PREFIX,
  EXECUTOR_METRICS,
  type ExecutorMetric,
} from '@stateful-route/executor-core';
import { AggregatorRegistry, type Aggregator, type Registry } from 'prom-client';

// One worker's registry, as `getMetricsAsJSON()` gives it and the aggregation takes it.
type RegistryJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** How long the primary waits for every worker's metrics before the scrape fails. */
export const CLUSTER_METRICS_TIMEOUT_MS = 5000;

/**
 * Set in the environment of the workers the server's primary forks: only those speak this
 * protocol (a cluster of someone else's making that calls `buildApp()` keeps per-process
 * metrics).
 */
export const WORKER_ENV = 'STATEFUL_ROUTE_WORKER_ID';

/** How prom-client combines one metric's samples across workers. */
export type Aggregation = Aggregator;

/**
 * The aggregation of every gauge of the executor metrics (counters and histograms are summed).
 * prom-client's process and Node.js gauges keep the aggregator prom-client gives them (memory
 * and handles summed, event-loop lag averaged, start time omitted, version first).
 */
export const GAUGE_AGGREGATION: Readonly<Partial<Record<ExecutorMetric, Aggregation>>> =
  Object.freeze({
    // Operations in flight in the whole server.
    operationsInFlight: 'sum',
    // The mean of the workers' ratios (each worker's since its start; not weighted by calls).
    cacheHitRatio: 'average',
    // Connections in each state, over all the workers' executors.
    connectionStatus: 'sum',
    // Every worker reads INFO from the same Redis nodes at scrape time: one reading, not N.
    redisUsedMemory: 'max',
    redisMaxmemory: 'max',
    redisConnectedClients: 'max',
    redisOpsPerSecond: 'max',
    redisKeys: 'max',
  });

const AGGREGATION_BY_NAME = new Map<string, Aggregation>(
  Object.entries(GAUGE_AGGREGATION).map(([kind, how]) => [
    `${DEFAULT_METRIC_PREFIX}${EXECUTOR_METRICS[kind as ExecutorMetric]}`,
    how,
  ]),
);

// The IPC messages. `sr` tells them apart from other users of the channel.
const SCRAPE = 'stateful-route:metrics-scrape'; // worker -> primary: a scrape arrived
const SCRAPED = 'stateful-route:metrics-scraped'; // primary -> worker: the exposition
const COLLECT = 'stateful-route:metrics-collect'; // primary -> worker: your registry, please
const COLLECTED = 'stateful-route:metrics-collected'; // worker -> primary: here it is

interface Message {
  sr: string;
  id: number;
  text?: string;
  error?: string;
  metrics?: RegistryJson;
}

function isMessage(value: unknown): value is Message {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Message).sr === 'string' &&
    typeof (value as Message).id === 'number'
  );
}

/** A worker's view of the cluster's metrics. */
export interface WorkerMetrics {
  /**
   * The exposition of every serving worker's registry, aggregated.
   * @throws Error when the primary or a worker does not answer in time
   */
  scrape(): Promise<string>;
  /** Stops answering the primary (the worker is closing). */
  close(): void;
}

/**
 * In a worker forked by the server's primary: answers the primary's requests for `registry`
 * and returns the way to scrape the whole cluster. Elsewhere: null (serve `registry` alone).
 */
export function workerMetrics(registry: Registry): WorkerMetrics | null {
  if (!cluster.isWorker || process.env[WORKER_ENV] === undefined || !process.send) return null;
  const send = (message: Message): void => {
    // The channel closes when the primary goes; the worker then exits (node:cluster).
    if (process.connected) process.send!(message);
  };
  let nextId = 0;
  const pending = new Map<number, (message: Message) => void>();
  const onMessage = (message: unknown): void => {
    if (!isMessage(message)) return;
    if (message.sr === COLLECT) {
      registry.getMetricsAsJSON().then(
        (metrics) => send({ sr: COLLECTED, id: message.id, metrics }),
        (error: unknown) => send({ sr: COLLECTED, id: message.id, error: String(error) }),
      );
    } else if (message.sr === SCRAPED) {
      pending.get(message.id)?.(message);
    }
  };
  process.on('message', onMessage);
  return {
    scrape() {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        // The primary's own deadline, plus time for the answer to come back.
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error('the primary process did not answer'));
        }, CLUSTER_METRICS_TIMEOUT_MS + 1000);
        pending.set(id, (message) => {
          clearTimeout(timer);
          pending.delete(id);
          if (typeof message.text === 'string') resolve(message.text);
          else reject(new Error(message.error ?? 'no metrics'));
        });
        send({ sr: SCRAPE, id });
      });
    },
    close() {
      process.off('message', onMessage);
    },
  };
}

/**
 * In the primary: answers the workers' scrapes. `serving()` lists the workers whose metrics
 * make the sum (those listening); a worker that exits while asked fails the scrape at once.
 * Returns a function that stops it.
 */
export function serveClusterMetrics(
  serving: () => Iterable<Worker>,
  timeoutMs = CLUSTER_METRICS_TIMEOUT_MS,
): () => void {
  let nextId = 0;
  // Per collection: the workers still to answer, and what to do with an answer.
  const collections = new Map<
    number,
    { waiting: Set<Worker>; answer: (worker: Worker, message: Message) => void }
  >();

  const collect = (workers: Worker[]): Promise<RegistryJson[]> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const waiting = new Set(workers);
      const results: RegistryJson[] = [];
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        collections.delete(id);
        if (error) reject(error);
        else resolve(results);
      };
      const timer = setTimeout(() => {
        const late = [...waiting].map((w) => `worker ${w.id} (pid ${w.process.pid})`).join(', ');
        finish(new Error(`${late} did not hand over its metrics within ${timeoutMs} ms`));
      }, timeoutMs);
      collections.set(id, {
        waiting,
        answer(worker, message) {
          if (!waiting.delete(worker)) return;
          if (message.metrics === undefined) {
            finish(new Error(`worker ${worker.id}: ${message.error ?? 'no metrics'}`));
            return;
          }
          results.push(message.metrics);
          if (waiting.size === 0) finish();
        },
      });
      if (waiting.size === 0) {
        finish();
        return;
      }
      for (const worker of waiting) worker.send({ sr: COLLECT, id } satisfies Message);
    });

  const scrape = async (): Promise<string> => {
    const perWorker = await collect([...serving()]);
    for (const metrics of perWorker) {
      for (const metric of metrics) {
        const how = AGGREGATION_BY_NAME.get(metric.name);
        if (how !== undefined && String(metric.type) === 'gauge') metric.aggregator = how;
      }
    }
    return AggregatorRegistry.aggregate(perWorker).metrics();
  };

  const onMessage = (worker: Worker, message: unknown): void => {
    if (!isMessage(message)) return;
    if (message.sr === COLLECTED) {
      collections.get(message.id)?.answer(worker, message);
    } else if (message.sr === SCRAPE) {
      const reply = (answer: Omit<Message, 'sr' | 'id'>): void => {
        if (worker.isConnected()) worker.send({ sr: SCRAPED, id: message.id, ...answer });
      };
      scrape().then(
        (text) => reply({ text }),
        (error: unknown) => reply({ error: (error as Error).message }),
      );
    }
  };
  const onExit = (worker: Worker): void => {
    for (const { answer } of collections.values())
      answer(worker, { sr: COLLECTED, id: -1, error: 'exited during the scrape' });
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  return () => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
  };
}
