/** What command modules share: how they register and how their help shows examples. */
import type { Command } from 'commander';
import type { Handler, RunState } from '../context.js';
import type { CliIo } from '../io.js';

/** What a command module receives to register its commands. */
export interface Registrar {
  io: CliIo;
  state: RunState;
  /** Attaches a handler (see `defineAction`). */
  action(command: Command, handler: Handler): Command;
}

/** The "Examples:" block at the end of a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/** The printable form of a pod id (-1 is "none"). */
export function pod(value: number): string {
  return value === -1 ? 'none (-1)' : String(value);
}
