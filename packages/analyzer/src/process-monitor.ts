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
const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Starts watching. The delay histogram samples every 10 ms; its timer is unref'd by Node. */
export function startProcessMonitor(): ProcessMonitor {
  const delay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
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
      return {
        eventLoopDelay: {
          p50: sampled ? round3(delay.percentile(50) / NS_PER_MS) : 0,
          p99: sampled ? round3(delay.percentile(99) / NS_PER_MS) : 0,
          max: sampled ? round3(delay.max / NS_PER_MS) : 0,
          mean: sampled ? round3(delay.mean / NS_PER_MS) : 0,
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
