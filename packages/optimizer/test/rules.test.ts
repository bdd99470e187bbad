import { describe, expect, test } from 'vitest';
import { DEFAULT_THRESHOLDS, evaluate, type Finding } from '@stateful-route/optimizer';
import { ZERO_STATS, description, redisFigures, snapshot } from './fixtures.js';

const ids = (findings: Finding[]) => findings.map((f) => f.id);
const quietOps = { getServiceState: { count: 100 }, setServiceState: { count: 100 } };

describe('script transport', () => {
  test('fires on the EVAL transport, with an action', () => {
    const findings = evaluate({
      snapshot: snapshot(quietOps, { executorStats: { ...ZERO_STATS, scriptCallsByText: 500 } }),
      description: description({ scriptTransport: 'eval' }),
    });
    const finding = findings.find((f) => f.id === 'script-transport')!;
    expect(finding.severity).toBe('warning');
    expect(finding.action).toEqual(expect.objectContaining({ id: 'preload-scripts', safe: true }));
    expect(finding.evidence[0]).toMatchObject({ observed: 0, threshold: 0.8, unit: 'ratio' });
  });
  test('fires when the hit ratio is below 0.8 with evalsha', () => {
    const stats = { ...ZERO_STATS, scriptCallsBySha: 79, scriptCallsByText: 21 };
    expect(
      ids(evaluate({ snapshot: snapshot(quietOps), description: description(), stats })),
    ).toContain('script-transport');
  });
  test('quiet at 0.8 and above, or with too few calls to judge', () => {
    const at = { ...ZERO_STATS, scriptCallsBySha: 80, scriptCallsByText: 20 };
    const few = { ...ZERO_STATS, scriptCallsBySha: 1, scriptCallsByText: 9 };
    for (const stats of [at, few]) {
      expect(
        ids(evaluate({ snapshot: snapshot(quietOps), description: description(), stats })),
      ).not.toContain('script-transport');
    }
  });
});

describe('auto-pipelining', () => {
  const busy = (meanInFlight: number, serverUsec: number) =>
    snapshot(
      {
        getServiceState: { count: 10_000, mean: 1 },
        setLinkedPodIfAbsent: { count: 10_000, mean: 1 },
      },
      {
        concurrency: { maxInFlight: 64, meanInFlight },
        redis: redisFigures({
          hgetall: { calls: 10_000, usec: serverUsec },
          evalsha: { calls: 10_000, usec: serverUsec },
        }),
      },
    );
  test('enable: fires with many in flight and round trips dominating', () => {
    // 20 000 calls x 1 ms = 20 s seen by callers, 2 x 0.5 s inside Redis: 95% outside.
    const findings = evaluate({ snapshot: busy(40, 500_000), description: description() });
    const finding = findings.find((f) => f.id === 'enable-autopipelining')!;
    expect(finding.severity).toBe('warning');
    expect(finding.action?.id).toBe('enable-autopipelining');
    expect(finding.evidence.map((e) => e.metric)).toEqual([
      'mean calls in flight',
      'share of client latency spent outside Redis (round trips, queues)',
    ]);
    expect(finding.evidence[1]!.observed).toBeCloseTo(0.95, 2);
  });
  test('enable: quiet below the in-flight threshold', () => {
    expect(
      ids(
        evaluate({
          snapshot: busy(DEFAULT_THRESHOLDS.inFlightMin - 1, 500_000),
          description: description(),
        }),
      ),
    ).not.toContain('enable-autopipelining');
  });
  test('enable: quiet when the time is spent inside Redis', () => {
    // 2 x 8 s inside Redis of 20 s: only 20% outside.
    expect(
      ids(evaluate({ snapshot: busy(40, 8_000_000), description: description() })),
    ).not.toContain('enable-autopipelining');
  });
  test('enable: quiet when the event loop is saturated (the wait is in this process)', () => {
    const s = busy(40, 500_000);
    const process = (p99: number) => ({
      eventLoopDelay: { p50: 1, p99, max: p99, mean: 1 },
      heapUsed: 0,
      rss: 0,
      gc: { count: 0, totalMs: 0, maxMs: 0 },
    });
    expect(
      ids(evaluate({ snapshot: { ...s, process: process(25) }, description: description() })),
    ).not.toContain('enable-autopipelining');
    const fired = evaluate({
      snapshot: { ...s, process: process(5) },
      description: description(),
    }).find((f) => f.id === 'enable-autopipelining')!;
    expect(fired.evidence[2]).toMatchObject({ observed: 5, threshold: 20, unit: 'ms' });
  });
  test('enable: quiet when already on', () => {
    expect(
      ids(
        evaluate({
          snapshot: busy(40, 500_000),
          description: description({ autoPipelining: true }),
        }),
      ),
    ).not.toContain('enable-autopipelining');
  });
  const idle = (p99: number) =>
    snapshot(
      { getServiceState: { count: 1000, p50: 0.2, p99 } },
      { concurrency: { maxInFlight: 2, meanInFlight: 1 } },
    );
  test('disable: fires when on at low concurrency with an inflated p99', () => {
    const findings = evaluate({
      snapshot: idle(1.0),
      description: description({ autoPipelining: true }),
    });
    const finding = findings.find((f) => f.id === 'disable-autopipelining')!;
    expect(finding.action?.id).toBe('disable-autopipelining');
    expect(finding.evidence[1]).toMatchObject({
      observed: 5,
      threshold: 4,
      operation: 'getServiceState',
    });
  });
  test('disable: quiet with a tight p99, or when off', () => {
    expect(
      ids(evaluate({ snapshot: idle(0.6), description: description({ autoPipelining: true }) })),
    ).not.toContain('disable-autopipelining');
    expect(ids(evaluate({ snapshot: idle(1.0), description: description() }))).not.toContain(
      'disable-autopipelining',
    );
  });
});

describe('near cache', () => {
  const reads = (getServiceState: number, setServiceState: number) =>
    snapshot({
      getServiceState: { count: getServiceState },
      setServiceState: { count: setServiceState },
    });
  test('fires when state is read far more than written', () => {
    const finding = evaluate({ snapshot: reads(4000, 1000), description: description() }).find(
      (f) => f.id === 'near-cache',
    )!;
    expect(finding.action?.id).toBe('enable-near-cache');
    expect(finding.evidence[0]).toMatchObject({
      observed: 4,
      threshold: 4,
      operation: 'getServiceState',
    });
  });
  test('quiet below the ratio, below the read rate, or when on', () => {
    expect(
      ids(evaluate({ snapshot: reads(3900, 1000), description: description() })),
    ).not.toContain('near-cache');
    expect(ids(evaluate({ snapshot: reads(400, 10), description: description() }))).not.toContain(
      'near-cache',
    );
    expect(
      ids(
        evaluate({
          snapshot: reads(4000, 10),
          description: description({ nearCache: { enabled: true, maxEntries: 10 } }),
        }),
      ),
    ).not.toContain('near-cache');
  });
  test('on a cluster: a finding without an action', () => {
    const finding = evaluate({
      snapshot: reads(4000, 10),
      description: description({ topology: 'cluster', nearCache: null }),
    }).find((f) => f.id === 'near-cache')!;
    expect(finding.action).toBeUndefined();
  });
});

describe('batch reads', () => {
  test('fires on a busy slice of single-uid reads', () => {
    const s = snapshot({ getLinkedPod: { count: 400, slices: [10, 10, 300, 80] } });
    const finding = evaluate({ snapshot: s, description: description() }).find(
      (f) => f.id === 'batch-reads',
    )!;
    expect(finding.evidence[0]).toMatchObject({
      observed: 300,
      threshold: 200,
      operation: 'getLinkedPod',
    });
    expect(finding.action).toBeUndefined();
  });
  test('quiet below the peak rate', () => {
    const s = snapshot({ getLinkedPod: { count: 400, slices: [100, 100, 199, 1] } });
    expect(ids(evaluate({ snapshot: s, description: description() }))).not.toContain('batch-reads');
  });
});

describe('event-loop delay', () => {
  const withDelay = (p99: number) =>
    snapshot(quietOps, {
      process: {
        eventLoopDelay: { p50: 1, p99, max: p99, mean: 1 },
        heapUsed: 0,
        rss: 0,
        gc: { count: 0, totalMs: 0, maxMs: 0 },
      },
    });
  test('warning above 50 ms, critical above 200 ms', () => {
    expect(
      evaluate({ snapshot: withDelay(60), description: description() }).find(
        (f) => f.id === 'event-loop-delay',
      )?.severity,
    ).toBe('warning');
    expect(
      evaluate({ snapshot: withDelay(250), description: description() }).find(
        (f) => f.id === 'event-loop-delay',
      )?.severity,
    ).toBe('critical');
  });
  test('quiet below', () => {
    expect(ids(evaluate({ snapshot: withDelay(49), description: description() }))).not.toContain(
      'event-loop-delay',
    );
  });
});

describe('error rate', () => {
  test('one finding per error type above the threshold, naming the worst operation', () => {
    const s = snapshot({
      getServiceState: { count: 10_000, errors: { timeout: 20 } },
      setLinkedPodIfAbsent: { count: 10_000, errors: { connection: 1200, timeout: 5 } },
    });
    const findings = evaluate({ snapshot: s, description: description() });
    const connection = findings.find((f) => f.id === 'error-rate-connection')!;
    expect(connection.severity).toBe('critical');
    expect(connection.evidence[0]).toMatchObject({
      observed: 0.06,
      operation: 'setLinkedPodIfAbsent',
    });
    const timeout = findings.find((f) => f.id === 'error-rate-timeout')!;
    expect(timeout.severity).toBe('warning');
    expect(timeout.evidence[0]!.operation).toBe('getServiceState');
    expect(findings[0]!.severity).toBe('critical'); // most severe first
  });
  test('quiet below 0.1%', () => {
    const s = snapshot({ getServiceState: { count: 10_000, errors: { timeout: 9 } } });
    expect(
      ids(evaluate({ snapshot: s, description: description() })).filter((i) =>
        i.startsWith('error-rate'),
      ),
    ).toEqual([]);
  });
});

describe('reconnects', () => {
  test('fires on a reconnect, critical at 10', () => {
    const one = evaluate({
      snapshot: snapshot(quietOps, { executorStats: { ...ZERO_STATS, reconnects: 1 } }),
      description: description(),
    });
    expect(one.find((f) => f.id === 'reconnects')?.severity).toBe('warning');
    const many = evaluate({
      snapshot: snapshot(quietOps),
      description: description(),
      stats: { ...ZERO_STATS, reconnects: 12 },
    });
    expect(many.find((f) => f.id === 'reconnects')?.severity).toBe('critical');
  });
  test('quiet without', () => {
    expect(
      ids(
        evaluate({
          snapshot: snapshot(quietOps, { executorStats: ZERO_STATS }),
          description: description(),
        }),
      ),
    ).not.toContain('reconnects');
  });
});

describe('redis memory', () => {
  test('warning at 80% of maxmemory, critical at 95%', () => {
    const at = (usedMemory: number) =>
      evaluate({
        snapshot: snapshot(quietOps),
        description: description(),
        redis: { usedMemory, maxMemory: 1000 },
      }).find((f) => f.id === 'redis-memory')?.severity;
    expect(at(850)).toBe('warning');
    expect(at(960)).toBe('critical');
    expect(at(790)).toBeUndefined();
  });
  test('quiet without a maxmemory', () => {
    expect(
      ids(
        evaluate({
          snapshot: snapshot(quietOps),
          description: description(),
          redis: { usedMemory: 1e9, maxMemory: 0 },
        }),
      ),
    ).not.toContain('redis-memory');
  });
});

describe('slow log', () => {
  test('fires on script entries only', () => {
    const finding = evaluate({
      snapshot: snapshot(quietOps),
      description: description(),
      redis: {
        slowlog: [
          { id: 1, durationUs: 15_000, command: 'EVALSHA' },
          { id: 2, durationUs: 90_000, command: 'KEYS' },
        ],
      },
    }).find((f) => f.id === 'slow-scripts')!;
    expect(finding.evidence.map((e) => e.observed)).toEqual([1, 15_000]);
  });
  test('quiet without script entries', () => {
    const findings = evaluate({
      snapshot: snapshot(quietOps),
      description: description(),
      redis: { slowlog: [{ id: 2, durationUs: 90_000, command: 'KEYS' }] },
    });
    expect(ids(findings)).not.toContain('slow-scripts');
  });
});

test('thresholds can be overridden, and unknown or bad ones are refused', () => {
  const s = snapshot({ getServiceState: { count: 3000 }, setServiceState: { count: 1000 } });
  expect(ids(evaluate({ snapshot: s, description: description() }))).not.toContain('near-cache');
  expect(
    ids(
      evaluate({ snapshot: s, description: description(), thresholds: { readWriteRatioMin: 2 } }),
    ),
  ).toContain('near-cache');
  expect(() =>
    evaluate({ snapshot: s, description: description(), thresholds: { nope: 1 } as never }),
  ).toThrow(expect.objectContaining({ code: 'SR_OPTIMIZER_INVALID_OPTION' }));
  expect(() =>
    evaluate({
      snapshot: s,
      description: description(),
      thresholds: { readWriteRatioMin: Number.NaN },
    }),
  ).toThrow(expect.objectContaining({ code: 'SR_OPTIMIZER_INVALID_OPTION' }));
});

test('a healthy snapshot gives no finding, and findings are plain JSON', () => {
  const findings = evaluate({
    snapshot: snapshot(quietOps, { executorStats: ZERO_STATS }),
    description: description(),
  });
  expect(findings).toEqual([]);
  const some = evaluate({
    snapshot: snapshot(quietOps),
    description: description({ scriptTransport: 'eval' }),
  });
  expect(JSON.parse(JSON.stringify(some))).toEqual(some);
});
