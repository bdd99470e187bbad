/**
 * How a Redis target is written where people configure it (flags, environment variables):
 * Cluster seed lists and URLs. The server and the CLI read them the same way.
 */
import { ValidationError } from '../errors.js';

/** A Redis Cluster seed node. */
export interface ClusterSeed {
  host: string;
  port: number;
}

/**
 * Reads `host:port,host:port` (spaces around items allowed, `[ipv6]:port` too) into seeds.
 * Every seed names its port: a Cluster's nodes rarely all listen on 6379, and a silent
 * default would point at the wrong process.
 * @throws SR_VALIDATION (field `redisCluster`) for an item that is not host:port, a port
 *   outside 1..65535, or no seed at all
 * @example
 * parseClusterSeeds('10.0.0.1:7000, [::1]:7002'); // [{host:'10.0.0.1',port:7000},{host:'::1',port:7002}]
 */
export function parseClusterSeeds(text: string): ClusterSeed[] {
  const seeds: ClusterSeed[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const colon = item.lastIndexOf(':');
    const host = colon > 0 ? item.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : '';
    const port = colon > 0 ? item.slice(colon + 1) : '';
    if (host === '' || !/^[1-9][0-9]*$/.test(port) || Number(port) > 65535) {
      throw new ValidationError(
        'redisCluster',
        'type',
        'must be comma-separated host:port seeds, e.g. 10.0.0.1:7000,10.0.0.2:7000',
      );
    }
    seeds.push({ host, port: Number(port) });
  }
  if (seeds.length === 0) {
    throw new ValidationError('redisCluster', 'blank', 'must name at least one host:port seed');
  }
  return seeds;
}

/**
 * A Redis URL fit for a log line or a message: the password replaced by `***`, and
 * `<invalid url>` for text that is not a URL (it might hold a password in a form we cannot
 * find).
 */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '<invalid url>';
  }
}
