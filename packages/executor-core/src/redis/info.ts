/**
 * The one reader of the text Redis answers to `INFO`: `# Section` headers, `field:value`
 * lines, the keyspace lines (`db0:keys=12,expires=3,avg_ttl=0`) and the commandstats lines
 * (`cmdstat_evalsha:calls=10,usec=120,...`). Text in, data out: asking Redis (which node,
 * which sections, how long to wait) stays with the caller.
 */

/** One `dbN` line of `INFO keyspace`. */
export interface KeyspaceInfo {
  keys: number;
  /** Keys with a TTL; undefined when the line does not say. */
  expires: number | undefined;
  /** Average TTL in ms; undefined when the line does not say. */
  avgTtl: number | undefined;
}

/** One `cmdstat_<command>` line of `INFO commandstats` (0 for a figure the line lacks). */
export interface CommandStatInfo {
  calls: number;
  /** Microseconds spent in the command, in total. */
  usec: number;
}

/** A parsed `INFO` reply of one node. */
export interface RedisInfo {
  /**
   * Each section (the `# Memory` header as `memory`; `''` before any header) -> its
   * `field -> value` lines as text, in reply order.
   */
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Every `field -> value` line of every section, as text. */
  readonly fields: ReadonlyMap<string, string>;
  /** The `dbN` lines with a `keys=` count, by database (`db0`). */
  readonly keyspace: ReadonlyMap<string, KeyspaceInfo>;
  /** The `cmdstat_` lines, by command in lower case (`evalsha`, `client|list`). */
  readonly commandstats: ReadonlyMap<string, CommandStatInfo>;
}

const DATABASE = /^db\d+$/;
const COMMANDSTAT = 'cmdstat_';

// Number('') is 0: an empty value is no figure.
function finiteNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

// `keys=12,expires=3,avg_ttl=0` -> { keys: '12', expires: '3', avg_ttl: '0' }
function pairs(value: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const part of value.split(',')) {
    const equals = part.indexOf('=');
    if (equals > 0) result.set(part.slice(0, equals), part.slice(equals + 1));
  }
  return result;
}

/**
 * Parses the reply of `INFO` (any sections, LF or CRLF line ends). Lines that are not
 * `field:value` are skipped; values keep any further colons.
 * @example
 * const info = parseRedisInfo(await redis.info('memory', 'keyspace'));
 * infoNumber(info, 'used_memory'); // 1048576
 * info.keyspace.get('db0')?.keys; // 12
 */
export function parseRedisInfo(text: string): RedisInfo {
  const sections = new Map<string, Map<string, string>>();
  const fields = new Map<string, string>();
  const keyspace = new Map<string, KeyspaceInfo>();
  const commandstats = new Map<string, CommandStatInfo>();
  let section = new Map<string, string>();
  sections.set('', section);
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const name = line.slice(1).trim().toLowerCase();
      section = sections.get(name) ?? new Map<string, string>();
      sections.set(name, section);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1);
    section.set(name, value);
    fields.set(name, value);
    if (DATABASE.test(name)) {
      const figures = pairs(value);
      const keys = finiteNumber(figures.get('keys'));
      if (keys !== undefined) {
        keyspace.set(name, {
          keys,
          expires: finiteNumber(figures.get('expires')),
          avgTtl: finiteNumber(figures.get('avg_ttl')),
        });
      }
    } else if (name.startsWith(COMMANDSTAT)) {
      const figures = pairs(value);
      commandstats.set(name.slice(COMMANDSTAT.length).toLowerCase(), {
        calls: finiteNumber(figures.get('calls')) ?? 0,
        usec: finiteNumber(figures.get('usec')) ?? 0,
      });
    }
  }
  // Lines before any header are rare (a single-section reply has its header too).
  if (sections.get('')?.size === 0) sections.delete('');
  return { sections, fields, keyspace, commandstats };
}

/**
 * A field of a parsed `INFO` reply as a finite number; undefined when the reply lacks it
 * or it is not a number (`used_memory_human:1.00M`).
 * @example
 * infoNumber(parseRedisInfo('maxmemory:0\r\n'), 'maxmemory'); // 0
 */
export function infoNumber(info: RedisInfo, field: string): number | undefined {
  return finiteNumber(info.fields.get(field));
}
