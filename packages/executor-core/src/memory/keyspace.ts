/**
 * A tiny Redis-like keyspace: strings and hashes in one namespace of keys (so a key used as
 * the wrong type fails with WRONGTYPE, as in Redis), with millisecond expiry on a clock.
 */
import { ErrorCodes, RedisReplyError } from '../errors.js';

/** Where the memory backend reads the time. Inject one to move time in tests. */
export interface Clock {
  /** Milliseconds, monotonic enough for TTLs (Date.now() by default). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

type Entry =
  | { kind: 'string'; value: string; expiresAt: number | null }
  | { kind: 'hash'; fields: Map<string, string>; expiresAt: null };

function wrongType(): RedisReplyError {
  return new RedisReplyError(
    ErrorCodes.COMMAND,
    'WRONGTYPE',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
  );
}

export class Keyspace {
  readonly #entries = new Map<string, Entry>();
  #writesSinceSweep = 0;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.#entries.size;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt != null && entry.expiresAt <= this.clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  // Expired keys are dropped lazily on access; this amortised sweep bounds the memory of
  // keys that are never read again (temporary links of users who left).
  #wrote(): void {
    if (++this.#writesSinceSweep < Math.max(1024, this.#entries.size)) return;
    this.#writesSinceSweep = 0;
    const now = this.clock.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt != null && entry.expiresAt <= now) this.#entries.delete(key);
    }
  }

  /** The key's type as Redis' TYPE says it. */
  type(key: string): 'string' | 'hash' | 'none' {
    return this.#live(key)?.kind ?? 'none';
  }

  get(key: string): string | null {
    const entry = this.#live(key);
    if (!entry) return null;
    if (entry.kind !== 'string') throw wrongType();
    return entry.value;
  }

  /** SET without options: replaces the value and clears any TTL. */
  set(key: string, value: string): void {
    const entry = this.#live(key);
    if (entry && entry.kind !== 'string') {
      // Redis SET overwrites any type; keep that.
      this.#entries.delete(key);
    }
    this.#entries.set(key, { kind: 'string', value, expiresAt: null });
    this.#wrote();
  }

  del(key: string): boolean {
    return this.#live(key) !== undefined && this.#entries.delete(key);
  }

  /** EXPIRE in seconds; false when the key is missing. */
  expire(key: string, seconds: number): boolean {
    const entry = this.#live(key);
    // Only string keys expire here: the contract never puts a TTL on a hash.
    if (entry?.kind !== 'string') return false;
    entry.expiresAt = this.clock.now() + seconds * 1000;
    return true;
  }

  persist(key: string): void {
    const entry = this.#live(key);
    if (entry?.kind === 'string') entry.expiresAt = null;
  }

  /** TTL in seconds as Redis reports it: -2 missing, -1 no expiry. */
  ttl(key: string): number {
    const entry = this.#live(key);
    if (!entry) return -2;
    if (entry.expiresAt == null) return -1;
    return Math.max(0, Math.round((entry.expiresAt - this.clock.now()) / 1000));
  }

  /** PTTL in milliseconds as Redis reports it: -2 missing, -1 no expiry. */
  pttl(key: string): number {
    const entry = this.#live(key);
    if (!entry) return -2;
    if (entry.expiresAt == null) return -1;
    return Math.max(0, entry.expiresAt - this.clock.now());
  }

  #hash(key: string, create: boolean): Map<string, string> | undefined {
    const entry = this.#live(key);
    if (entry) {
      if (entry.kind !== 'hash') throw wrongType();
      return entry.fields;
    }
    if (!create) return undefined;
    const fields = new Map<string, string>();
    this.#entries.set(key, { kind: 'hash', fields, expiresAt: null });
    return fields;
  }

  hset(key: string, field: string, value: string): void {
    this.#hash(key, true)!.set(field, value);
    this.#wrote();
  }

  hdel(key: string, field: string): void {
    const fields = this.#hash(key, false);
    if (!fields) return;
    fields.delete(field);
    if (fields.size === 0) this.#entries.delete(key); // Redis removes empty hashes
  }

  hgetall(key: string): ReadonlyMap<string, string> {
    return this.#hash(key, false) ?? new Map();
  }

  /** Fails with WRONGTYPE unless the key is a hash or missing (checked before writes). */
  assertHashOrNone(key: string): void {
    const kind = this.type(key);
    if (kind !== 'hash' && kind !== 'none') throw wrongType();
  }

  /** Fails with WRONGTYPE unless the key is a string or missing (checked before writes). */
  assertStringOrNone(key: string): void {
    const kind = this.type(key);
    if (kind !== 'string' && kind !== 'none') throw wrongType();
  }

  /** Every live key (for tests and dumps). */
  keys(): string[] {
    return [...this.#entries.keys()].filter((key) => this.#live(key) !== undefined);
  }
}
