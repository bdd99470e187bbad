#!/usr/bin/env node
// The `stateful-route` binary: the real process' I/O handed to run(), and its exit code.
import { processIo } from './io.js';
import { run } from './program.js';

// A reader that went away (`stateful-route report ... | head -c 10`) ends the command quietly
// with 0, as other Unix tools do; without a listener the write error is a stack trace and 1.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

const controller = new AbortController();
// The first Ctrl-C asks long commands (bench, analyze, tune) to stop and clean up; the
// second one is the default: exit at once.
process.once('SIGINT', () => controller.abort());

const code = await run(process.argv.slice(2), processIo(controller.signal));
// Exit as soon as the output is flushed: a client library's leftover timer (ioredis keeps
// its connect-timeout timer after a refused connection) must not hold the answer back.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
process.exit(code);
