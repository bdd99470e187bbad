/**
 * What a command handler gets: the injected I/O, the output in the chosen mode, the target
 * and a backend it does not have to close (the context closes what it opened).
 */
import type { Command } from 'commander';
import { openBackend, openRedisBackend, type Backend, type RedisBackend } from './backend.js';
import { UsageError, type ExitCode } from './errors.js';
import type { CliIo } from './io.js';
import { Output } from './output.js';
import { parsePositiveInteger } from './parse.js';
import { ProgressBar } from './progress.js';
import { describeTarget, resolveTarget, type ConnectOptions, type Target } from './target.js';

/** The options every command accepts (declared once on the program). */
export interface GlobalOptions {
  redis?: string;
  redisCluster?: string;
  server?: string;
  token?: string;
  json?: boolean;
  timeout: string;
  connectTimeout: string;
}

/** A command handler's context. */
export class CommandContext {
  readonly io: CliIo;
  readonly out: Output;
  readonly globals: GlobalOptions;
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(io: CliIo, globals: GlobalOptions) {
    this.io = io;
    this.globals = globals;
    this.out = new Output(io, globals.json === true);
  }

  /** The target from flags and environment. @throws SR_CLI_USAGE (exit 2) */
  target(): Target {
    return resolveTarget(this.globals, this.io.env);
  }

  /** Connect and command timeouts from `--connect-timeout` and `--timeout`. */
  connectOptions(): ConnectOptions {
    return {
      connectTimeoutMs: parsePositiveInteger(
        this.globals.connectTimeout,
        'connectTimeout',
        600_000,
      ),
      commandTimeoutMs: parsePositiveInteger(this.globals.timeout, 'timeout', 600_000),
    };
  }

  /** Opens the target's backend; closed when the command ends. */
  async backend(): Promise<Backend> {
    const target = this.target();
    const options = this.connectOptions();
    const backend = await openBackend(target, options);
    this.#closers.push(() => backend.close());
    return backend;
  }

  /**
   * Opens a direct Redis backend; `--server` is refused with a message naming `command`.
   * @throws SR_CLI_USAGE (exit 2), SR_REDIS_CONNECTION (exit 3)
   */
  async redisBackend(command: string, connectionFactory = false): Promise<RedisBackend> {
    const target = this.target();
    if (target.kind === 'server') {
      throw new UsageError(
        `${command} needs a direct Redis target (--redis or --redis-cluster), not --server`,
        { field: 'target' },
      );
    }
    const backend = await openRedisBackend(target, this.connectOptions(), {
      name: `cli-${command}`,
      connectionFactory,
    });
    this.#closers.push(() => backend.close());
    return backend;
  }

  /** A short, password-free name of the target. */
  describeTarget(): string {
    return describeTarget(this.target());
  }

  /** A progress bar on stderr (disabled unless stderr is a TTY and the output is not JSON). */
  progress(): ProgressBar {
    return new ProgressBar(this.io, this.out.json);
  }

  /** Registers a clean-up run when the command ends, in reverse order. */
  onClose(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  /** Runs the clean-ups; their errors are ignored (the command's outcome is already known). */
  async close(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      await close().catch(() => {});
    }
  }
}

/** A handler: returns the exit code (0 when it returns nothing). */
export type Handler = (
  ctx: CommandContext,
  args: unknown[],
  options: Record<string, unknown>,
) => Promise<ExitCode | void>;

/** The state of one `run()`: the exit code and the output mode, read by the top-level catch. */
export interface RunState {
  exitCode: ExitCode;
  json: boolean;
}

/** Attaches a handler to a commander command, with a context closed after it. */
export function defineAction(
  command: Command,
  io: CliIo,
  state: RunState,
  handler: Handler,
): Command {
  return command.action(async (...params: unknown[]) => {
    const self = params.at(-1) as Command;
    const globals = self.optsWithGlobals<GlobalOptions>();
    state.json = globals.json === true;
    const ctx = new CommandContext(io, globals);
    try {
      state.exitCode = (await handler(ctx, self.processedArgs as unknown[], self.opts())) ?? 0;
    } finally {
      await ctx.close();
    }
  });
}
