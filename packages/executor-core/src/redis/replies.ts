/**
 * Script and command replies read into the contract's values; a reply of a shape the
 * contract does not allow is a typed `ScriptError`, never a wrong value.
 */
import { ScriptError } from '../errors.js';
import { NO_POD, type TrySetResult } from '../executor.js';
import { isAbsentLink, isAbsentWorkload, parsePodId, putOwn } from '../values.js';
import { SCRIPTS, type LuaScript } from './scripts.js';

// Accepts HGETALL's flat array (the fast path) or ioredis' object (the near cache's read).
// Pod ids are integer keys (array indices): a plain assignment always makes them own
// properties, so the hottest read needs no putOwn.
export function podStates(reply: Record<string, string> | unknown[]): Record<number, string> {
  const out: Record<number, string> = {};
  if (Array.isArray(reply)) {
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const field = reply[i];
      const pod = typeof field === 'string' ? parsePodId(field) : undefined;
      if (pod !== undefined) out[pod] = String(reply[i + 1]);
    }
    return out;
  }
  const hash = reply;
  for (const field in hash) {
    const pod = parsePodId(field);
    if (pod !== undefined) out[pod] = hash[field]!;
  }
  return out;
}

export function workloadValue(value: string | null): string | null {
  return isAbsentWorkload(value) ? null : value;
}

export function unexpected(script: LuaScript, reply: unknown): ScriptError {
  const shape = Array.isArray(reply) ? `an array of ${reply.length}` : typeof reply;
  return new ScriptError(
    script.name,
    '',
    `script ${script.name} replied with ${shape}, which the contract does not allow`,
  );
}

export function stringArray(reply: unknown, script: LuaScript, min: number, max = min): string[] {
  if (
    !Array.isArray(reply) ||
    reply.length < min ||
    reply.length > max ||
    reply.some((v) => typeof v !== 'string')
  ) {
    throw unexpected(script, reply);
  }
  return reply as string[];
}

export function flag(reply: unknown, script: LuaScript): boolean {
  if (reply !== 0 && reply !== 1) throw unexpected(script, reply);
  return reply === 1;
}

// A pod in a script reply; '-1' and anything that is not a pod id are "no pod".
export function podOf(value: string): number {
  return parsePodId(value) ?? NO_POD;
}

/** trySetLinkedPod's reply (`{current}`, `{pod}` or `{pod, previous}`) for requested `pod`. */
export function trySetResult(reply: unknown, pod: string): TrySetResult {
  const values = stringArray(reply, SCRIPTS.trySetLinkedPod, 1, 2);
  const first = values[0]!;
  return {
    linked: first === pod,
    current: podOf(first),
    previous: values.length > 1 ? podOf(values[1]!) : NO_POD,
  };
}

/** The services whose workload state is present, from the values read in `svcs` order. */
export function workloadStates(
  svcs: readonly string[],
  values: readonly (string | null)[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < svcs.length; i++) {
    const value = values[i];
    if (!isAbsentWorkload(value)) putOwn(out, svcs[i]!, value);
  }
  return out;
}

/** The uids grouped by pod, in input order; absent and non-integer values are skipped. */
export function uidsByPod(
  uids: readonly string[],
  values: readonly (string | null)[],
): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (let i = 0; i < uids.length; i++) {
    const value = values[i];
    if (isAbsentLink(value)) continue;
    const pod = parsePodId(value);
    if (pod === undefined) continue;
    (out[pod] ??= []).push(uids[i]!);
  }
  return out;
}

/** A link index hash as service -> pod; non-integer pods are skipped. */
export function linkServices(hash: Record<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const svc in hash) {
    const pod = parsePodId(hash[svc]!);
    if (pod !== undefined) putOwn(out, svc, pod);
  }
  return out;
}
