/** `state get|set`: the pod states of a service (getServiceState, setServiceState). */
import type { Command } from 'commander';
import { parseInteger } from '../parse.js';
import { examples, type Registrar } from './shared.js';

/** Registers `state get` and `state set`. */
export function registerState(program: Command, r: Registrar): void {
  const state = program
    .command('state')
    .description('pod states of a service (getServiceState / setServiceState)');

  r.action(
    state
      .command('get')
      .description('list the state of every pod of a service (read-only)')
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .addHelpText(
        'after',
        examples(
          'stateful-route state get default room --redis redis://127.0.0.1:6379',
          'stateful-route state get default room --server http://127.0.0.1:8080 --json',
        ),
      ),
    async (ctx, [ns, svc]) => {
      const backend = await ctx.backend();
      const pods = await backend.getServiceState(ns as string, svc as string);
      ctx.out.result({ pods }, () => {
        const rows = Object.entries(pods)
          .map(([id, value]) => [Number(id), value] as const)
          .sort((a, b) => a[0] - b[0]);
        if (rows.length === 0) ctx.out.line(`no pod states for service ${String(svc)}`);
        else ctx.out.table(['POD', 'STATE'], rows);
      });
    },
  );

  r.action(
    state
      .command('set')
      .description('set the state of one pod (writes: HSET sf:{<ns>:state:<svc>} <podId> <state>)')
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .argument('<podId>', 'pod id, an integer >= 0')
      .argument('<state>', 'state string, stored unchanged (e.g. READY)')
      .addHelpText(
        'after',
        examples('stateful-route state set default room 3 READY --redis redis://127.0.0.1:6379'),
      ),
    async (ctx, [ns, svc, podId, value]) => {
      const id = parseInteger(podId as string, 'podId');
      const backend = await ctx.backend();
      await backend.setServiceState(ns as string, svc as string, id, value as string);
      ctx.out.result({ namespace: ns, service: svc, podId: id, state: value }, () =>
        ctx.out.line(`pod ${id} of ${String(svc)} is now ${String(value)}`),
      );
    },
  );
}
