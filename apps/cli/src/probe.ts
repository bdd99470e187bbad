/**
 * The short workloads doctor and tune run on a Redis target: always under a namespace of
 * their own (`stateful-route-bench-<random>`), deleted when the command ends.
 */
import { randomBytes } from 'node:crypto';
import type { RedisBackend } from './backend.js';
import { deleteNamespace } from './cleanup.js';
import type { CommandContext } from './context.js';

/** A fresh bench namespace whose keys are deleted when the command ends. */
export function benchNamespace(ctx: CommandContext, backend: RedisBackend): string {
  const namespace = `stateful-route-bench-${randomBytes(4).toString('hex')}`;
  ctx.onClose(async () => {
    try {
      await deleteNamespace(backend.client, namespace);
    } catch (error) {
      // The outcome is already printed; say what is left behind rather than fail the command.
      ctx.out.note(
        `could not delete the keys of ${namespace} (${(error as Error).message}): ` +
          `delete sf:{${namespace}:* by hand`,
      );
    }
  });
  return namespace;
}
