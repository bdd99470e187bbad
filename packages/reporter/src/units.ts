/**
 * Number formatting shared by every format. Deterministic (no locale): the same report
 * renders byte for byte the same everywhere, which the golden files rely on.
 */

/** 1234567 -> `1,234,567`. */
export function formatInteger(value: number): string {
  const rounded = Math.round(value);
  const sign = rounded < 0 ? '-' : '';
  const digits = String(Math.abs(rounded));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Milliseconds with about three significant digits, without the unit: always ms, never µs,
 * so that every table (reports, `bench`, `compare`) reads in one unit. `0.0412` -> `0.041`,
 * `1.234` -> `1.23`, `12.34` -> `12.3`, `123.4` -> `123`, `1234.5` -> `1,235`.
 * @example
 * formatMsValue(0.4123); // '0.412'
 */
export function formatMsValue(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const abs = Math.abs(ms);
  if (abs >= 1000) return formatInteger(ms);
  if (abs >= 100) return ms.toFixed(0);
  if (abs >= 10) return ms.toFixed(1);
  if (abs >= 1) return ms.toFixed(2);
  return ms.toFixed(3);
}

/**
 * Milliseconds with the unit: `0.412 ms`, `12.3 ms`. The one duration formatter of the
 * reports and the CLI.
 */
export function formatMs(ms: number): string {
  return `${formatMsValue(ms)} ms`;
}

/** Calls per second, without the unit. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  return perSecond >= 100 ? formatInteger(perSecond) : perSecond.toFixed(1);
}

/** A ratio as a percentage: 0.0012 -> `0.12%`. */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '-';
  const pct = ratio * 100;
  if (pct === 0) return '0%';
  if (Math.abs(pct) >= 10) {
    // 99.6% must not read as 100%.
    const whole = pct.toFixed(0);
    return Math.abs(Number(whole)) === 100 && Math.abs(pct) < 100
      ? `${pct.toFixed(1)}%`
      : `${whole}%`;
  }
  if (Math.abs(pct) >= 1) return `${pct.toFixed(1)}%`;
  return `${pct.toFixed(2)}%`;
}

/** A relative change with its sign: 0.35 -> `+35%`; `null` -> `n/a`. */
export function formatChange(change: number | null): string {
  if (change === null || !Number.isFinite(change)) return 'n/a';
  const pct = change * 100;
  const sign = pct > 0 ? '+' : pct < 0 ? '-' : '±';
  const abs = Math.abs(pct);
  return `${sign}${abs >= 10 ? abs.toFixed(0) : abs.toFixed(1)}%`;
}

/** A p-value: `0.042`, `3e-12`, `<1e-300`. */
export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return '-';
  if (p === 0) return '<1e-300';
  if (p < 0.001) return p.toExponential(0);
  return p.toFixed(3);
}

/** Bytes in binary units: `45.2 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const abs = Math.abs(bytes);
  if (abs >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (abs >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Seconds: `10.0 s`, `2 min 5 s`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-';
  if (seconds < 120) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** A value with the unit an evidence or threshold names. */
export function formatWithUnit(value: number, unit: string | undefined): string {
  switch (unit) {
    case 'ms':
      return formatMs(value);
    case 'ratio':
      return formatPercent(value);
    case 'bytes':
      return formatBytes(value);
    case 'ops/s':
    case 'calls/s':
      return `${formatRate(value)} ${unit}`;
    case undefined:
    case '':
    case 'count':
      return Number.isInteger(value) ? formatInteger(value) : String(Number(value.toPrecision(4)));
    default:
      return `${Number.isInteger(value) ? formatInteger(value) : String(Number(value.toPrecision(4)))} ${unit}`;
  }
}

/** A multiple with about three significant digits: 5.7 -> `5.7×`. */
export function formatMultiple(value: number): string {
  return `${String(Number(value.toPrecision(3)))}×`;
}
