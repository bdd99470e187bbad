/** `workload get|set|query`: workload states of services. */
import type { Command } from 'commander';
import { examples, type Registrar } from './shared.js';

/** Registers `workload get`, `workload set` and `workload query`. */
export function registerWorkload(program: Command, r: Registrar): void {
  const workload = program
    .command('workload')
    .description('workload state of services (getWorkloadState / setWorkloadState / batch)');

  r.action(
    workload
      .command('get')
      .description(
        'show the workload state of a service (read-only; absent: nothing on stdout, a note on stderr)',
      )
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .addHelpText(
        'after',
        examples('stateful-route workload get default room --redis redis://127.0.0.1:6379 --json'),
      ),
    async (ctx, [ns, svc]) => {
      const backend = await ctx.backend();
      const state = await backend.getWorkloadState(ns as string, svc as string);
      // Absent: stdout stays empty, so that $(stateful-route workload get ...) is the state or
      // nothing, never a sentence.
      ctx.out.result({ state }, () =>
        state === null
          ? ctx.out.note(`no workload state for service ${String(svc)}`)
          : ctx.out.line(state),
      );
    },
  );

  r.action(
    workload
      .command('set')
      .description('set the workload state of a service (writes: SET sf:{<ns>:workload:<svc>})')
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .argument('<state>', 'workload state string, stored unchanged')
      .addHelpText(
        'after',
        examples(
          'stateful-route workload set default room 42-1732800000 --redis redis://127.0.0.1:6379',
        ),
      ),
    async (ctx, [ns, svc, state]) => {
      const backend = await ctx.backend();
      await backend.setWorkloadState(ns as string, svc as string, state as string);
      ctx.out.result({ namespace: ns, service: svc, state }, () =>
        ctx.out.line(`workload state of ${String(svc)} is now ${String(state)}`),
      );
    },
  );

  r.action(
    workload
      .command('query')
      .description('workload states of several services at once (read-only; absent ones left out)')
      .argument('<ns>', 'namespace')
      .argument('<svc...>', 'service names')
      .addHelpText(
        'after',
        examples(
          'stateful-route workload query default room lobby chat --redis redis://127.0.0.1:6379',
        ),
      ),
    async (ctx, [ns, services]) => {
      const backend = await ctx.backend();
      const states = await backend.getWorkloadStateBatch(ns as string, services as string[]);
      ctx.out.result({ states }, () => {
        const rows = Object.entries(states);
        if (rows.length === 0) ctx.out.line('no workload states for these services');
        else ctx.out.table(['SERVICE', 'STATE'], rows);
      });
    },
  );
}
