import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A bounded-staleness check for histories of reads against acknowledged writes: versions of
 * one key only grow, so a read that began at `t` must return at least the newest version
 * acknowledged before `t - boundMs`.
 */
export class StalenessChecker {
  readonly violations: string[] = [];
  readonly #acks = new Map<string, { version: number; at: number }[]>();
  readonly #boundMs: number;

  constructor(keys: readonly string[], boundMs: number) {
    this.#boundMs = boundMs;
    for (const key of keys) this.#acks.set(key, [{ version: 0, at: 0 }]);
  }

  /** A write of `version` to `key` was acknowledged now. */
  acked(key: string, version: number): void {
    this.#acks.get(key)!.push({ version, at: performance.now() });
  }

  /** A read of `key` that began at `startedAt` returned `version`. */
  read(key: string, startedAt: number, version: number): void {
    const floor = this.#acks
      .get(key)!
      .filter((a) => a.at <= startedAt - this.#boundMs)
      .reduce((max, a) => Math.max(max, a.version), 0);
    if (version < floor) this.violations.push(`${key}: read ${version}, ${floor} acked before`);
  }

  /** The last acknowledged version of `key`. */
  last(key: string): number {
    return this.#acks.get(key)!.at(-1)!.version;
  }
}

/** A small deterministic generator (same seed, same run), in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

/**
 * Polls `read` until it returns `expected` (compared as JSON); the ms it took, or an error
 * after `boundMs`.
 */
export async function untilSeen<T>(
  read: () => Promise<T>,
  expected: T,
  boundMs = 100,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const value = await read();
    if (JSON.stringify(value) === JSON.stringify(expected)) return performance.now() - started;
    if (performance.now() - started > boundMs) {
      throw new Error(
        `still ${JSON.stringify(value)} after ${boundMs} ms, want ${String(expected)}`,
      );
    }
    await sleep(1);
  }
}
