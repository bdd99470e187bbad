/**
 * The `stateful-route` program: commander wiring, global options, and the one top-level
 * catch that turns any error into a message and an exit code.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { checkArgvEncoding } from './argv.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerBench } from './commands/bench.js';
import { registerDoctor } from './commands/doctor.js';
import { registerLink } from './commands/link.js';
import { registerPlacement } from './commands/placement.js';
import { registerReport } from './commands/report.js';
import { registerTune } from './commands/tune.js';
import type { Registrar } from './commands/shared.js';
import { registerState } from './commands/state.js';
import { registerWorkload } from './commands/workload.js';
import { defineAction, type RunState } from './context.js';
import { CliErrorCodes, codeOf, exitCodeOf, ExitCodes, fieldOf, type ExitCode } from './errors.js';
import type { CliIo } from './io.js';
import { colorsEnabled } from './output.js';

// src/ and dist/ sit at the same depth, so this works from sources and from the build.
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const EXIT_HELP = `
Exit codes:
  0  ok
  1  findings or a failed check (bench and report with --baseline/--threshold, doctor)
  2  usage error (bad flag or argument, input rules of the contract, no target)
  3  target unreachable (Redis, the server or a metrics URL; connection, timeout, or
     Redis refusing the credentials)
  4  any other error
  5  no capacity: allocate found no live, non-draining pod with room (SR_NO_CAPACITY);
     nothing was written

Data is only changed by the sub-commands that say "(writes)": state set, workload set,
link set|try|set-if-absent|remove, pod register|drain|undrain, allocate, release, sweep.
bench and tune write only under a namespace of their own (stateful-route-bench-<random>)
and delete its keys when they end; doctor writes nothing.
`;

/**
 * Builds the commander program. `state` receives the exit code and output mode of the
 * command that runs.
 */
export function createProgram(io: CliIo, state: RunState = { exitCode: 0, json: false }): Command {
  const program = new Command('stateful-route');
  // Settings made before `.command()` are inherited by every sub-command.
  program
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // With --json, commander's own usage errors are JSON on stderr like every other error.
      outputError: (text, write) =>
        write(
          state.json
            ? `${JSON.stringify({ error: { code: CliErrorCodes.USAGE, message: text.trim().replace(/^error: /, '') } })}\n`
            : colorsEnabled(io, 'stderr')
              ? `\u001b[31m${text}\u001b[39m`
              : text,
        ),
    })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError(state.json ? false : '(add --help for usage)');

  program
    .description(
      'Inspect and repair sticky-routing state in Redis, benchmark, analyse, tune and report.',
    )
    .version(VERSION, '-V, --version')
    .option('--redis <url>', 'Redis server URL, redis://host:port (env REDIS_URL)')
    .option(
      '--redis-cluster <nodes>',
      'Redis Cluster seeds, host:port,... (env REDIS_CLUSTER_NODES)',
    )
    .option('--server <url>', 'a running stateful-route server (env STATEFUL_ROUTE_SERVER)')
    .option('--token <token>', 'bearer token for --server (env STATEFUL_ROUTE_TOKEN)')
    .option('--json', 'print one JSON document on stdout instead of tables')
    .option('--timeout <ms>', 'per-command timeout in ms', '5000')
    .option('--connect-timeout <ms>', 'connection timeout in ms (one attempt, no retry)', '3000')
    .addHelpText('after', EXIT_HELP);

  const registrar: Registrar = {
    io,
    state,
    action: (command, handler) => defineAction(command, io, state, handler),
  };
  registerState(program, registrar);
  registerWorkload(program, registrar);
  registerLink(program, registrar);
  registerPlacement(program, registrar);
  registerBench(program, registrar);
  registerAnalyze(program, registrar);
  registerReport(program, registrar);
  registerDoctor(program, registrar);
  registerTune(program, registrar);
  return program;
}

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns the exit code.
 * Never throws: every error is printed on stderr (as JSON with `--json`) and mapped to an
 * exit code.
 * @example
 * const code = await run(['link', 'get', 'default', 'user123', 'room', '--redis', url], processIo());
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const state: RunState = { exitCode: ExitCodes.OK, json: argv.includes('--json') };
  const program = createProgram(io, state);
  try {
    checkArgvEncoding(argv, io.argvBytes);
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    // Commander has already printed its own errors (and the help or version).
    if (error instanceof CommanderError) return exitCodeOf(error);
    printError(io, state.json, error);
    return exitCodeOf(error);
  }
}

function printError(io: CliIo, json: boolean, error: unknown): void {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  const field = fieldOf(error);
  if (json) {
    io.stderr.write(
      `${JSON.stringify({ error: { code, message, ...(field ? { field } : {}) } })}\n`,
    );
    return;
  }
  const text = `stateful-route: ${message} [${code}]`;
  io.stderr.write(`${colorsEnabled(io, 'stderr') ? `\u001b[31m${text}\u001b[39m` : text}\n`);
  const exit: ExitCode = exitCodeOf(error);
  if (
    exit === ExitCodes.OTHER &&
    code === 'SR_CLI_INTERNAL' &&
    error instanceof Error &&
    error.stack
  ) {
    // An uncoded error is a bug: the stack is what a report needs.
    io.stderr.write(`${error.stack}\n`);
  }
}
