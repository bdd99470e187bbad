import { parseRedisInfo } from '@stateful-route/executor-core';
import { describe, expect, it } from 'vitest';
import { nodeInfoOf } from '../src/redis-info.js';

const parseInfo = (text: string) => nodeInfoOf(parseRedisInfo(text));

describe('nodeInfoOf', () => {
  it('reads the figures and the keyspace lines of an INFO reply (CRLF line ends)', () => {
    const reply = [
      '# Clients',
      'connected_clients:7',
      '# Memory',
      'used_memory:1048576',
      'used_memory_human:1.00M',
      'maxmemory:0',
      '# Stats',
      'instantaneous_ops_per_sec:42',
      '# Keyspace',
      'db0:keys=12,expires=3,avg_ttl=0',
      'db15:keys=1,expires=0,avg_ttl=0',
      '',
    ].join('\r\n');
    const info = parseInfo(reply);
    expect(info).toEqual({
      usedMemory: 1048576,
      maxmemory: 0,
      connectedClients: 7,
      opsPerSec: 42,
      keys: new Map([
        ['db0', 12],
        ['db15', 1],
      ]),
    });
  });

  it('leaves out fields that are missing or not numbers', () => {
    const info = parseInfo('used_memory:abc\r\nconnected_clients:3\r\n');
    expect(info.usedMemory).toBeUndefined();
    expect(info.maxmemory).toBeUndefined();
    expect(info.connectedClients).toBe(3);
    expect(info.keys.size).toBe(0);
  });
});
