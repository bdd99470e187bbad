import { describe, expect, it } from 'vitest';
import { infoNumber, parseRedisInfo } from '@stateful-route/executor-core';

// Abridged from a Redis 7.2 reply.
const REPLY = [
  '# Server',
  'redis_version:7.2.4',
  'redis_mode:standalone',
  'executable:/usr/local/bin/redis-server',
  '# Clients',
  'connected_clients:7',
  'blocked_clients:0',
  '# Memory',
  'used_memory:1048576',
  'used_memory_human:1.00M',
  'used_memory_peak:2097152',
  'maxmemory:0',
  'maxmemory_policy:noeviction',
  '# Stats',
  'total_commands_processed:1234',
  'instantaneous_ops_per_sec:42',
  '# Commandstats',
  'cmdstat_evalsha:calls=10,usec=120,usec_per_call=12.00,rejected_calls=0,failed_calls=0',
  'cmdstat_CLIENT|LIST:calls=1,usec=5,usec_per_call=5.00',
  '# Keyspace',
  'db0:keys=12,expires=3,avg_ttl=0',
  'db15:keys=1,expires=0,avg_ttl=0,subexpiry=0',
  '',
].join('\r\n');

describe('parseRedisInfo', () => {
  it('reads sections, fields, keyspace and commandstats lines (CRLF line ends)', () => {
    const info = parseRedisInfo(REPLY);
    expect([...info.sections.keys()]).toEqual([
      'server',
      'clients',
      'memory',
      'stats',
      'commandstats',
      'keyspace',
    ]);
    expect(info.sections.get('memory')).toEqual(
      new Map([
        ['used_memory', '1048576'],
        ['used_memory_human', '1.00M'],
        ['used_memory_peak', '2097152'],
        ['maxmemory', '0'],
        ['maxmemory_policy', 'noeviction'],
      ]),
    );
    // A value keeps its own colons.
    expect(info.fields.get('executable')).toBe('/usr/local/bin/redis-server');
    expect(info.keyspace).toEqual(
      new Map([
        ['db0', { keys: 12, expires: 3, avgTtl: 0 }],
        ['db15', { keys: 1, expires: 0, avgTtl: 0 }],
      ]),
    );
    expect(info.commandstats).toEqual(
      new Map([
        ['evalsha', { calls: 10, usec: 120 }],
        ['client|list', { calls: 1, usec: 5 }],
      ]),
    );
  });

  it('reads numbers, and leaves out fields that are missing, empty or not numbers', () => {
    const info = parseRedisInfo(REPLY);
    expect(infoNumber(info, 'used_memory')).toBe(1048576);
    expect(infoNumber(info, 'maxmemory')).toBe(0);
    expect(infoNumber(info, 'total_commands_processed')).toBe(1234);
    expect(infoNumber(info, 'used_memory_human')).toBeUndefined();
    expect(infoNumber(info, 'evicted_keys')).toBeUndefined();
    expect(infoNumber(parseRedisInfo('maxmemory:\n'), 'maxmemory')).toBeUndefined();
  });

  it('reads a reply without headers, and skips lines that are not field:value', () => {
    const info = parseRedisInfo('used_memory:abc\nconnected_clients:3\n:5\nnonsense\ndb1:x=1\n');
    expect([...info.sections.keys()]).toEqual(['']);
    expect(infoNumber(info, 'used_memory')).toBeUndefined();
    expect(infoNumber(info, 'connected_clients')).toBe(3);
    expect(info.fields.has('')).toBe(false);
    expect(info.keyspace.size).toBe(0);
  });
});
