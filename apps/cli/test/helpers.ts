/** Test helpers: an in-memory CliIo and runners for the handler and the built binary. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, type CliIo } from '../src/index.js';

/** A CliIo that records what was written. */
export interface MemoryIo extends CliIo {
  out: () => string;
  err: () => string;
}

export function memoryIo(
  options: {
    env?: Record<string, string>;
    stdoutTTY?: boolean;
    stderrTTY?: boolean;
    signal?: AbortSignal;
    /** The arguments' bytes as the OS would pass them (`null`: not known). */
    argvBytes?: readonly Uint8Array[] | null;
  } = {},
): MemoryIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout: { write: (chunk: string) => stdout.push(chunk) },
    stderr: { write: (chunk: string) => stderr.push(chunk) },
    env: options.env ?? {},
    isTTY: { stdout: options.stdoutTTY ?? false, stderr: options.stderrTTY ?? false },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.argvBytes !== undefined ? { argvBytes: options.argvBytes } : {}),
    out: () => stdout.join(''),
    err: () => stderr.join(''),
  };
}

/** The outcome of one CLI run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with injected I/O. */
export async function cli(
  argv: string[],
  options: Parameters<typeof memoryIo>[0] = {},
): Promise<RunResult> {
  const io = memoryIo(options);
  const code = await run(argv, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

/** The built binary. */
export const BIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** Runs the built binary as a user would (no TTY, NO_COLOR unset). */
export function bin(
  argv: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...argv],
      {
        env: { PATH: process.env['PATH'] ?? '', ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 32 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : Number.NaN;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}

/**
 * Runs the built binary with arguments given as bytes: a Buffer argument reaches the process
 * byte for byte (through the shell's printf), since execFile and spawn take strings only.
 */
export function binBytes(
  argv: (string | Buffer)[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult & { ms: number }> {
  const started = Date.now();
  // "$1" is node, "$2" the binary; each Buffer becomes "$(printf '\ooo...')".
  const words = argv.map((arg, i) =>
    typeof arg === 'string'
      ? `"\${${i + 3}}"`
      : `"$(printf '${[...arg].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('')}')"`,
  );
  const script = `exec "$1" "$2" ${words.join(' ')}`;
  const strings = argv.map((arg) => (typeof arg === 'string' ? arg : ''));
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', script, 'sh', process.execPath, BIN, ...strings],
      {
        env: { PATH: process.env['PATH'] ?? '', ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 32 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : Number.NaN;
        resolve({ code, stdout, stderr, ms: Date.now() - started });
      },
    );
  });
}
