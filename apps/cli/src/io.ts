/**
 * The process boundary of the CLI, injected so that tests run commands in-process and
 * read what they printed.
 */
import { readArgvBytes } from './argv.js';

/** Where the CLI writes: `process.stdout`, `process.stderr` or a test buffer. */
export interface WriteTarget {
  write(chunk: string): unknown;
}

/** Everything the CLI takes from its process. */
export interface CliIo {
  stdout: WriteTarget;
  stderr: WriteTarget;
  /** Environment variables (REDIS_URL, STATEFUL_ROUTE_SERVER, NO_COLOR, ...). */
  env: Readonly<Record<string, string | undefined>>;
  /** Whether each stream is a terminal: colours and the progress bar depend on it. */
  isTTY: { stdout: boolean; stderr: boolean };
  /** Standard input, when a command reads it (none does yet). */
  stdin?: NodeJS.ReadableStream;
  /** Aborted on SIGINT: long commands (bench, analyze, tune) stop early and clean up. */
  signal?: AbortSignal;
  /**
   * The arguments (after the program name) as the bytes the OS passed, so that those that
   * are not UTF-8 are refused: Node decodes `process.argv` with U+FFFD in their place.
   * `null`: not known on this platform (arguments holding U+FFFD are refused). Absent: the
   * arguments were strings to begin with (injected I/O).
   */
  argvBytes?: readonly Uint8Array[] | null;
}

/** The real process' streams, environment and argument bytes. */
export function processIo(signal?: AbortSignal): CliIo {
  return {
    argvBytes: readArgvBytes(process.argv.slice(2)),
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
    stdin: process.stdin,
    ...(signal ? { signal } : {}),
  };
}
