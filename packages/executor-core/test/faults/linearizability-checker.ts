/**
 * A linearizability checker for the history of one link (one uid, one service), in the style
 * of Wing & Gong with Lowe's memoisation: a depth-first search over the orders the real-time
 * constraints allow, remembering every (set of linearized calls, model state) pair already
 * explored so that no configuration is searched twice.
 *
 * The sequential model is the contract's link (shared/spec/redis-data-model.md, section 3) seen
 * as a register holding a pod and a permanent flag. Temporary links are written with TTLs far
 * longer than a test, so they never expire inside a history.
 */

/** The value of one link: absent, or a pod and whether it is permanent. */
export type LinkState = { pod: number; permanent: boolean } | null;

/** One call on the link, with the arguments that matter to the model. */
export type LinkOp =
  | { kind: 'setLinkedPod'; pod: number; persist: number }
  | { kind: 'trySetLinkedPod'; pod: number; persist: number }
  | { kind: 'setLinkedPodIfAbsent'; pod: number; persist: number }
  | { kind: 'getLinkedPod' }
  | { kind: 'getLinkedPodIfPersist' }
  | { kind: 'removeLinkedPod' }
  | { kind: 'removeLinkedPodWithId'; pod: number };

/** The reply of a call as the executor returns it. */
export type LinkOutput = number | boolean | { linked: boolean; current: number; previous: number };

/** One completed call: who made it, what it asked, what it got, and when (ms, any clock). */
export interface HistoryEntry {
  client: number;
  op: LinkOp;
  output: LinkOutput;
  /** Invocation time: taken before the request was sent. */
  call: number;
  /** Response time: taken after the reply arrived. */
  ret: number;
}

/** Applies one call to the model: the new state and the reply the contract demands. */
export function step(state: LinkState, op: LinkOp): [LinkState, LinkOutput] {
  switch (op.kind) {
    case 'setLinkedPod':
      return [{ pod: op.pod, permanent: op.persist === -1 }, state ? state.pod : -1];
    case 'trySetLinkedPod':
      if (state && state.pod !== op.pod && state.permanent) {
        return [state, { linked: false, current: state.pod, previous: -1 }];
      }
      return [
        { pod: op.pod, permanent: op.persist === -1 },
        { linked: true, current: op.pod, previous: state ? state.pod : -1 },
      ];
    case 'setLinkedPodIfAbsent':
      if (state) return [state, state.pod];
      return [{ pod: op.pod, permanent: op.persist === -1 }, op.pod];
    case 'getLinkedPod':
      return [state, state ? state.pod : -1];
    case 'getLinkedPodIfPersist':
      return [state, state && state.permanent ? state.pod : -1];
    case 'removeLinkedPod':
      return [null, state !== null];
    case 'removeLinkedPodWithId':
      if (state && state.pod === op.pod) return [null, true];
      return [state, false];
  }
}

/** Whether two replies are equal (trySet replies compared field by field). */
export function sameOutput(a: LinkOutput, b: LinkOutput): boolean {
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  return a.linked === b.linked && a.current === b.current && a.previous === b.previous;
}

function stateKey(state: LinkState): string {
  return state === null ? '-' : `${state.pod}${state.permanent ? 'p' : 't'}`;
}

/** The verdict for one history. */
export type CheckResult =
  | { linearizable: true; order: HistoryEntry[]; explored: number }
  | { linearizable: false; longestPrefix: HistoryEntry[]; explored: number };

interface Node {
  entry: HistoryEntry | null;
  index: number;
  isCall: boolean;
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

/**
 * Decides whether `history` is linearizable with respect to the link model, starting from
 * `initial`. A call whose reply arrived before another's invocation must be ordered first;
 * overlapping calls may be ordered either way. Ties (a reply at the very instant of another
 * call) count as overlapping, which only ever makes the check more permissive.
 */
export function checkLinearizable(
  history: readonly HistoryEntry[],
  initial: LinkState = null,
): CheckResult {
  if (history.length === 0) return { linearizable: true, order: [], explored: 0 };
  // Events sorted by time; at equal times calls come before returns.
  const events: { time: number; isCall: boolean; index: number }[] = [];
  history.forEach((entry, index) => {
    if (!(entry.ret >= entry.call)) throw new Error(`entry ${index} returns before its call`);
    events.push({ time: entry.call, isCall: true, index });
    events.push({ time: entry.ret, isCall: false, index });
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));

  const head: Node = { entry: null, index: -1, isCall: false, match: null, prev: null, next: null };
  const calls = new Map<number, Node>();
  let last = head;
  for (const event of events) {
    const node: Node = {
      entry: history[event.index]!,
      index: event.index,
      isCall: event.isCall,
      match: null,
      prev: last,
      next: null,
    };
    if (event.isCall) calls.set(event.index, node);
    else calls.get(event.index)!.match = node;
    last.next = node;
    last = node;
  }

  // Removes a call and its return from the list (the call is linearized).
  const lift = (call: Node): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  // Puts them back, in reverse order of removal.
  const unlift = (call: Node): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };

  const seen = new Set<string>();
  const stack: { call: Node; state: LinkState }[] = [];
  let state = initial;
  let linearized = 0n;
  let longest: Node[] = [];
  let explored = 0;
  let node = head.next;
  while (head.next !== null) {
    if (node === null) throw new Error('checker: walked off the event list');
    if (node.isCall) {
      explored++;
      const [next, output] = step(state, node.entry!.op);
      if (sameOutput(output, node.entry!.output)) {
        const bits = linearized | (1n << BigInt(node.index));
        const key = `${bits.toString(36)}|${stateKey(next)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ call: node, state });
          if (stack.length > longest.length) longest = stack.map((s) => s.call);
          state = next;
          linearized = bits;
          lift(node);
          node = head.next;
          continue;
        }
      }
      node = node.next;
    } else {
      // A return whose call is not linearized yet: everything after it is later in real
      // time, so this branch is dead. Undo the last choice and try the next candidate.
      const top = stack.pop();
      if (!top) {
        return {
          linearizable: false,
          longestPrefix: longest.map((n) => n.entry!),
          explored,
        };
      }
      state = top.state;
      linearized &= ~(1n << BigInt(top.call.index));
      unlift(top.call);
      node = top.call.next;
    }
  }
  return { linearizable: true, order: stack.map((s) => s.call.entry!), explored };
}

/** A readable line per call, for failure messages. */
export function describeHistory(history: readonly HistoryEntry[]): string {
  return [...history]
    .sort((a, b) => a.call - b.call)
    .map((e) => {
      const { kind, ...args } = e.op;
      return `c${e.client} [${e.call.toFixed(3)}, ${e.ret.toFixed(3)}] ${kind}(${JSON.stringify(args)}) -> ${JSON.stringify(e.output)}`;
    })
    .join('\n');
}
