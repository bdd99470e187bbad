/**
 * One-line descriptions of what was measured and how it was set up, shared by every
 * format so that they say the same thing.
 */
import type { AnalysisSnapshot } from '@stateful-route/analyzer';
import { formatBytes, formatMs, formatPercent, formatSeconds } from './units.js';

/** `Measured 2026-... to 2026-... (10.0 s), live from executor "bench".` */
export function describeSpan(snapshot: AnalysisSnapshot): string {
  const p = snapshot.provenance;
  const source =
    snapshot.source === 'live'
      ? 'measured in-process'
      : 'read from two scrapes of /metrics (percentiles estimated from histogram buckets)';
  const executor = p.executor ? `, executor "${p.executor}"` : '';
  return `Span ${p.startedAt} to ${p.endedAt} (${formatSeconds(p.durationSeconds)}), ${source}${executor}.`;
}

/** Backend, topology, client options, Node and package versions. */
export function describeSetup(snapshot: AnalysisSnapshot): string {
  const p = snapshot.provenance;
  const parts: string[] = [];
  if (p.backend) parts.push(`backend ${p.backend}${p.topology ? ` (${p.topology})` : ''}`);
  if (p.scriptTransport)
    parts.push(`scripts by ${p.scriptTransport === 'evalsha' ? 'EVALSHA' : 'EVAL'}`);
  if (p.autoPipelining !== null) parts.push(`autopipelining ${p.autoPipelining ? 'on' : 'off'}`);
  if (p.connections !== null)
    parts.push(`${p.connections} connection${p.connections === 1 ? '' : 's'}`);
  if (p.nearCache) {
    parts.push(
      p.nearCache.enabled ? `near cache on (${p.nearCache.maxEntries} entries)` : 'near cache off',
    );
  } else if (p.backend === 'redis') {
    parts.push('near cache off');
  }
  if (p.node) parts.push(`Node ${p.node}`);
  for (const [name, version] of Object.entries(p.packages).sort()) parts.push(`${name} ${version}`);
  return parts.length > 0 ? `Setup: ${parts.join(', ')}.` : 'Setup: unknown.';
}

/**
 * Splits client-observed latency from time spent inside Redis, per call on average:
 * `undefined` without Redis figures or calls.
 */
export function describeRedisShare(snapshot: AnalysisSnapshot): string | undefined {
  const redis = snapshot.redis;
  const calls = snapshot.totals.count;
  if (!redis || calls === 0) return undefined;
  const redisUsec = Object.values(redis.commandstats).reduce((sum, c) => sum + c.usec, 0);
  const clientMs =
    Object.values(snapshot.operations).reduce((sum, o) => sum + o.latency.mean * o.count, 0) /
    calls;
  if (redisUsec === 0 || clientMs === 0) return undefined;
  const perCallUs = redisUsec / calls;
  const inFlight = snapshot.concurrency
    ? ` with up to ${snapshot.concurrency.maxInFlight} calls in flight`
    : '';
  return `Per call, Redis spent ${perCallUs.toFixed(1)} µs executing commands on average, while the client observed ${formatMs(clientMs)} (mean): the other ${formatPercent(1 - perCallUs / 1000 / clientMs)} is network, queueing${inFlight} and client work.`;
}

/**
 * Short remarks on figures that only some snapshots have: near-cache hits per operation,
 * and heap allocation per call of operations timed with `analyzeOperation`.
 */
export function describeOperationExtras(snapshot: AnalysisSnapshot): string[] {
  const lines: string[] = [];
  const cached = Object.entries(snapshot.operations)
    .filter(([, o]) => o.cached > 0)
    .map(([name, o]) => `${name} ${formatPercent(o.cached / o.count)}`);
  if (cached.length > 0) {
    lines.push(`Served from the near cache without a round trip: ${cached.join(', ')} of calls.`);
  }
  const allocation = Object.entries(snapshot.operations)
    .filter(([, o]) => o.allocation !== undefined)
    .map(([name, o]) => `${name} ${formatBytes(o.allocation?.meanBytes ?? 0)}`);
  if (allocation.length > 0) {
    lines.push(
      `Heap allocated per call (signed heapUsed delta; negative when a GC ran during the call): ${allocation.join(', ')}.`,
    );
  }
  return lines;
}
