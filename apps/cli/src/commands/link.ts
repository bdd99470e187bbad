/**
 * `link get|set|try|set-if-absent|remove|list|query`: uid -> pod links, one sub-command per
 * executor operation. Only set, try, set-if-absent and remove write.
 */
import type { Command } from 'commander';
import { parseInteger } from '../parse.js';
import { registerLinkScan } from './link-scan.js';
import { examples, pod, type Registrar } from './shared.js';

const PERSIST_HELP =
  '-1 for a permanent link (default), or N > 0 for a link that expires after N seconds';
const REDIS = '--redis redis://127.0.0.1:6379';

/** Registers the link sub-commands. */
export function registerLink(program: Command, r: Registrar): void {
  const link = program.command('link').description('uid -> pod links of a service');

  r.action(
    link
      .command('get')
      .description('the pod a uid is linked to for a service, -1 when none (read-only)')
      .argument('<ns>', 'namespace')
      .argument('<uid>', 'user or session id')
      .argument('<svc>', 'service name')
      .option('--persistent-only', 'only a permanent link counts (getLinkedPodIfPersist)')
      .addHelpText(
        'after',
        examples(
          `stateful-route link get default user123 room ${REDIS}`,
          `stateful-route link get default user123 room --persistent-only --json ${REDIS}`,
        ),
      ),
    async (ctx, [ns, uid, svc], options) => {
      const backend = await ctx.backend();
      const podId = options['persistentOnly']
        ? await backend.getLinkedPodIfPersist(ns as string, uid as string, svc as string)
        : await backend.getLinkedPod(ns as string, uid as string, svc as string);
      ctx.out.result({ podId }, () => ctx.out.line(pod(podId)));
    },
  );

  const writers = [
    {
      name: 'set',
      description: 'link a uid to a pod unconditionally; prints the previous pod (setLinkedPod)',
      example: `stateful-route link set default user123 room 3 ${REDIS}`,
    },
    {
      name: 'try',
      description:
        'link unless a permanent link to another pod exists (trySetLinkedPod); prints linked, current, previous',
      example: `stateful-route link try default user123 room 3 --persist-seconds 300 ${REDIS}`,
    },
    {
      name: 'set-if-absent',
      description:
        'link only when the uid has no link yet; prints the pod actually linked (setLinkedPodIfAbsent)',
      example: `stateful-route link set-if-absent default user123 room 3 --persist-seconds 300 ${REDIS}`,
    },
  ] as const;

  for (const writer of writers) {
    r.action(
      link
        .command(writer.name)
        .description(`${writer.description} (writes)`)
        .argument('<ns>', 'namespace')
        .argument('<uid>', 'user or session id')
        .argument('<svc>', 'service name')
        .argument('<podId>', 'pod id, an integer >= 0')
        .option('--persist-seconds <n>', PERSIST_HELP, '-1')
        .addHelpText('after', examples(writer.example)),
      async (ctx, [ns, uid, svc, podArg], options) => {
        const podId = parseInteger(podArg as string, 'podId');
        const persistSeconds = parseInteger(options['persistSeconds'] as string, 'persistSeconds');
        const args = [
          ns as string,
          uid as string,
          svc as string,
          { podId, persistSeconds },
        ] as const;
        const backend = await ctx.backend();
        if (writer.name === 'set') {
          const previous = await backend.setLinkedPod(...args);
          ctx.out.result({ previous }, () =>
            ctx.out.line(`linked ${String(uid)} to pod ${podId} (previous: ${pod(previous)})`),
          );
        } else if (writer.name === 'try') {
          const result = await backend.trySetLinkedPod(...args);
          ctx.out.result(result, () =>
            ctx.out.line(
              result.linked
                ? `linked ${String(uid)} to pod ${result.current} (previous: ${pod(result.previous)})`
                : `refused: ${String(uid)} is permanently linked to pod ${result.current}`,
            ),
          );
        } else {
          const linked = await backend.setLinkedPodIfAbsent(...args);
          ctx.out.result({ podId: linked }, () =>
            ctx.out.line(
              linked === podId
                ? `linked ${String(uid)} to pod ${linked}`
                : `kept the existing link of ${String(uid)} to pod ${linked}`,
            ),
          );
        }
      },
    );
  }

  r.action(
    link
      .command('remove')
      .description(
        'delete the link of a uid for a service (removeLinkedPod, or removeLinkedPodWithId with --pod-id) (writes)',
      )
      .argument('<ns>', 'namespace')
      .argument('<uid>', 'user or session id')
      .argument('<svc>', 'service name')
      .option(
        '--keep-seconds <n>',
        'an integer >= -1; accepted and ignored, as in the Java contract',
        '0',
      )
      .option('--pod-id <n>', 'remove only if the link holds exactly this pod')
      .addHelpText(
        'after',
        examples(
          `stateful-route link remove default user123 room ${REDIS}`,
          `stateful-route link remove default user123 room --pod-id 3 ${REDIS}`,
        ),
      ),
    async (ctx, [ns, uid, svc], options) => {
      const keepSeconds = parseInteger(options['keepSeconds'] as string, 'keepSeconds');
      const podId =
        options['podId'] === undefined
          ? undefined
          : parseInteger(options['podId'] as string, 'podId');
      const backend = await ctx.backend();
      const removed =
        podId === undefined
          ? await backend.removeLinkedPod(ns as string, uid as string, svc as string, {
              keepSeconds,
            })
          : await backend.removeLinkedPodWithId(ns as string, uid as string, svc as string, {
              podId,
              keepSeconds,
            });
      ctx.out.result({ removed }, () =>
        ctx.out.line(removed ? `removed the link of ${String(uid)}` : 'nothing removed'),
      );
    },
  );

  r.action(
    link
      .command('list')
      .description("a uid's permanent links, service -> pod (getLinkService; read-only)")
      .argument('<ns>', 'namespace')
      .argument('<uid>', 'user or session id')
      .addHelpText('after', examples(`stateful-route link list default user123 ${REDIS}`)),
    async (ctx, [ns, uid]) => {
      const backend = await ctx.backend();
      const links = await backend.getLinkService(ns as string, uid as string);
      ctx.out.result({ links }, () => {
        const rows = Object.entries(links).sort((a, b) => a[0].localeCompare(b[0]));
        if (rows.length === 0) ctx.out.line(`no permanent links for ${String(uid)}`);
        else ctx.out.table(['SERVICE', 'POD'], rows);
      });
    },
  );

  r.action(
    link
      .command('query')
      .description(
        'the pods of many uids for one service, pod -> uids (batchGetLinkedPod; read-only)',
      )
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .argument('<uid...>', 'user or session ids')
      .addHelpText(
        'after',
        examples(`stateful-route link query default room user1 user2 user3 ${REDIS}`),
      ),
    async (ctx, [ns, svc, uids]) => {
      const backend = await ctx.backend();
      const pods = await backend.batchGetLinkedPod(ns as string, uids as string[], svc as string);
      ctx.out.result({ pods }, () => {
        const rows = Object.entries(pods)
          .map(([id, list]) => [Number(id), list.join(' ')] as const)
          .sort((a, b) => a[0] - b[0]);
        if (rows.length === 0) ctx.out.line('none of these uids has a link');
        else ctx.out.table(['POD', 'UIDS'], rows);
      });
    },
  );
  registerLinkScan(link, r);
}
