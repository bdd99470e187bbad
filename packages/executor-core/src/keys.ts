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
  if (links) prefixes.push(linkKeyPrefix(namespace));
  return prefixes;
}

/**
 * A `SCAN MATCH` pattern for every key of a namespace (`sf:{<ns>:*`, glob characters of the
 * namespace escaped, so it matches only that namespace). No namespace holds `:`, so it never
 * matches another namespace's keys.
 */
export function namespaceKeyPattern(namespace: string): string {
  return `sf:{${escapeGlob(namespace)}:*`;
}

/** `sf:{<ns>:lk:`: the start of every link key and link index of a namespace. */
export function linkKeyPrefix(namespace: string): string {
  return `sf:{${namespace}:lk:`;
}

/**
 * A `SCAN MATCH` pattern for the link keys of a namespace (`sf:{<ns>:lk:*}<svc>`, or
 * `sf:{<ns>:lk:*}?*` for every service: at least one character after the brace, so the link
 * indexes `sf:{<ns>:lk:<uid>}` are not matched). Glob characters of the namespace and service
 * are escaped. `*` also matches braces, so a match is checked again when its key is parsed.
 */
export function linkKeyPattern(namespace: string, service?: string): string {
  const tail = service === undefined ? '?*' : escapeGlob(service);
  return `sf:{${escapeGlob(namespace)}:lk:*}${tail}`;
}

// Redis glob-style patterns (SCAN MATCH) treat `*`, `?`, `[`, `]` and `\` specially; a
// backslash makes the next character literal.
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
