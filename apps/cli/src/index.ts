/**
 * @stateful-route/cli: the `stateful-route` command-line tool. The binary is `dist/main.js`;
 * this entry point exposes the program for tests and for embedding.
 */
export { createProgram, run } from './program.js';
export type { CliIo, WriteTarget } from './io.js';
export { processIo } from './io.js';
export {
  ExitCodes,
  CliErrorCodes,
  CliErrorDescriptions,
  CliError,
  UsageError,
  UnreachableError,
  RemoteError,
  exitCodeOf,
  exitCodeOfCode,
} from './errors.js';
export type { ExitCode, CliErrorCode } from './errors.js';
export { resolveTarget } from './target.js';
export type { Target, TargetFlags } from './target.js';
export type { Backend } from './backend.js';
