import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cli } from './helpers.js';

const url = inject('redisUrl');
let redis: Redis;

beforeAll(() => {
  redis = new Redis(url);
});
afterAll(async () => {
  await redis.quit();
});

const keysOf = async (namespace: string): Promise<string[]> => {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `sf:{${namespace}:*`, 'COUNT', 10_000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found;
};

interface Finding {
  id: string;
  severity: 'info' | 'warning' | 'critical';
  evidence: { metric: string; observed: number; threshold: number }[];
  recommendation: string;
}

describe('doctor on a Redis target', () => {
  it('probes, prints findings with evidence, and exits 1 exactly when one is a warning or worse', async () => {
    const result = await cli([
      'doctor',
      '--redis',
      url,
      '--duration',
      '800ms',
      '--concurrency',
      '32',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    const json = JSON.parse(result.stdout) as {
      source: string;
      namespace: string;
      findings: Finding[];
    };
    expect(json.namespace).toMatch(/^stateful-route-bench-/);
    expect(json.source).toContain('probe');
    // 32 calls in flight on one connection without pipelining: the optimizer has evidence.
    expect(json.findings.length).toBeGreaterThan(0);
    for (const finding of json.findings) {
      expect(finding.evidence.length).toBeGreaterThan(0);
      expect(finding.recommendation).not.toBe('');
    }
    const actionable = json.findings.some((f) => f.severity !== 'info');
    expect(result.code).toBe(actionable ? 1 : 0);
    expect(await keysOf(json.namespace)).toEqual([]);

    const human = await cli(['doctor', '--redis', url, '--duration', '300ms']);
    expect(human.stdout).toContain('findings from a 0.3 s probe');
    expect(human.stdout).toContain('->');
  });
});

describe('tune on a Redis target', () => {
  it('runs every trial and prints the winner, leaving no keys behind', async () => {
    const result = await cli([
      'tune',
      '--redis',
      url,
      '--trial',
      '150ms',
      '--concurrency',
      '16',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      namespace: string;
      winner: { label: string; eligible: boolean };
      trials: { label: string; throughput: number }[];
      speedup: number;
      reason: string;
    };
    expect(json.trials.length).toBeGreaterThanOrEqual(2);
    expect(json.trials.map((t) => t.label)).toContain(json.winner.label);
    expect(json.speedup).toBeGreaterThan(0);
    expect(json.reason).toContain(json.winner.label);
    expect(await keysOf(json.namespace)).toEqual([]);
  });

  it('needs a direct Redis target', async () => {
    const result = await cli(['tune', '--server', 'http://127.0.0.1:9']);
    expect(result.code).toBe(2);
  });
});
