/**
 * A progress bar on stderr, drawn only when stderr is a terminal and the output is not
 * `--json`: a log file or a pipe never receives carriage returns, and stdout is never
 * touched, so machine output stays parseable while the bar runs.
 */
import type { CliIo, WriteTarget } from './io.js';

const WIDTH = 30;

/** A progress bar (a no-op when disabled). */
export class ProgressBar {
  readonly enabled: boolean;
  readonly #stream: WriteTarget;
  #drawn = false;

  constructor(io: CliIo, json: boolean) {
    this.enabled = io.isTTY.stderr && !json;
    this.#stream = io.stderr;
  }

  /** Redraws the bar at `fraction` (0..1) with a short label after it. */
  update(fraction: number, label = ''): void {
    if (!this.enabled) return;
    const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
    const filled = Math.round(clamped * WIDTH);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}`;
    const percent = `${Math.floor(clamped * 100)}`.padStart(3);
    // \r returns to the start of the line and \x1b[K clears what a longer label left behind.
    this.#stream.write(`\r[${bar}] ${percent}% ${label}\u001b[K`);
    this.#drawn = true;
  }

  /** Clears the bar so that what follows starts on a clean line. */
  done(): void {
    if (!this.enabled || !this.#drawn) return;
    this.#stream.write('\r\u001b[K');
    this.#drawn = false;
  }
}

/**
 * Calls `tick(elapsedMs)` every `everyMs` until stopped; used to redraw the bar while a
 * workload runs. The timer is unref'd so it never keeps the process alive.
 */
export function every(everyMs: number, tick: (elapsedMs: number) => void): () => void {
  const started = Date.now();
  const timer = setInterval(() => tick(Date.now() - started), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
