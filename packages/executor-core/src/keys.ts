/**
 * The key layout of the contract (section 2), byte for byte. The braces are Redis Cluster
 * hash tags: a link string key starts with its link index key, so both share a slot.
 */

/** `sf:{<ns>:state:<svc>}`: hash, pod id -> state. */
export function serviceStateKey(namespace: string, service: string): string {
  return `sf:{${namespace}:state:${service}}`;
}

/** `sf:{<ns>:workload:<svc>}`: string, the workload state. */
export function workloadKey(namespace: string, service: string): string {
  return `sf:{${namespace}:workload:${service}}`;
}

/** `sf:{<ns>:lk:<uid>}`: hash, service -> pod of the uid's permanent links. */
export function linkIndexKey(namespace: string, uid: string): string {
  return `sf:{${namespace}:lk:${uid}}`;
}

/** `sf:{<ns>:lk:<uid>}<svc>`: string, the pod of one link (uid inside the braces). */
export function linkKey(namespace: string, uid: string, service: string): string {
  return `sf:{${namespace}:lk:${uid}}${service}`;
}

/**
 * The key prefixes of a namespace the near cache asks Redis to track in broadcast mode: its
 * state and workload keys (`sf:{<ns>:state:`, `sf:{<ns>:workload:`) and, with `links`, its
 * link keys and link indexes (`sf:{<ns>:lk:`). No namespace holds `:`, so the prefixes of two
 * namespaces never overlap.
 */
export function cachedKeyPrefixes(namespace: string, links = false): string[] {
  const prefixes = [`sf:{${namespace}:state:`, `sf:{${namespace}:workload:`];
  if (links) prefixes.push(`sf:{${namespace}:lk:`);
  return prefixes;
}

/**
 * A `SCAN MATCH` pattern for every key of a namespace (`sf:{<ns>:*`, glob characters of the
 * namespace escaped, so it matches only that namespace). No namespace holds `:`, so it never
 * matches another namespace's keys.
 */
export function namespaceKeyPattern(namespace: string): string {
  return `sf:{${namespace.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}:*`;
}
