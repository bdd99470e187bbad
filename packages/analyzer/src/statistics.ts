/**
 * The significance tests behind `compare()`: Mann-Whitney U on binned latency samples
 * (normal approximation with tie correction) and Welch's t-test on per-slice throughput.
 * Written out here so that the maths can be read and checked against textbook values.
 */

/** Complementary error function (Numerical Recipes' erfc, fractional error below 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Two-sided p-value of a standard normal statistic. */
export function normalTwoSided(z: number): number {
  return Math.min(1, erfc(Math.abs(z) / Math.SQRT2));
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9).
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0] ?? 0;
  const t = y + 7.5;
  for (let i = 1; i < 9; i += 1) a += (c[i] ?? 0) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m += 1) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-12) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Two-sided p-value of Student's t with `df` degrees of freedom. */
export function studentTwoSided(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** Result of the Mann-Whitney U test. */
export interface MannWhitneyResult {
  test: 'mann-whitney-u';
  /** U of the second sample (current): how often a current value exceeds a baseline one. */
  u: number;
  z: number;
  pValue: number;
  /**
   * Probability that a random current sample is slower than a random baseline one (ties
   * count half): 0.5 means no shift, 1 means every current sample is slower.
   */
  effectSize: number;
  n1: number;
  n2: number;
}

/**
 * Mann-Whitney U test on two binned samples: `a` and `b` map a bin value to a count.
 * Every sample in a bin shares the bin's value, so each bin is a group of ties; the
 * variance uses the tie correction and the statistic a continuity correction of 0.5.
 */
export function mannWhitney(
  a: ReadonlyMap<number, number>,
  b: ReadonlyMap<number, number>,
): MannWhitneyResult {
  let n1 = 0;
  let n2 = 0;
  for (const count of a.values()) n1 += count;
  for (const count of b.values()) n2 += count;
  const values = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => x - y);
  let below = 0;
  let rankSumB = 0;
  let tieTerm = 0;
  for (const value of values) {
    const ca = a.get(value) ?? 0;
    const cb = b.get(value) ?? 0;
    const t = ca + cb;
    if (t === 0) continue;
    const averageRank = below + (t + 1) / 2;
    rankSumB += cb * averageRank;
    tieTerm += t * t * t - t;
    below += t;
  }
  const n = n1 + n2;
  if (n1 === 0 || n2 === 0) {
    return { test: 'mann-whitney-u', u: 0, z: 0, pValue: 1, effectSize: 0.5, n1, n2 };
  }
  const u = rankSumB - (n2 * (n2 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  let z = 0;
  if (variance > 0) {
    const diff = u - mean;
    const corrected = Math.abs(diff) <= 0.5 ? 0 : diff - Math.sign(diff) * 0.5;
    z = corrected / Math.sqrt(variance);
  }
  return {
    test: 'mann-whitney-u',
    u,
    z,
    pValue: variance > 0 ? normalTwoSided(z) : 1,
    effectSize: u / (n1 * n2),
    n1,
    n2,
  };
}

/** Result of Welch's t-test. */
export interface WelchResult {
  test: 'welch-t';
  t: number;
  df: number;
  pValue: number;
  meanA: number;
  meanB: number;
}

/** Welch's unequal-variances t-test of the means of `a` and `b` (two-sided). */
export function welchT(a: readonly number[], b: readonly number[]): WelchResult | null {
  if (a.length < 2 || b.length < 2) return null;
  const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = (xs: readonly number[], m: number): number =>
    xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  const meanA = mean(a);
  const meanB = mean(b);
  const va = variance(a, meanA) / a.length;
  const vb = variance(b, meanB) / b.length;
  const se = Math.sqrt(va + vb);
  if (se === 0) {
    const same = meanA === meanB;
    return {
      test: 'welch-t',
      t: same ? 0 : Infinity,
      df: a.length + b.length - 2,
      pValue: same ? 1 : 0,
      meanA,
      meanB,
    };
  }
  const t = (meanB - meanA) / se;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  return { test: 'welch-t', t, df, pValue: studentTwoSided(t, df), meanA, meanB };
}
