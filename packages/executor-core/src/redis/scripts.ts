/**
 * The link scripts, read from the package's `lua/` folder once at import, with their SHA1
 * computed locally so EVALSHA needs no SCRIPT LOAD round trip first.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface LuaScript {
  /** File name without `.lua`, e.g. `set-linked-pod`. */
  readonly name: string;
  readonly source: string;
  /** SHA1 of the source, as Redis computes it. */
  readonly sha: string;
  readonly numberOfKeys: number;
}

function load(name: string, numberOfKeys: number): LuaScript {
  // src/redis/ and dist/redis/ are both two levels below the package root.
  const source = readFileSync(new URL(`../../lua/${name}.lua`, import.meta.url), 'utf8');
  return { name, source, sha: createHash('sha1').update(source).digest('hex'), numberOfKeys };
}

/** Every script the executor runs. */
export const SCRIPTS = {
  setLinkedPod: load('set-linked-pod', 2),
  setLinkedPodIfAbsent: load('set-linked-pod-if-absent', 2),
  trySetLinkedPod: load('try-set-linked-pod', 2),
  getLinkedPodIfPersist: load('get-linked-pod-if-persist', 1),
  removeLinkedPod: load('remove-linked-pod', 2),
  removeLinkedPodWithId: load('remove-linked-pod-with-id', 2),
} as const;

export const ALL_SCRIPTS: readonly LuaScript[] = Object.values(SCRIPTS);
