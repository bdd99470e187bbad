/**
 * Placement (docs/placement.md): `pod register|drain|undrain|status`, `allocate`, `release`
 * and `sweep`, one executor operation each (`sweep --reconcile` adds `reconcilePlacement`).
 * All but `pod status` write.
 */
import type { Command } from 'commander';
import {
  MAX_PLACEMENT_BATCH,
  PLACEMENT_STRATEGIES,
  type Allocation,
  type Placement,
  type PlacementStrategy,
  type PodPlacement,
  type ReconcileResult,
} from '@stateful-route/executor-core';
import type { Output } from '../output.js';
import { parseInteger } from '../parse.js';
import { examples, type Registrar } from './shared.js';

const PERSIST_HELP =
  '-1 for a permanent link (default), or N > 0 for a link that expires after N seconds';
const REDIS = '--redis redis://127.0.0.1:6379';
const SERVER = '--server http://127.0.0.1:8080';

/** The LEASE LEFT column: seconds left on the lease, or how long ago it ran out. */
export function formatLease(leaseMs: number): string {
  const seconds = (Math.abs(leaseMs) / 1000).toFixed(1);
  return leaseMs > 0 ? `${seconds}s` : `expired ${seconds}s ago`;
}

/** Prints `placement()` as a table sorted by pod id, then one summary line. */
export function printPlacement(out: Output, service: string, placement: Placement): void {
  const pods = Object.entries(placement.pods)
    .map(([id, pod]) => [Number(id), pod] as const)
    .sort((a, b) => a[0] - b[0]);
  if (pods.length === 0) {
    out.line(`no registered pods for service ${service}`);
    return;
  }
  out.table(
    ['POD', 'STATUS', 'LOAD', 'CAPACITY', 'LEASE LEFT'],
    pods.map(([id, pod]) => [id, pod.status, pod.load, pod.capacity, formatLease(pod.leaseMs)]),
  );
  const count = (status: PodPlacement['status']) =>
    pods.filter(([, pod]) => pod.status === status).length;
  // What new users can still get: the room on live pods only (draining and dead take none).
  const live = pods.filter(([, pod]) => pod.status === 'live');
  const load = live.reduce((sum, [, pod]) => sum + pod.load, 0);
  const capacity = live.reduce((sum, [, pod]) => sum + pod.capacity, 0);
  out.line(
    `${pods.length} pods: ${count('live')} live, ${count('draining')} draining, ${count('dead')} dead; live load ${load} of ${capacity}`,
  );
}

function loadOf(allocation: Allocation): string {
  return allocation.load === null || allocation.capacity === null
    ? 'pod not registered'
    : `load ${allocation.load}/${allocation.capacity}`;
}

/** Registers `pod`, `allocate`, `release` and `sweep`. */
export function registerPlacement(program: Command, r: Registrar): void {
  const pod = program
    .command('pod')
    .description('placement: pod capacity, lease and drain (registerPod, drainPod, placement)');

  r.action(
    pod
      .command('register')
      .description(
        "register a pod with its capacity and renew its liveness lease; repeat it as the pod's heartbeat (registerPod) (writes)",
      )
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .argument('<podId>', 'pod id, an integer >= 0')
      .requiredOption('--capacity <n>', 'users the pod takes, 0..2147483647 (0: never placed on)')
      .requiredOption(
        '--ttl-seconds <n>',
        'the liveness lease, 1..2147483647 s: the pod is dead when it runs out',
      )
      .addHelpText(
        'after',
        examples(
          `stateful-route pod register default room 3 --capacity 100 --ttl-seconds 15 ${REDIS}`,
        ),
      ),
    async (ctx, [ns, svc, podArg], options) => {
      const podId = parseInteger(podArg as string, 'podId');
      const capacity = parseInteger(options['capacity'] as string, 'capacity');
      const ttlSeconds = parseInteger(options['ttlSeconds'] as string, 'ttlSeconds');
      const backend = await ctx.backend();
      await backend.registerPod(ns as string, svc as string, podId, { capacity, ttlSeconds });
      ctx.out.result({ namespace: ns, service: svc, podId, capacity, ttlSeconds }, () =>
        ctx.out.line(
          `pod ${podId} of ${String(svc)} is registered: capacity ${capacity}, lease ${ttlSeconds}s`,
        ),
      );
    },
  );

  for (const draining of [true, false]) {
    r.action(
      pod
        .command(draining ? 'drain' : 'undrain')
        .description(
          draining
            ? 'stop new placements on a pod; its links keep resolving (drainPod) (writes)'
            : 'end the drain of a pod: it takes placements again (undrainPod) (writes)',
        )
        .argument('<ns>', 'namespace')
        .argument('<svc>', 'service name')
        .argument('<podId>', 'pod id, an integer >= 0')
        .addHelpText(
          'after',
          examples(`stateful-route pod ${draining ? 'drain' : 'undrain'} default room 3 ${REDIS}`),
        ),
      async (ctx, [ns, svc, podArg]) => {
        const podId = parseInteger(podArg as string, 'podId');
        const backend = await ctx.backend();
        if (draining) await backend.drainPod(ns as string, svc as string, podId);
        else await backend.undrainPod(ns as string, svc as string, podId);
        ctx.out.result({ namespace: ns, service: svc, podId, draining }, () =>
          ctx.out.line(
            draining
              ? `pod ${podId} of ${String(svc)} is draining: no new placements, its links keep resolving`
              : `pod ${podId} of ${String(svc)} takes placements again`,
          ),
        );
      },
    );
  }

  r.action(
    pod
      .command('status')
      .description(
        'every registered pod of a service: status (live, draining, dead), load, capacity, lease left (placement; read-only)',
      )
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .addHelpText(
        'after',
        examples(
          `stateful-route pod status default room ${REDIS}`,
          `stateful-route pod status default room --json ${SERVER}`,
        ),
      ),
    async (ctx, [ns, svc]) => {
      const backend = await ctx.backend();
      const placement = await backend.placement(ns as string, svc as string);
      ctx.out.result(placement, () => printPlacement(ctx.out, svc as string, placement));
    },
  );

  r.action(
    program
      .command('allocate')
      .description(
        `the pod of a uid: its link if it has one, else a live, non-draining pod with room, claimed and linked in one step (allocate); exit 5 when no pod has room (writes)`,
      )
      .argument('<ns>', 'namespace')
      .argument('<uid>', 'user or session id')
      .argument('<svc>', 'service name')
      .option('--persist-seconds <n>', PERSIST_HELP, '-1')
      .option(
        '--strategy <name>',
        `${PLACEMENT_STRATEGIES.join(' or ')}: spread users, or fill the fullest pod with room first`,
        'least-loaded',
      )
      .addHelpText(
        'after',
        examples(
          `stateful-route allocate default user123 room ${REDIS}`,
          `stateful-route allocate default user123 room --persist-seconds 300 --strategy packed --json ${SERVER}`,
        ),
      ),
    async (ctx, [ns, uid, svc], options) => {
      const persistSeconds = parseInteger(options['persistSeconds'] as string, 'persistSeconds');
      // Checked by the executor's rules (SR_VALIDATION, field `strategy`), like every value.
      const strategy = options['strategy'] as PlacementStrategy;
      const backend = await ctx.backend();
      const allocation = await backend.allocate(ns as string, uid as string, svc as string, {
        persistSeconds,
        strategy,
      });
      ctx.out.result(allocation, () =>
        ctx.out.line(
          allocation.created
            ? `placed ${String(uid)} on pod ${allocation.podId} (${loadOf(allocation)})`
            : `${String(uid)} is already linked to pod ${allocation.podId} (${loadOf(allocation)}); nothing changed`,
        ),
      );
    },
  );

  r.action(
    program
      .command('release')
      .description("remove a uid's link and free its claim on the pod (release) (writes)")
      .argument('<ns>', 'namespace')
      .argument('<uid>', 'user or session id')
      .argument('<svc>', 'service name')
      .addHelpText('after', examples(`stateful-route release default user123 room ${REDIS}`)),
    async (ctx, [ns, uid, svc]) => {
      const backend = await ctx.backend();
      const result = await backend.release(ns as string, uid as string, svc as string);
      ctx.out.result(result, () =>
        ctx.out.line(
          result.released
            ? `released ${String(uid)} from pod ${result.podId}`
            : `nothing released: ${String(uid)} has no link for ${String(svc)}`,
        ),
      );
    },
  );

  r.action(
    program
      .command('sweep')
      .description(
        'delete the links of dead pods and free their claims (sweepDeadPods); --reconcile also repairs drift between claims and links (reconcilePlacement) (writes)',
      )
      .argument('<ns>', 'namespace')
      .argument('<svc>', 'service name')
      .option('--batch <n>', `uids per Redis call, 1..${MAX_PLACEMENT_BATCH} (default 100)`)
      .option('--reconcile', 'then run a reconcile pass: expired links and stale pending claims')
      .option(
        '--full',
        'a full reconcile pass: also adopt links no claim covers (scans; implies --reconcile)',
      )
      .addHelpText(
        'after',
        examples(
          `stateful-route sweep default room ${REDIS}`,
          `stateful-route sweep default room --batch 500 --reconcile --full --json ${REDIS}`,
        ),
      ),
    async (ctx, [ns, svc], options) => {
      const batch =
        options['batch'] === undefined
          ? undefined
          : parseInteger(options['batch'] as string, 'batch');
      const full = options['full'] === true;
      const reconcile = full || options['reconcile'] === true;
      const batchOption = batch === undefined ? {} : { batch };
      const backend = await ctx.backend();
      const swept = await backend.sweepDeadPods(ns as string, svc as string, batchOption);
      let repaired: ReconcileResult | undefined;
      if (reconcile) {
        repaired = await backend.reconcilePlacement(ns as string, svc as string, {
          ...batchOption,
          full,
        });
      }
      ctx.out.result(repaired === undefined ? swept : { ...swept, reconcile: repaired }, () => {
        ctx.out.line(`swept ${swept.swept} links of dead pods, released ${swept.released} claims`);
        if (repaired !== undefined) {
          ctx.out.line(
            `reconcile${full ? ' (full)' : ''}: checked ${repaired.checked} claims, released ${repaired.released}, confirmed ${repaired.confirmed}, adopted ${repaired.adopted}`,
          );
        }
      });
    },
  );
}
