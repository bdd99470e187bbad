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

describe('tune on a Redis target', () => {
  it('runs every trial in rounds, tests the lead, prints the winner to paste, leaving no keys behind', async () => {
    const result = await cli([
      'tune',
      '--redis',
      url,
      '--trial',
      '150ms',
      '--rounds',
      '2',
      '--concurrency',
      '16',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      namespace: string;
      rounds: number;
      alpha: number;
      winner: {
        label: string;
        eligible: boolean;
        configuration: { autoPipelining: boolean; scriptTransport: string; nearCache: boolean };
      };
      fastest: string;
      chosenBy: string;
      lead: { over: string; pValue: number; significant: boolean; leadPercent: number } | null;
      tieBreak: string | null;
      trials: {
        label: string;
        throughput: number;
        rounds: number[];
        spread: { median: number; min: number; max: number; cvPercent: number };
      }[];
      speedup: number;
      reason: string;
      options: { scriptTransport: string; nearCache?: object };
      clientOptions: { enableAutoPipelining: boolean };
      paste: string;
      serverFlags: string;
      serverNotes: string[];
    };
    expect(json.rounds).toBe(2);
    expect(json.alpha).toBe(0.05);
    expect(json.trials.length).toBeGreaterThanOrEqual(2);
    for (const trial of json.trials.filter((t) => t.rounds.length > 0)) {
      expect(trial.rounds).toHaveLength(2);
      expect(trial.spread.min).toBe(Math.min(...trial.rounds));
      expect(trial.spread.max).toBe(Math.max(...trial.rounds));
    }
    expect(json.trials.map((t) => t.label)).toContain(json.winner.label);
    expect(json.trials.map((t) => t.label)).toContain(json.fastest);
    expect(['throughput', 'tie-break', 'baseline']).toContain(json.chosenBy);
    expect(json.tieBreak === null).toBe(json.chosenBy !== 'tie-break');
    if (json.lead) {
      expect(json.lead.pValue).toBeGreaterThanOrEqual(0);
      expect(json.lead.pValue).toBeLessThanOrEqual(1);
      expect(json.trials.map((t) => t.label)).toContain(json.lead.over);
    }
    expect(json.speedup).toBeGreaterThan(0);
    expect(json.reason).toContain(json.winner.label);
    const w = json.winner.configuration;
    expect(json.options.scriptTransport).toBe(w.scriptTransport);
    expect(json.options.nearCache !== undefined).toBe(w.nearCache);
    expect(json.clientOptions.enableAutoPipelining).toBe(w.autoPipelining);
    expect(json.paste).toContain('createRedisExecutor({');
    expect(json.paste).toContain(`scriptTransport: '${w.scriptTransport}'`);
    expect(json.serverFlags).toBe(
      `--auto-pipelining ${w.autoPipelining ? 'on' : 'off'} --near-cache ${w.nearCache ? 'on' : 'off'}`,
    );
    expect(await keysOf(json.namespace)).toEqual([]);

    const human = await cli([
      'tune',
      '--redis',
      url,
      '--trial',
      '100ms',
      '--rounds',
      '1',
      '--concurrency',
      '8',
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/CONFIGURATION +OPS\/S +MIN +MAX +CV/);
    expect(human.stdout).toContain('median of 1 interleaved round;');
    expect(human.stdout).toContain('winner:');
    expect(human.stdout).toContain('To build an executor in this configuration:');
    expect(human.stdout).toContain(
      "import { createRedisExecutor } from '@stateful-route/executor-core';",
    );
    expect(human.stdout).toMatch(/stateful-route-server flags: --auto-pipelining (on|off)/);
  });

  it('rejects a rounds count out of range', async () => {
    const result = await cli(['tune', '--redis', url, '--rounds', '21']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('rounds');
  });

  it('needs a direct Redis target', async () => {
    const result = await cli(['tune', '--server', 'http://127.0.0.1:9']);
    expect(result.code).toBe(2);
  });
});
