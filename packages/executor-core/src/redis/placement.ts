/**
 * Placement on Redis (docs/placement.md): the order of the scripts in lua/placement/, on a
 * standalone Redis (allocate and release are one script each) and on a Cluster (the link is
 * in the uid's slot and the claim in the service's, so allocate is four single-slot steps:
 * link? / claim / link-if-absent / settle). Every step is one bounded script or command.
 */
import { NoCapacityError } from '../errors.js';
import { NO_POD } from '../executor.js';
import { linkIndexKey, linkKey, linkKeyPrefix } from '../keys.js';
import type { LinkScanOptions, LinkScanPage } from '../link-scan.js';
import {
  PENDING_GRACE_MS,
  placementKeys,
  podStatus,
  type Allocation,
  type Placement,
  type PlacementStrategy,
  type ReconcileResult,
  type ReleaseResult,
  type SweepResult,
} from '../placement.js';
import type { PlacementCounters } from '../telemetry/telemetry.js';
import { parsePodId, putOwn, readLink } from '../values.js';
import type { RedisClient } from './options.js';
import { unexpected } from './replies.js';
import { PLACEMENT_SCRIPTS as S, SCRIPTS, type LuaScript } from './scripts.js';

/** What placement needs of the Redis executor. */
export interface PlacementIo {
  readonly cluster: boolean;
  /** Runs a script within the executor's deadline; errors come out typed. */
  script(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** Bounds a command and types its errors. */
  call<T>(command: Promise<T>): Promise<T>;
  client(): RedisClient;
  /** Drops a link from the near cache once it was written (read-your-writes). */
  invalidate(key: string): void;
  scanLinks(namespace: string, options: LinkScanOptions): Promise<LinkScanPage>;
  readonly counters: PlacementCounters;
}

// The arguments every service-slot script starts with: the eight keys, the uid-set prefix.
function serviceKeys(ns: string, svc: string): { keys: string[]; prefix: string } {
  const k = placementKeys(ns, svc);
  return {
    keys: [k.cap, k.lease, k.drain, k.load, k.claim, k.exp, k.pending, k.free],
    prefix: k.uidsPrefix,
  };
}

// Replies out of shape are the same typed error as the link scripts' (replies.ts).
function array(reply: unknown, script: LuaScript, min: number): unknown[] {
  if (!Array.isArray(reply) || reply.length < min) throw unexpected(script, reply);
  return reply;
}

function int(value: unknown, script: LuaScript): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw unexpected(script, value);
  return n;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value == null ? '' : String(value);
}

const orNull = (n: number): number | null => (n < 0 ? null : n);
const GRACE = String(PENDING_GRACE_MS);
const REMOVE_WITH_ID = SCRIPTS.removeLinkedPodWithId;

export class RedisPlacement {
  constructor(private readonly io: PlacementIo) {}

  async register(ns: string, svc: string, pod: number, capacity: number, ttl: number) {
    const { keys, prefix } = serviceKeys(ns, svc);
    await this.io.script(S.register, keys, [prefix, String(pod), String(capacity), String(ttl)]);
  }

  async setDraining(ns: string, svc: string, pod: number, draining: boolean): Promise<void> {
    const { keys, prefix } = serviceKeys(ns, svc);
    await this.io.script(S.drain, keys, [prefix, String(pod), draining ? '1' : '0']);
  }

  allocate(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
    batch: number,
  ): Promise<Allocation> {
    return this.io.cluster
      ? this.#allocateInSteps(ns, uid, svc, persist, strategy, batch)
      : this.#allocateAtOnce(ns, uid, svc, persist, strategy, batch);
  }

  async #allocateAtOnce(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
    batch: number,
  ): Promise<Allocation> {
    const { keys, prefix } = serviceKeys(ns, svc);
    const k1 = linkKey(ns, uid, svc);
    const args = [prefix, uid, svc, String(persist), strategy, linkKeyPrefix(ns), String(batch)];
    let reply: unknown;
    try {
      reply = await this.io.script(S.allocate, [...keys, k1, linkIndexKey(ns, uid)], args);
    } finally {
      this.io.invalidate(k1);
    }
    const r = array(reply, S.allocate, 6);
    const counters = this.io.counters;
    counters.claimsReleased.reconciled += int(r[4], S.allocate);
    counters.claimsReleased.expired += int(r[5], S.allocate);
    const status = int(r[0], S.allocate);
    if (status === -1) {
      counters.allocations.no_capacity += 1;
      throw new NoCapacityError();
    }
    const podId = status === 0 ? readLink(k1, text(r[1])) : int(r[1], S.allocate);
    counters.allocations[status === 1 ? 'created' : 'existing'] += 1;
    return {
      podId,
      created: status === 1,
      load: orNull(int(r[2], S.allocate)),
      capacity: orNull(int(r[3], S.allocate)),
    };
  }

  // The Cluster's four steps. A crash between two of them leaves an extra claim (pending),
  // never a link without one (I2); reconcile frees it after the grace.
  async #allocateInSteps(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
    batch: number,
  ): Promise<Allocation> {
    const counters = this.io.counters;
    const k1 = linkKey(ns, uid, svc);
    // 1. An existing link answers at once.
    const existing = await this.io.call(this.io.client().get(k1));
    if (existing !== null && existing !== '') {
      const podId = readLink(k1, existing);
      counters.allocations.existing += 1;
      return { podId, created: false, ...(await this.#loadOf(ns, svc, podId)) };
    }
    // 2. Claim on the service's slot (once more after a reconcile batch when full).
    let claim = await this.#claim(ns, uid, svc, persist, strategy);
    if (claim === undefined) {
      await this.#reconcileDue(ns, svc, batch, {
        checked: 0,
        released: 0,
        confirmed: 0,
        adopted: 0,
      });
      claim = await this.#claim(ns, uid, svc, persist, strategy);
    }
    if (claim === undefined) {
      counters.allocations.no_capacity += 1;
      throw new NoCapacityError();
    }
    // 3. The link, if absent, on the uid's slot.
    const { keys, prefix } = serviceKeys(ns, svc);
    let linked: string;
    let wrote: boolean;
    try {
      const reply = array(
        await this.io.script(
          S.link,
          [k1, linkIndexKey(ns, uid)],
          [svc, claim.pod, String(persist)],
        ),
        S.link,
        2,
      );
      linked = text(reply[0]);
      wrote = int(reply[1], S.link) === 1;
    } catch (error) {
      // No link was written (a refused script writes nothing; a lost reply is settled by the
      // reconcile after the grace): free the claim now when the link surely is not ours.
      if ((error as { reply?: string }).reply === 'WRONGTYPE') {
        await this.io.script(S.settle, keys, [prefix, uid, claim.pod, '']).catch(() => {});
      }
      throw error;
    } finally {
      this.io.invalidate(k1);
    }
    // 4. Settle on the service's slot.
    const settled = array(
      await this.io.script(S.settle, keys, [prefix, uid, claim.pod, linked]),
      S.settle,
      4,
    );
    if (int(settled[1], S.settle) === 1) counters.claimsReleased.lost_race += 1;
    const created = wrote && linked === claim.pod;
    counters.allocations[created ? 'created' : 'existing'] += 1;
    return {
      podId: readLink(k1, linked),
      created,
      load: orNull(int(settled[2], S.settle)),
      capacity: orNull(int(settled[3], S.settle)),
    };
  }

  async #claim(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
  ): Promise<{ pod: string } | undefined> {
    const { keys, prefix } = serviceKeys(ns, svc);
    const reply = array(
      await this.io.script(S.claim, keys, [prefix, uid, String(persist), strategy, GRACE]),
      S.claim,
      5,
    );
    this.io.counters.claimsReleased.reconciled += int(reply[4], S.claim);
    if (int(reply[0], S.claim) === -1) return undefined;
    return { pod: String(int(reply[1], S.claim)) };
  }

  async #loadOf(
    ns: string,
    svc: string,
    pod: number,
  ): Promise<{ load: number | null; capacity: number | null }> {
    const k = placementKeys(ns, svc);
    const field = String(pod);
    // Two keys of one slot: one round trip each way, read as a MULTI would not add anything.
    const [capacity, load] = await Promise.all([
      this.io.call(this.io.client().hget(k.cap, field)),
      this.io.call(this.io.client().hget(k.load, field)),
    ]);
    if (capacity === null) return { load: null, capacity: null };
    return { load: Number(load ?? 0), capacity: Number(capacity) };
  }

  async release(ns: string, uid: string, svc: string): Promise<ReleaseResult> {
    const { keys, prefix } = serviceKeys(ns, svc);
    const k1 = linkKey(ns, uid, svc);
    const k2 = linkIndexKey(ns, uid);
    let old: string;
    let freed: boolean;
    try {
      if (this.io.cluster) {
        // Link first, claim second (I2): a crash between them leaves an extra claim.
        old = text(array(await this.io.script(S.unlink, [k1, k2], [svc]), S.unlink, 1)[0]);
        freed =
          int(await this.io.script(S.releaseClaim, keys, [prefix, uid, GRACE]), S.releaseClaim) ===
          1;
      } else {
        const reply = array(
          await this.io.script(S.release, [...keys, k1, k2], [prefix, uid, svc]),
          S.release,
          2,
        );
        old = text(reply[0]);
        freed = int(reply[1], S.release) === 1;
      }
    } finally {
      this.io.invalidate(k1);
    }
    if (freed) this.io.counters.claimsReleased.release += 1;
    return { released: old !== '', podId: old === '' ? NO_POD : (parsePodId(old) ?? NO_POD) };
  }

  async placement(ns: string, svc: string): Promise<Placement> {
    const { keys, prefix } = serviceKeys(ns, svc);
    const reply = array(await this.io.script(S.placement, keys, [prefix]), S.placement, 1);
    const now = int(reply[0], S.placement);
    const pods: Placement['pods'] = {};
    for (let i = 1; i + 4 < reply.length; i += 5) {
      const lease = int(reply[i + 3], S.placement);
      putOwn(pods, text(reply[i]), {
        load: int(reply[i + 2], S.placement),
        capacity: int(reply[i + 1], S.placement),
        status: podStatus(lease, int(reply[i + 4], S.placement) === 1, now),
        leaseMs: lease - now,
      });
    }
    return { pods };
  }

  // Each round: the next dead pod's uids (service slot), a compare-and-delete of each link
  // (the uid's slot), then the claims that are still on the dead pod (service slot). Stops
  // when no dead pod has claims left, or a round changed nothing (claims in flight wait).
  async sweep(ns: string, svc: string, batch: number): Promise<SweepResult> {
    const { keys, prefix } = serviceKeys(ns, svc);
    const result: SweepResult = { swept: 0, released: 0 };
    const counters = this.io.counters;
    for (;;) {
      const listed = array(
        await this.io.script(S.sweepList, keys, [prefix, String(batch)]),
        S.sweepList,
        0,
      );
      if (listed.length < 2) break;
      const pod = text(listed[0]);
      const uids = listed.slice(1).map(text);
      const deleted = await Promise.all(
        uids.map(async (uid) => {
          const k1 = linkKey(ns, uid, svc);
          try {
            return await this.io.script(REMOVE_WITH_ID, [k1, linkIndexKey(ns, uid)], [svc, pod]);
          } finally {
            this.io.invalidate(k1);
          }
        }),
      );
      const swept = deleted.filter((flag) => flag === 1).length;
      const freed = int(
        await this.io.script(S.sweepRelease, keys, [prefix, pod, GRACE, ...uids]),
        S.sweepRelease,
      );
      result.swept += swept;
      result.released += freed;
      if (swept === 0 && freed === 0) break;
    }
    counters.sweeps += 1;
    counters.linksSwept += result.swept;
    counters.claimsReleased.swept += result.released;
    return result;
  }

  async reconcile(ns: string, svc: string, batch: number, full: boolean): Promise<ReconcileResult> {
    const result: ReconcileResult = { checked: 0, released: 0, confirmed: 0, adopted: 0 };
    // Due claims, batch after batch, until a batch comes back short.
    while ((await this.#reconcileDue(ns, svc, batch, result)) >= batch) {
      /* next batch */
    }
    if (full) {
      await this.#reconcileClaims(ns, svc, batch, result);
      await this.#adopt(ns, svc, batch, result);
    }
    return result;
  }

  // One batch of expired and pending claims; returns how many were listed (of each kind, the
  // larger), so the caller knows whether more are due.
  async #reconcileDue(
    ns: string,
    svc: string,
    batch: number,
    result: ReconcileResult,
  ): Promise<number> {
    const { keys, prefix } = serviceKeys(ns, svc);
    const listed = array(
      await this.io.script(S.due, keys, [prefix, String(batch), GRACE]),
      S.due,
      1,
    );
    const expired = int(listed[0], S.due);
    const entries: { kind: string; uid: string; pod: string }[] = [];
    for (let i = 1; i + 1 < listed.length; i += 2) {
      entries.push({
        kind: entries.length < expired ? 'e' : 'p',
        uid: text(listed[i]),
        pod: text(listed[i + 1]),
      });
    }
    if (entries.length === 0) return 0;
    await this.#apply(ns, svc, entries, result);
    return Math.max(expired, entries.length - expired);
  }

  // Looks at each entry's link (on a Cluster; a standalone script reads them itself), then
  // acts in one script on the service's slot.
  async #apply(
    ns: string,
    svc: string,
    entries: readonly { kind: string; uid: string; pod: string }[],
    result: ReconcileResult,
  ): Promise<void> {
    const { keys, prefix } = serviceKeys(ns, svc);
    const observed = this.io.cluster
      ? await Promise.all(entries.map((entry) => this.#look(ns, entry.uid, svc)))
      : undefined;
    const args = [prefix, GRACE, this.io.cluster ? '0' : '1', linkKeyPrefix(ns), svc];
    entries.forEach((entry, i) => {
      const seen = observed?.[i];
      args.push(entry.kind, entry.uid, entry.pod, seen?.value ?? '', String(seen?.pttl ?? -2));
    });
    const reply = array(await this.io.script(S.apply, keys, args), S.apply, 4);
    const expired = int(reply[1], S.apply);
    const reconciled = int(reply[2], S.apply);
    result.checked += int(reply[0], S.apply);
    result.released += expired + reconciled;
    result.confirmed += int(reply[3], S.apply);
    this.io.counters.claimsReleased.expired += expired;
    this.io.counters.claimsReleased.reconciled += reconciled;
  }

  async #look(ns: string, uid: string, svc: string): Promise<{ value: string; pttl: number }> {
    const k1 = linkKey(ns, uid, svc);
    const client = this.io.client();
    try {
      const [value, pttl] = await Promise.all([
        this.io.call(client.get(k1)),
        this.io.call(client.pttl(k1)),
      ]);
      return { value: value ?? '', pttl };
    } catch (error) {
      // A link key of another type is no link to this claim.
      if ((error as { reply?: string }).reply === 'WRONGTYPE') return { value: '', pttl: -2 };
      throw error;
    }
  }

  // Every claim compared with its link (HSCAN of the claims, in batches).
  async #reconcileClaims(ns: string, svc: string, batch: number, result: ReconcileResult) {
    const claimKey = placementKeys(ns, svc).claim;
    let cursor = '0';
    do {
      const [next, flat] = await this.io.call(
        this.io.client().hscan(claimKey, cursor, 'COUNT', batch),
      );
      cursor = next;
      const entries: { kind: string; uid: string; pod: string }[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        entries.push({ kind: 'c', uid: flat[i]!, pod: flat[i + 1]! });
      }
      if (entries.length > 0) await this.#apply(ns, svc, entries, result);
    } while (cursor !== '0');
  }

  // Links of the service that no claim covers, counted on their pod when it is registered.
  async #adopt(ns: string, svc: string, batch: number, result: ReconcileResult) {
    const { keys, prefix } = serviceKeys(ns, svc);
    let cursor: string | null = null;
    do {
      const page: LinkScanPage = await this.io.scanLinks(ns, {
        service: svc,
        count: batch,
        cursor,
      });
      if (page.links.length > 0) {
        const args = [prefix];
        for (const link of page.links) {
          args.push(
            link.uid,
            String(link.podId),
            String(link.ttlSeconds < 0 ? -1 : link.ttlSeconds * 1000),
          );
        }
        result.adopted += int(await this.io.script(S.adopt, keys, args), S.adopt);
      }
      cursor = page.cursor;
    } while (cursor !== null);
  }
}
