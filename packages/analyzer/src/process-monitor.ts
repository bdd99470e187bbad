/**
 * Figures of the measuring process: event-loop delay, heap and RSS, GC pauses. A slow
 * event loop inflates every latency the client sees, so a report must show it next to them.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { IntervalHistogram } from 'node:perf_hooks';
import type { ProcessSnapshot } from './snapshot.js';

/** Watches the process from `start()` until `stop()`; `reset()` starts a new span. */
export interface ProcessMonitor {
  snapshot(): ProcessSnapshot;
  reset(): void;
  stop(): void;
}

const NS_PER_MS = 1e6;
/** Sampling interval of the delay histogram, in ms. */
const RESOLUTION_MS = 10;
const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Starts watching. The delay histogram samples every 10 ms; its timer is unref'd by Node. */
export function startProcessMonitor(): ProcessMonitor {
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let gcCount = 0;
  let gcTotalMs = 0;
  let gcMaxMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount += 1;
      gcTotalMs += entry.duration;
      if (entry.duration > gcMaxMs) gcMaxMs = entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  let stopped = false;

  return {
    snapshot(): ProcessSnapshot {
      const memory = process.memoryUsage();
      // Before the first 10 ms sample the histogram is empty and reports NaN/huge values.
      const sampled = delay.count > 0;
      // Node records the whole interval between two samples, the sampling interval
      // included: an idle loop reads about 10 ms. The delay is what exceeds the interval.
      const late = (ns: number): number =>
        sampled ? round3(Math.max(0, ns / NS_PER_MS - RESOLUTION_MS)) : 0;
      return {
        eventLoopDelay: {
          p50: late(delay.percentile(50)),
          p99: late(delay.percentile(99)),
          max: late(delay.max),
          mean: late(delay.mean),
        },
        heapUsed: memory.heapUsed,
        rss: memory.rss,
        gc: { count: gcCount, totalMs: round3(gcTotalMs), maxMs: round3(gcMaxMs) },
      };
    },
    reset(): void {
      delay.reset();
      gcCount = 0;
      gcTotalMs = 0;
      gcMaxMs = 0;
    },
    stop(): void {
      if (stopped) return;
      stopped = true;
      delay.disable();
      observer.disconnect();
    },
  };
}
