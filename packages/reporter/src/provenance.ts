/**
 * One-line descriptions of what was measured and how it was set up, shared by every
 * format so that they say the same thing.
 */
import type { AnalysisSnapshot } from '@stateful-route/analyzer';
import { formatSeconds } from './units.js';

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
