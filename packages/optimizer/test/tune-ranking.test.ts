import { describe, expect, test } from 'vitest';
import { welchT } from '@stateful-route/analyzer';
import {
  pairedLead,
  rank,
  roundOrder,
  setupOf,
  spreadOf,
  type RankedConfiguration,
} from '@stateful-route/optimizer';
import { reasonOf, type Trial } from '../src/tune.js';

const plain = {
  scriptTransport: 'evalsha',
  autoPipelining: false,
  connections: 1,
  nearCache: false,
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function trial(
  label: string,
  rounds: number[],
  configuration: Partial<RankedConfiguration['configuration']> = {},
): RankedConfiguration {
  return {
    label,
    configuration: { ...plain, ...configuration },
    throughput: median(rounds),
    rounds,
  };
}

// A fixed sequence of noise in [-1, 1] (no Math.random: the test must give the same answer
// every run).
function noise(seed: number, n: number): number[] {
  const out: number[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 16807) % 2147483647;
    out.push((x / 2147483647) * 2 - 1);
  }
  return out;
}

describe('spreadOf', () => {
  test('median, range and coefficient of variation', () => {
    expect(spreadOf([100, 90, 110, 105, 95])).toEqual({
      median: 100,
      min: 90,
      max: 110,
      // sd of 90..110 by 5 = sqrt(250/4) = 7.906; / mean 100
      cvPercent: 7.91,
    });
    expect(spreadOf([42])).toEqual({ median: 42, min: 42, max: 42, cvPercent: 0 });
  });
});

describe('pairedLead', () => {
  test('the p-value is the two-sided Student t of the mean log ratio', () => {
    // logs m-h, m, m+h: sd = h, t = m / (h / sqrt 3); t = 4.302653 is the 0.05 point at 2 df.
    const h = 0.1;
    const m = (4.302653 * h) / Math.sqrt(3);
    const behind = [1000, 1000, 1000];
    const ahead = [m - h, m, m + h].map((l) => 1000 * Math.exp(l));
    const test = pairedLead(ahead, behind, 0.05, 'b');
    expect(test.pValue).toBeCloseTo(0.05, 4);
    expect(test.rounds).toBe(3);
    expect(test.over).toBe('b');
    expect(test.leadPercent).toBeCloseTo((Math.exp(m) - 1) * 100, 1);
    expect(test.minPercent).toBeCloseTo((Math.exp(m - h) - 1) * 100, 1);
    expect(test.maxPercent).toBeCloseTo((Math.exp(m + h) - 1) * 100, 1);
    // Just above the 0.05 point: significant at 0.06, not at 0.04.
    expect(pairedLead(ahead, behind, 0.06).significant).toBe(true);
    expect(pairedLead(ahead, behind, 0.04).significant).toBe(false);
  });

  test('pairing: a steady 5% lead under a drifting machine is significant, unpaired it is not', () => {
    // The machine loses 40% of its speed over the rounds; both configurations feel it alike.
    const machine = [100_000, 90_000, 80_000, 70_000, 60_000];
    const jitter = noise(4_242, 5).map((v) => 1 + v * 0.005);
    const behind = machine;
    const ahead = machine.map((x, i) => x * 1.05 * jitter[i]!);
    const paired = pairedLead(ahead, behind, 0.05);
    expect(paired.significant).toBe(true);
    expect(paired.pValue).toBeLessThan(0.001);
    expect(paired.leadPercent).toBeGreaterThan(4);
    expect(paired.leadPercent).toBeLessThan(6);
    expect(welchT(behind, ahead)!.pValue).toBeGreaterThan(0.5);
  });

  test('fewer than two rounds: no test, never significant', () => {
    const test = pairedLead([200], [100], 0.05);
    expect(test).toMatchObject({ pValue: 1, significant: false, leadPercent: 100, rounds: 1 });
  });

  test('a lag is never a significant lead', () => {
    const test = pairedLead([90, 91, 89, 90], [100, 100, 100, 100], 0.05);
    expect(test.pValue).toBeLessThan(0.001);
    expect(test.significant).toBe(false);
    expect(test.leadPercent).toBeLessThan(0);
  });
});

describe('rank', () => {
  test('a clear winner: significant, chosen by throughput', () => {
    const slow = trial('slow', [100_000, 98_000, 103_000, 99_000, 101_000]);
    const fast = trial('fast', [121_000, 118_000, 125_000, 119_000, 122_000], { nearCache: true });
    const mid = trial('mid', [104_000, 101_000, 106_000, 100_000, 103_000], { connections: 2 });
    const ranking = rank([slow, fast, mid], 0.05, slow);
    expect(ranking.winner).toBe(fast);
    expect(ranking.chosenBy).toBe('throughput');
    expect(ranking.runnerUp).toBe(mid);
    expect(ranking.lead!.over).toBe('mid');
    expect(ranking.lead!.significant).toBe(true);
    expect(ranking.lead!.pValue).toBeLessThan(0.01);
    expect(ranking.lead!.leadPercent).toBeCloseTo(17.5, 0);
    expect(ranking.lead!.minPercent).toBeLessThan(ranking.lead!.maxPercent);
  });

  test('two equal configurations with noise: not significant, the simpler one is chosen', () => {
    const base = [100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000, 100_000];
    const a = noise(12_345, 8);
    const b = noise(98_765, 8);
    // The same throughput, 3% of noise each: the cache may come out ahead on the median.
    const cached = trial(
      'cache',
      base.map((x, i) => x * (1 + 0.03 * a[i]!)),
      { nearCache: true },
    );
    const uncached = trial(
      'no cache',
      base.map((x, i) => x * (1 + 0.03 * b[i]!)),
    );
    const baseline = trial(
      'baseline',
      base.map((x) => x * 0.7),
      { scriptTransport: 'eval' },
    );
    for (const order of [
      [cached, uncached, baseline],
      [uncached, cached, baseline],
    ]) {
      const ranking = rank(order, 0.05, baseline);
      expect(ranking.lead!.significant).toBe(false);
      expect(ranking.lead!.pValue).toBeGreaterThan(0.05);
      expect(ranking.chosenBy).toBe('tie-break');
      // The baseline is significantly slower, so it is not among the tied.
      expect(ranking.tied).not.toContain(baseline);
      expect(ranking.tied).toHaveLength(2);
      expect(ranking.winner).toBe(uncached);
    }
  });

  test('tie-break order: fewer connections, then pipelining off, then evalsha', () => {
    const rounds = [100, 101, 99, 100, 102];
    const two = trial(
      'two',
      rounds.map((x) => x * 1.001),
      { connections: 2 },
    );
    const piped = trial('piped', [...rounds].reverse(), { autoPipelining: true });
    const evalText = trial(
      'eval',
      rounds.map((x, i) => x + (i % 2 ? 0.5 : -0.5)),
      {
        scriptTransport: 'eval',
      },
    );
    const ranking = rank([two, piped, evalText], 0.05);
    expect(ranking.chosenBy).toBe('tie-break');
    expect(ranking.winner).toBe(evalText);
    expect(rank([two, piped], 0.05).winner).toBe(piped);
  });

  test('the baseline, when tied, is kept (no change without evidence)', () => {
    const baseline = trial('baseline', [100, 104, 97, 101, 99], {
      nearCache: true,
      connections: 2,
    });
    const other = trial('other', [101, 100, 99, 103, 98]);
    const ranking = rank([baseline, other], 0.05, baseline);
    expect(ranking.chosenBy).toBe('tie-break');
    expect(ranking.winner).toBe(baseline);
  });

  test('a configuration far below the fastest never ties with it, however noisy the rounds', () => {
    // Three noisy rounds (figures from a run of the optimizer benchmark): the slow one lags
    // in every round, yet the paired test cannot call it at p < 0.05. It is not tied: only
    // configurations within 10% of the fastest's median are.
    const fastest = trial('2 conns, cache', [244_967, 111_559, 219_513], {
      nearCache: true,
      connections: 2,
    });
    const close = trial('pipelining, cache', [204_978, 169_400, 259_900], {
      nearCache: true,
      autoPipelining: true,
    });
    const slow = trial('2 conns, no cache', [34_899, 64_515, 64_959], { connections: 2 });
    expect(pairedLead(fastest.rounds, slow.rounds, 0.05).significant).toBe(false);
    const ranking = rank([slow, close, fastest], 0.05);
    expect(ranking.tied).toEqual([fastest, close]);
    expect(ranking.chosenBy).toBe('tie-break');
    // Of the two tied, the simpler (one connection) wins.
    expect(ranking.winner).toBe(close);
    // Without a close one, the fastest wins on throughput though its lead is not significant.
    const alone = rank([slow, fastest], 0.05);
    expect(alone).toMatchObject({ winner: fastest, chosenBy: 'throughput', tied: [fastest] });
    expect(alone.lead?.significant).toBe(false);
  });

  test('one eligible configuration wins alone, untested', () => {
    const only = trial('only', [5, 6, 7]);
    expect(rank([only], 0.05)).toMatchObject({ winner: only, lead: null, chosenBy: 'throughput' });
    expect(() => rank([], 0.05)).toThrow(RangeError);
  });
});

describe('roundOrder', () => {
  test('alternates forward and backward: over each pair of rounds every position sums alike', () => {
    for (const count of [1, 2, 5, 9]) {
      for (let pass = 0; pass < 12; pass += 2) {
        const forward = roundOrder(count, pass);
        const backward = roundOrder(count, pass + 1);
        expect([...forward].sort((a, b) => a - b)).toEqual(
          Array.from({ length: count }, (_, i) => i),
        );
        for (let c = 0; c < count; c++) {
          expect(forward.indexOf(c) + backward.indexOf(c)).toBe(count - 1);
        }
      }
    }
    expect(roundOrder(3, 0)).toEqual([0, 1, 2]);
    expect(roundOrder(3, 1)).toEqual([2, 1, 0]);
    expect(roundOrder(3, 2)).toEqual([1, 2, 0]);
  });
});

describe('setupOf', () => {
  test('options, client options, paste and server flags of a configuration', () => {
    const setup = setupOf({
      scriptTransport: 'evalsha',
      autoPipelining: true,
      connections: 2,
      nearCache: true,
    });
    expect(setup.options).toEqual({ scriptTransport: 'evalsha', nearCache: {} });
    expect(setup.clientOptions).toEqual({ enableAutoPipelining: true });
    expect(setup.connections).toBe(2);
    expect(setup.paste).toContain('redis: [connect(), connect()],');
    expect(setup.paste).toContain('{ enableAutoPipelining: true }');
    expect(setup.paste).toContain("scriptTransport: 'evalsha',");
    expect(setup.paste).toContain('nearCache: {},');
    expect(setup.serverFlags).toBe('--auto-pipelining on --near-cache on');
    expect(setup.serverNotes).toHaveLength(1);
    expect(setup.serverNotes.join('\n')).toMatch(/2 connections: no server flag/);

    const simple = setupOf(plain as Parameters<typeof setupOf>[0]);
    expect(simple.options).toEqual({ scriptTransport: 'evalsha' });
    expect(simple.paste).toContain('redis: connect(),');
    expect(simple.paste).not.toContain('nearCache');
    expect(simple.serverFlags).toBe('--auto-pipelining off --near-cache off');
    expect(simple.serverNotes).toEqual([]);
    expect(
      setupOf({ ...plain, scriptTransport: 'eval' } as Parameters<typeof setupOf>[0])
        .serverNotes[0],
    ).toMatch(/script transport eval: no server flag/);
  });
});

describe('the reason paragraph', () => {
  function measured(label: string, rounds: number[]): Trial {
    const spread = spreadOf(rounds);
    return {
      label,
      configuration: { ...plain, scriptTransport: 'evalsha' },
      throughput: spread.median,
      p50Ms: 0.5,
      p99Ms: 2,
      p99AtGuardLoadMs: 1.5,
      operations: 1000,
      errors: 0,
      nearCacheHits: 0,
      rounds,
      spread,
      eligible: true,
      verdict: '',
    };
  }
  // Two eligible trials chosen on throughput: `winner` against `other` (the baseline, or the
  // runner-up when the baseline wins).
  function reasonFor(winner: Trial, other: Trial, baselineWins: boolean) {
    const lead = pairedLead(winner.rounds, other.rounds, 0.05, other.label);
    const baseline = baselineWins ? winner : other;
    const reason = reasonOf({
      baseline,
      winner,
      fastest: winner,
      eligible: 2,
      chosenBy: 'throughput',
      lead,
      versusBaseline: baselineWins ? null : lead,
      tied: 0,
      speedup: Math.round((winner.throughput / baseline.throughput) * 100) / 100,
      guard: 1.5,
      guardRate: 40_000,
      rounds: winner.rounds.length,
      alpha: 0.05,
    });
    return { lead, reason };
  }

  // CI run of 2026-11-30: the baseline was fastest by median, the runner-up more than 10%
  // behind, the lead not significant (noisy rounds). The reason must say why no tie-break
  // ran, whichever trial is the fastest.
  test('a baseline kept on throughput with a lead that is not significant says why', () => {
    const baseline = measured('baseline', [26_700, 50_177, 51_448]);
    const runnerUp = measured('runner-up', [31_200, 44_000, 42_900]);
    const { lead, reason } = reasonFor(baseline, runnerUp, true);
    expect(lead.significant).toBe(false);
    expect(reason).toMatch(/^No candidate beat the baseline \(baseline\)/);
    expect(reason).toMatch(/not significant, but no other configuration comes within 10%/);
  });

  test('a candidate winning on throughput with a lead that is not significant says the same', () => {
    const baseline = measured('baseline', [30_000, 31_000, 29_000]);
    const winner = measured('winner', [60_000, 28_000, 58_000]);
    const { lead, reason } = reasonFor(winner, baseline, false);
    expect(lead.significant).toBe(false);
    expect(reason).toMatch(/^winner: /);
    expect(reason).toMatch(/not significant, but no other configuration comes within 10%/);
    expect(reason).toContain('Against the baseline');
  });

  test('a significant lead gives no tie sentence', () => {
    const baseline = measured('baseline', [30_000, 31_000, 29_000, 30_500, 30_200]);
    const winner = measured('winner', [60_000, 61_000, 59_000, 60_500, 60_200]);
    const { lead, reason } = reasonFor(winner, baseline, false);
    expect(lead.significant).toBe(true);
    expect(reason).toMatch(/significant at 0.05/);
    expect(reason).not.toMatch(/comes within 10%/);
  });
});
