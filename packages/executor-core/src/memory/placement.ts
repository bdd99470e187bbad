/**
 * Placement on the memory backend (docs/placement.md): the same claims, leases, drain,
 * sweep and reconcile as the Redis scripts, each operation one synchronous step (as one
 * script on a standalone Redis, so nothing is ever pending). Links are ordinary links in the
 * keyspace; the placement data of each service is kept beside it, keyed by the service's
 * placement key prefix so that a namespace's deletion finds it.
 */
import { NoCapacityError } from '../errors.js';
import { NO_POD } from '../executor.js';
import { linkIndexKey, linkKey } from '../keys.js';
import {
  choosePod,
  placementKeyPrefix,
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
import type { Clock, Keyspace } from './keyspace.js';
import { checkedLinkKeys, deleteLink, writeLink } from './links.js';
import { memoryScanLinks } from './link-scan.js';

/** The placement data of one service: what the `sf:{<ns>:pl:<svc>}...` keys hold on Redis. */
class ServiceBook {
  readonly cap = new Map<number, number>();
  readonly lease = new Map<number, number>();
  readonly drain = new Set<number>();
  readonly load = new Map<number, number>();
  readonly claim = new Map<string, number>();
  readonly uids = new Map<number, Set<string>>();
  /** uid -> when its temporary link should have expired (ms). */
  readonly exp = new Map<string, number>();

  get empty(): boolean {
    return this.cap.size === 0 && this.drain.size === 0 && this.claim.size === 0;
  }

  addClaim(uid: string, pod: number): void {
    this.claim.set(uid, pod);
    this.load.set(pod, (this.load.get(pod) ?? 0) + 1);
    let set = this.uids.get(pod);
    if (set === undefined) this.uids.set(pod, (set = new Set()));
    set.add(uid);
  }

  /** Releases the uid's claim when it is on `pod` (any pod when undefined); true if released. */
  releaseClaim(uid: string, pod?: number): boolean {
    const held = this.claim.get(uid);
    if (held === undefined || (pod !== undefined && held !== pod)) return false;
    this.claim.delete(uid);
    this.exp.delete(uid);
    const load = (this.load.get(held) ?? 1) - 1;
    if (load > 0) this.load.set(held, load);
    else this.load.delete(held);
    const set = this.uids.get(held);
    set?.delete(uid);
    if (set?.size === 0) this.uids.delete(held);
    return true;
  }
}

export class MemoryPlacement {
  readonly #books = new Map<string, ServiceBook>();

  constructor(
    private readonly keys: Keyspace,
    private readonly clock: Clock,
    private readonly counters: PlacementCounters,
  ) {}

  #book(ns: string, svc: string, create: true): ServiceBook;
  #book(ns: string, svc: string, create: false): ServiceBook | undefined;
  #book(ns: string, svc: string, create: boolean): ServiceBook | undefined {
    const id = placementKeyPrefix(ns, svc);
    let book = this.#books.get(id);
    if (book === undefined && create) this.#books.set(id, (book = new ServiceBook()));
    return book;
  }

  #drop(ns: string, svc: string, book: ServiceBook): void {
    if (book.empty) this.#books.delete(placementKeyPrefix(ns, svc));
  }

  /** Whether any placement data of the namespace exists. */
  hasNamespace(namespace: string): boolean {
    const prefix = `sf:{${namespace}:`;
    for (const id of this.#books.keys()) if (id.startsWith(prefix)) return true;
    return false;
  }

  /** Deletes the namespace's placement data; returns how many services had some. */
  deleteNamespace(namespace: string): number {
    const prefix = `sf:{${namespace}:`;
    let deleted = 0;
    for (const id of [...this.#books.keys()]) {
      if (id.startsWith(prefix)) {
        this.#books.delete(id);
        deleted += 1;
      }
    }
    return deleted;
  }

  register(ns: string, svc: string, pod: number, capacity: number, ttlSeconds: number): void {
    const book = this.#book(ns, svc, true);
    book.cap.set(pod, capacity);
    book.lease.set(pod, this.clock.now() + ttlSeconds * 1000);
  }

  setDraining(ns: string, svc: string, pod: number, draining: boolean): void {
    if (draining) {
      this.#book(ns, svc, true).drain.add(pod);
      return;
    }
    const book = this.#book(ns, svc, false);
    if (book === undefined) return;
    book.drain.delete(pod);
    this.#drop(ns, svc, book);
  }

  #usable(book: ServiceBook, pod: number, now: number): boolean {
    const lease = book.lease.get(pod);
    return lease !== undefined && lease > now && !book.drain.has(pod);
  }

  #result(book: ServiceBook | undefined, pod: number, created: boolean): Allocation {
    const capacity = book?.cap.get(pod);
    return {
      podId: pod,
      created,
      load: capacity === undefined ? null : (book!.load.get(pod) ?? 0),
      capacity: capacity ?? null,
    };
  }

  #choose(book: ServiceBook, strategy: PlacementStrategy, now: number): number {
    const candidates: { podId: number; load: number; capacity: number }[] = [];
    for (const [podId, capacity] of book.cap) {
      if (!this.#usable(book, podId, now)) continue;
      const load = book.load.get(podId) ?? 0;
      if (load < capacity) candidates.push({ podId, load, capacity });
    }
    const index = choosePod(candidates, strategy);
    return index === -1 ? NO_POD : candidates[index]!.podId;
  }

  allocate(
    ns: string,
    uid: string,
    svc: string,
    persist: number,
    strategy: PlacementStrategy,
  ): Allocation {
    const [k1, k2] = checkedLinkKeys(this.keys, ns, uid, svc);
    const existing = this.keys.get(k1);
    if (existing !== null && existing !== '') {
      const result = this.#result(this.#book(ns, svc, false), readLink(k1, existing), false);
      this.counters.allocations.existing += 1;
      return result;
    }
    const book = this.#book(ns, svc, false);
    if (book === undefined) {
      this.counters.allocations.no_capacity += 1;
      throw new NoCapacityError();
    }
    const now = this.clock.now();
    // A claim left by an earlier link of this uid (expired or removed by another writer)
    // is reused when its pod still takes placements, else released.
    let pod = book.claim.get(uid) ?? NO_POD;
    if (pod !== NO_POD && !this.#usable(book, pod, now)) {
      book.releaseClaim(uid, pod);
      this.counters.claimsReleased.reconciled += 1;
      pod = NO_POD;
    }
    if (pod === NO_POD) {
      pod = this.#choose(book, strategy, now);
      if (pod === NO_POD) {
        // Claims of expired temporary links free their capacity before the answer is "full".
        this.#reconcileExpired(book, ns, svc, Number.POSITIVE_INFINITY, now);
        pod = this.#choose(book, strategy, now);
      }
      if (pod === NO_POD) {
        this.#drop(ns, svc, book);
        this.counters.allocations.no_capacity += 1;
        throw new NoCapacityError();
      }
      book.addClaim(uid, pod);
    }
    if (persist === -1) book.exp.delete(uid);
    else book.exp.set(uid, now + persist * 1000);
    writeLink(this.keys, k1, k2, svc, String(pod), persist);
    this.counters.allocations.created += 1;
    return this.#result(book, pod, true);
  }

  release(ns: string, uid: string, svc: string): ReleaseResult {
    const [k1, k2] = checkedLinkKeys(this.keys, ns, uid, svc);
    const value = this.keys.get(k1);
    const existed = deleteLink(this.keys, k1, k2, svc);
    // The link is gone: whatever claim the uid holds covers nothing now (I2).
    const book = this.#book(ns, svc, false);
    if (book !== undefined) {
      if (book.releaseClaim(uid)) this.counters.claimsReleased.release += 1;
      this.#drop(ns, svc, book);
    }
    const pod = value === null ? undefined : parsePodId(value);
    return { released: existed, podId: pod ?? NO_POD };
  }

  placement(ns: string, svc: string): Placement {
    const pods: Record<string, Placement['pods'][string]> = {};
    const book = this.#book(ns, svc, false);
    if (book === undefined) return { pods };
    const now = this.clock.now();
    for (const [pod, capacity] of book.cap) {
      const lease = book.lease.get(pod) ?? 0;
      putOwn(pods, String(pod), {
        load: book.load.get(pod) ?? 0,
        capacity,
        status: podStatus(lease, book.drain.has(pod), now),
        leaseMs: lease - now,
      });
    }
    return { pods };
  }

  sweepDeadPods(ns: string, svc: string): SweepResult {
    const result = { swept: 0, released: 0 };
    const book = this.#book(ns, svc, false);
    if (book === undefined) {
      this.counters.sweeps += 1;
      return result;
    }
    const now = this.clock.now();
    for (const [pod, lease] of [...book.lease]) {
      if (lease > now) continue;
      const value = String(pod);
      for (const uid of [...(book.uids.get(pod) ?? [])]) {
        const k1 = linkKey(ns, uid, svc);
        // Compare-and-delete: a link moved to another pod meanwhile is kept.
        if (this.keys.type(k1) === 'string' && this.keys.get(k1) === value) {
          this.keys.del(k1);
          const k2 = linkIndexKey(ns, uid);
          if (this.keys.type(k2) === 'hash') this.keys.hdel(k2, svc);
          result.swept += 1;
        }
        if (book.releaseClaim(uid, pod)) result.released += 1;
      }
      book.cap.delete(pod);
      book.lease.delete(pod);
      book.drain.delete(pod);
      book.load.delete(pod);
    }
    this.#drop(ns, svc, book);
    this.counters.sweeps += 1;
    this.counters.linksSwept += result.swept;
    this.counters.claimsReleased.swept += result.released;
    return result;
  }

  // Claims whose temporary link should have expired: released when the link is gone or
  // moved, kept (and re-dated, or made permanent) when it is alive.
  #reconcileExpired(
    book: ServiceBook,
    ns: string,
    svc: string,
    limit: number,
    now: number,
  ): { checked: number; released: number } {
    const out = { checked: 0, released: 0 };
    for (const [uid, due] of [...book.exp]) {
      if (out.checked >= limit) break;
      if (due > now) continue;
      out.checked += 1;
      const pod = book.claim.get(uid);
      const k1 = linkKey(ns, uid, svc);
      const value = this.keys.type(k1) === 'string' ? this.keys.get(k1) : null;
      if (pod === undefined || value !== String(pod)) {
        if (book.releaseClaim(uid)) {
          out.released += 1;
          this.counters.claimsReleased.expired += 1;
        }
        continue;
      }
      const pttl = this.keys.pttl(k1);
      if (pttl === -1) book.exp.delete(uid);
      else book.exp.set(uid, now + pttl);
    }
    return out;
  }

  reconcile(ns: string, svc: string, full: boolean): ReconcileResult {
    const result: ReconcileResult = { checked: 0, released: 0, confirmed: 0, adopted: 0 };
    const book = this.#book(ns, svc, false);
    if (book === undefined && !full) return result;
    const now = this.clock.now();
    if (book !== undefined) {
      const expired = this.#reconcileExpired(book, ns, svc, Number.POSITIVE_INFINITY, now);
      result.checked += expired.checked;
      result.released += expired.released;
    }
    if (!full) return result;
    const target = book ?? this.#book(ns, svc, true);
    // Claims whose link is gone or moved: released, and the link adopted where it now points.
    for (const [uid, pod] of [...target.claim]) {
      result.checked += 1;
      const k1 = linkKey(ns, uid, svc);
      const value = this.keys.type(k1) === 'string' ? this.keys.get(k1) : null;
      if (value === String(pod)) continue;
      target.releaseClaim(uid, pod);
      result.released += 1;
      this.counters.claimsReleased.reconciled += 1;
    }
    // Links to registered pods that no claim covers: adopted.
    let cursor: string | null = null;
    do {
      const page = memoryScanLinks(this.keys, ns, { service: svc, count: 1000, cursor });
      for (const link of page.links) {
        if (target.claim.has(link.uid) || !target.cap.has(link.podId)) continue;
        target.addClaim(link.uid, link.podId);
        const pttl = this.keys.pttl(linkKey(ns, link.uid, svc));
        if (pttl >= 0) target.exp.set(link.uid, now + pttl);
        result.adopted += 1;
      }
      cursor = page.cursor;
    } while (cursor !== null);
    this.#drop(ns, svc, target);
    return result;
  }
}
