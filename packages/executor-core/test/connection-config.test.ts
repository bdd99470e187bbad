// The one reading of Redis targets as people write them (server flags, CLI flags, env).
import { describe, expect, test } from 'vitest';
import {
  namespaceKeyPattern,
  parseClusterSeeds,
  redactRedisUrl,
} from '@stateful-route/executor-core';

describe('parseClusterSeeds', () => {
  test('host:port items, spaces, IPv6 in brackets', () => {
    expect(parseClusterSeeds('10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
  });
  test.each(['host', 'host:0', 'host:65536', ':7000', 'host:7x', ',', ''])(
    'refuses %j with SR_VALIDATION on redisCluster',
    (text) => {
      expect(() => parseClusterSeeds(text)).toThrow(
        expect.objectContaining({ code: 'SR_VALIDATION', field: 'redisCluster' }),
      );
    },
  );
});

test('redactRedisUrl hides the password and never echoes what is not a URL', () => {
  expect(redactRedisUrl('redis://:secret@127.0.0.1:6379/2')).toBe('redis://:***@127.0.0.1:6379/2');
  expect(redactRedisUrl('redis://user:secret@h:1')).not.toContain('secret');
  expect(redactRedisUrl('not a url with secret')).toBe('<invalid url>');
});

test('namespaceKeyPattern matches only its namespace (glob characters escaped)', () => {
  expect(namespaceKeyPattern('default')).toBe('sf:{default:*');
  expect(namespaceKeyPattern('a*b?[c]')).toBe('sf:{a\\*b\\?\\[c\\]:*');
});
