/**
 * The scripts, read from the package's `lua/` folder once at import, with their SHA1
 * computed locally so EVALSHA needs no SCRIPT LOAD round trip first: the link scripts of the
 * contract, and placement's (docs/placement.md), each of which is `lua/placement/lib.lua`
 * followed by its own body.
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

function read(path: string): string {
  // src/redis/ and dist/redis/ are both two levels below the package root.
  return readFileSync(new URL(`../../lua/${path}.lua`, import.meta.url), 'utf8');
}

function script(name: string, source: string, numberOfKeys: number): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex'), numberOfKeys };
}

function load(name: string, numberOfKeys: number): LuaScript {
  return script(name, read(name), numberOfKeys);
}

const PLACEMENT_LIB = read('placement/lib');
/** The number of placement keys every service-slot placement script declares (lib.lua). */
export const PLACEMENT_KEY_COUNT = 8;

// A placement script on the service's slot: the shared functions, then its body. `extraKeys`
// are declared after the eight placement keys (the link keys of the standalone scripts).
function loadPlacement(name: string, extraKeys = 0): LuaScript {
  const source = `${PLACEMENT_LIB}\n${read(`placement/${name}`)}`;
  return script(`placement-${name}`, source, PLACEMENT_KEY_COUNT + extraKeys);
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

/** Placement's scripts (docs/placement.md, "Scripts"). */
export const PLACEMENT_SCRIPTS = {
  register: loadPlacement('register'),
  drain: loadPlacement('drain'),
  /** Standalone only: link check, claim and link in one step (declares the link keys too). */
  allocate: loadPlacement('allocate', 2),
  /** Standalone only: unlink and free the claim in one step. */
  release: loadPlacement('release', 2),
  claim: loadPlacement('claim'),
  settle: loadPlacement('settle'),
  releaseClaim: loadPlacement('release-claim'),
  sweepList: loadPlacement('sweep-list'),
  sweepRelease: loadPlacement('sweep-release'),
  due: loadPlacement('due'),
  apply: loadPlacement('apply'),
  adopt: loadPlacement('adopt'),
  placement: loadPlacement('placement'),
  /** The uid's slot: link if absent, saying whether this call wrote it. */
  link: load('placement-link', 2),
  /** The uid's slot: delete the link, saying what it held. */
  unlink: load('placement-unlink', 2),
} as const;

export const ALL_SCRIPTS: readonly LuaScript[] = [
  ...Object.values(SCRIPTS),
  ...Object.values(PLACEMENT_SCRIPTS),
];
