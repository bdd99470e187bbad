/**
 * Command-line arguments must be UTF-8 (contract section 4). Node decodes `process.argv`
 * with U+FFFD in place of bytes that are not UTF-8, so `caf\xff` would reach Redis as
 * `caf\uFFFD`. On Linux the bytes the process was given are in /proc/self/cmdline; where
 * they are not available, the decoded text is all there is, and an argument holding U+FFFD
 * is refused since it may stand for such bytes.
 */
import { readFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { UsageError } from './errors.js';

// Non-fatal, as Node decodes argv: used only to match the raw entries to the arguments.
const LENIENT = new TextDecoder('utf-8');

/**
 * The bytes of `args`, the last arguments of this process (`process.argv.slice(2)`), read
 * from /proc/self/cmdline. `null` when that file cannot be read or its entries do not decode
 * to `args` (another platform, or a process title that overwrote them).
 * @example
 * readArgvBytes(process.argv.slice(2)); // [<Buffer 6c 69 6e 6b>, ...] on Linux
 */
export function readArgvBytes(
  args: readonly string[],
  readCmdline: () => Uint8Array = () => readFileSync('/proc/self/cmdline'),
): Uint8Array[] | null {
  let raw: Uint8Array;
  try {
    raw = readCmdline();
  } catch {
    return null;
  }
  // Each entry ends with a NUL: `node\0main.js\0link\0\0...` (an empty argument is `\0`).
  const entries: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      entries.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  if (start !== raw.length || entries.length < args.length) return null;
  const own = entries.slice(entries.length - args.length);
  for (let i = 0; i < args.length; i++) {
    if (LENIENT.decode(own[i]) !== args[i]) return null;
  }
  return own;
}

/**
 * Refuses the first argument that was not UTF-8. `bytes` are the arguments as the OS passed
 * them; `null` when they are not known (then an argument holding U+FFFD is refused);
 * `undefined` when the arguments were given as strings to begin with (nothing to check).
 * @throws SR_CLI_USAGE naming the argument: `argv[4]` is the 4th after the program name (exit 2)
 */
export function checkArgvEncoding(
  args: readonly string[],
  bytes: readonly Uint8Array[] | null | undefined,
): void {
  if (bytes === undefined) return;
  const known = bytes !== null && bytes.length === args.length;
  for (let i = 0; i < args.length; i++) {
    const position = i + 1;
    if (known) {
      if (isUtf8(bytes[i]!)) continue;
      throw new UsageError(
        `argument ${position} is not valid UTF-8: refused rather than stored with U+FFFD in place of its bytes`,
        { field: `argv[${position}]` },
      );
    }
    if (args[i]!.includes('\ufffd')) {
      throw new UsageError(
        `argument ${position} holds U+FFFD, which may stand for bytes that are not UTF-8 (this platform does not show the raw arguments): refused`,
        { field: `argv[${position}]` },
      );
    }
  }
}
