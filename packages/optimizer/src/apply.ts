/** Carries out the safe actions of findings on a running Redis executor. */
import type { TunableExecutor } from '@stateful-route/executor-core';
import { ACTION_IDS, type ActionId, type Finding } from './finding.js';
import { OptimizerOptionError } from './errors.js';

/** What `applyActions` did for one action. */
export interface AppliedAction {
  /** The action id. */
  id: ActionId;
  /** The finding that asked for it. */
  finding: string;
  /** `applied`: done; `skipped`: not needed or not possible (see `detail`); `failed`: threw. */
  outcome: 'applied' | 'skipped' | 'failed';
  /** What was changed, or why not. */
  detail: string;
  /** The error code when it failed. */
  errorCode?: string;
}

/** Options of `applyActions`. */
export interface ApplyOptions {
  /** Apply only these action ids (default: every safe action of the findings). */
  only?: readonly string[];
}

const KNOWN = new Set<string>(Object.values(ACTION_IDS));

/**
 * Applies the safe actions of `findings` to `executor`, each at most once, and reports what
 * it did. An action that fails is reported (with its error code) and the others still run.
 * @example
 * const done = await applyActions(executor, evaluate(input));
 * @throws SR_OPTIMIZER_INVALID_OPTION when `only` names an unknown action
 */
export async function applyActions(
  executor: TunableExecutor,
  findings: readonly Finding[],
  options: ApplyOptions = {},
): Promise<AppliedAction[]> {
  for (const id of options.only ?? []) {
    if (!KNOWN.has(id)) {
      throw new OptimizerOptionError(
        'only',
        `unknown action "${id}" (known: ${[...KNOWN].join(', ')})`,
      );
    }
  }
  const done: AppliedAction[] = [];
  const seen = new Set<string>();
  for (const finding of findings) {
    const action = finding.action;
    if (!action || !action.safe || seen.has(action.id)) continue;
    if (options.only && !options.only.includes(action.id)) continue;
    seen.add(action.id);
    try {
      const detail = await run(executor, action.id);
      done.push({
        id: action.id,
        finding: finding.id,
        outcome: detail.startsWith('skipped:') ? 'skipped' : 'applied',
        detail: detail.replace(/^skipped: /, ''),
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      done.push({
        id: action.id,
        finding: finding.id,
        outcome: 'failed',
        detail: (error as Error).message,
        ...(typeof code === 'string' ? { errorCode: code } : {}),
      });
    }
  }
  return done;
}

async function run(executor: TunableExecutor, id: ActionId): Promise<string> {
  switch (id) {
    case ACTION_IDS.preloadScripts:
      await executor.loadScripts();
      executor.setScriptTransport('evalsha');
      return "scripts loaded; script transport set to 'evalsha'";
    case ACTION_IDS.enableAutoPipelining: {
      executor.setAutoPipelining(true);
      if (executor.connectionCount >= 2) return 'auto-pipelining on';
      // No connectionFactory: pipelining alone is still the action asked for.
      if (!executor.canAddConnections) {
        return 'auto-pipelining on (1 connection: the executor has no connectionFactory)';
      }
      await executor.setConnectionCount(2);
      return 'auto-pipelining on; calls spread over 2 connections';
    }
    case ACTION_IDS.disableAutoPipelining:
      executor.setAutoPipelining(false);
      return 'auto-pipelining off';
    case ACTION_IDS.enableNearCache:
      if (executor.nearCacheEnabled) return 'skipped: near cache already on';
      await executor.enableNearCache();
      return 'near cache on';
  }
}
