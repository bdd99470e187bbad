/**
 * A small HDR histogram of non-negative integers (microseconds), with the bucket layout of
 * HdrHistogram: values are exact below 2 x 10^digits and keep `digits` significant decimal
 * digits above. Written here because recording is on every executor call: measured side by
 * side with the analyzer's `bench/histogram.mjs`, hdr-histogram-js's JavaScript build takes
 * about 100 ns per recorded value on this machine, this one about 30 ns. Percentiles are the
 * same as HdrHistogram's (the analyzer's tests compare them with hdr-histogram-js value by
 * value). The one latency histogram of the project: executor telemetry records into it and
 * the analyzer summarises it.
 */

/** The highest value a histogram tracks: 2^32 - 1 µs (about 71 minutes). */
export const HDR_MAX_VALUE = 0xffffffff;

/** A latency histogram with HdrHistogram's bucket layout. */
export class HdrHistogram {
  /** Significant decimal digits (2 or 3). */
  readonly digits: number;
  private readonly halfMagnitude: number;
  private readonly halfCount: number;
  private readonly subBucketMask: number;
  private readonly counts: Float64Array | Uint32Array;
  /** Number of recorded values. */
  totalCount = 0;
  /** Smallest and largest recorded values (0 when empty). */
  min = 0;
  max = 0;
  private sum = 0;

  constructor(digits: 2 | 3 = 3) {
    this.digits = digits;
    // Sub-buckets: the power of two at or above 2 x 10^digits (2048 for 3 digits, 256 for 2).
    const subBucketCount = 2 ** Math.ceil(Math.log2(2 * 10 ** digits));
    this.halfCount = subBucketCount / 2;
    this.halfMagnitude = Math.log2(this.halfCount);
    this.subBucketMask = subBucketCount - 1;
    // Buckets needed to reach 2^32: each doubles the range of the one before.
    const bucketCount = 32 - Math.log2(subBucketCount) + 1;
    const length = (bucketCount + 1) * this.halfCount;
    // 2-digit histograms are the per-slice ones, many and short-lived: 32-bit counts halve
    // their memory (13 KiB each); the totals keep 64-bit floats so they never wrap.
    this.counts = digits === 2 ? new Uint32Array(length) : new Float64Array(length);
  }

  private indexOf(value: number): number {
    // floor(log2(value | mask)) - log2(subBucketCount) + 1, with value as unsigned 32-bit.
    const bucket = 31 - Math.clz32(value | this.subBucketMask) - this.halfMagnitude;
    const subBucket = value >>> bucket; // value is below 2^32: an unsigned shift is exact
    return ((bucket + 1) << this.halfMagnitude) + (subBucket - this.halfCount);
  }

  private lowestAt(index: number): number {
    let bucket = (index >> this.halfMagnitude) - 1;
    let subBucket = (index & (this.halfCount - 1)) + this.halfCount;
    if (bucket < 0) {
      subBucket -= this.halfCount;
      bucket = 0;
    }
    return subBucket * 2 ** bucket;
  }

  private highestAt(index: number): number {
    const bucket = Math.max(0, (index >> this.halfMagnitude) - 1);
    return this.lowestAt(index) + 2 ** bucket - 1;
  }

  /** Records one value; it is truncated to an integer and clamped to 0..HDR_MAX_VALUE. */
  record(value: number): void {
    const v = value <= 0 ? 0 : value >= HDR_MAX_VALUE ? HDR_MAX_VALUE : Math.floor(value);
    const index = this.indexOf(v);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    if (this.totalCount === 0 || v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.totalCount += 1;
    this.sum += v;
  }

  /** A copy (same digits, same counts). */
  clone(): HdrHistogram {
    const copy = new HdrHistogram(this.digits as 2 | 3);
    copy.copyFrom(this);
    return copy;
  }

  /** Makes this histogram hold exactly what `other` (same digits) holds. */
  copyFrom(other: HdrHistogram): void {
    if (other.digits !== this.digits) throw new RangeError('histograms differ in precision');
    this.counts.set(other.counts);
    this.totalCount = other.totalCount;
    this.min = other.min;
    this.max = other.max;
    this.sum = other.sum;
  }

  /**
   * Adds what `current` holds beyond `earlier` (an earlier copy of the same cumulative
   * histogram) to this one, whatever the digits of this one: the values recorded in between.
   * Each value lands on the highest value equivalent to its bucket in `current`, so a 3-digit
   * difference added to a 2-digit histogram keeps the 2-digit precision. The new min and max
   * are those of the buckets that grew, within the histogram's precision.
   */
  addDifference(current: HdrHistogram, earlier: HdrHistogram): void {
    if (current.digits !== earlier.digits) throw new RangeError('histograms differ in precision');
    if (current.totalCount === earlier.totalCount) return;
    const same = current.digits === this.digits;
    const counts = current.counts;
    const before = earlier.counts;
    let added = 0;
    for (let i = 0; i < counts.length; i += 1) {
      const delta = counts[i]! - before[i]!;
      if (delta <= 0) continue;
      added += delta;
      const low = current.lowestAt(i);
      const high = current.highestAt(i);
      if (same) this.counts[i] = this.counts[i]! + delta;
      else {
        const index = this.indexOf(high);
        this.counts[index] = this.counts[index]! + delta;
      }
      if (this.totalCount === 0 && added === delta) this.min = low;
      else if (low < this.min) this.min = low;
      if (high > this.max) this.max = high;
    }
    this.totalCount += added;
    this.sum += current.sum - earlier.sum;
  }

  /** Adds every value of `other` (same digits) to this histogram. */
  add(other: HdrHistogram): void {
    if (other.digits !== this.digits) throw new RangeError('histograms differ in precision');
    if (other.totalCount === 0) return;
    for (let i = 0; i < other.counts.length; i += 1) {
      const count = other.counts[i] ?? 0;
      if (count !== 0) this.counts[i] = (this.counts[i] ?? 0) + count;
    }
    if (this.totalCount === 0 || other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.totalCount += other.totalCount;
    this.sum += other.sum;
  }

  /** Forgets every value. */
  reset(): void {
    this.counts.fill(0);
    this.totalCount = 0;
    this.min = 0;
    this.max = 0;
    this.sum = 0;
  }

  /** Exact mean of the recorded (integer) values; 0 when empty. */
  get mean(): number {
    return this.totalCount === 0 ? 0 : this.sum / this.totalCount;
  }

  /**
   * The value at a percentile (0..100), as HdrHistogram gives it: the highest value
   * equivalent to the recorded value at that rank (the lowest for percentile 0).
   */
  valueAtPercentile(percentile: number): number {
    if (this.totalCount === 0) return 0;
    const requested = Math.min(Math.max(percentile, 0), 100);
    const exact = (requested / 100) * this.totalCount;
    // Round up, but not past a count the floating-point product overshot by one ulp.
    const rank = Math.max(1, Math.ceil(exact - exact * Number.EPSILON));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i += 1) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return requested === 0 ? this.lowestAt(i) : this.highestAt(i);
    }
    return this.max;
  }

  /** Calls `visit(highestEquivalentValue, count)` for every non-empty bucket, ascending. */
  forEachBucket(visit: (highestValue: number, count: number) => void): void {
    for (let i = 0; i < this.counts.length; i += 1) {
      const count = this.counts[i] ?? 0;
      if (count !== 0) visit(this.highestAt(i), count);
    }
  }
}
