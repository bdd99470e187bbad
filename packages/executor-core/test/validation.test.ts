/**
 * Contract section 4: every invalid input is rejected with SR_VALIDATION naming the field,
 * before any I/O. On Redis, MONITOR proves that no command left the executor's connections
 * and DUMP proves that the namespace is byte for byte unchanged; on memory, `dump()`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  checkNamespace,
  linkIndexKey,
  ValidationError,
  workloadKey,
  type MemoryExecutor,
  type StatefulExecutor,
} from '@stateful-route/executor-core';
import {
  BACKENDS,
  createHarness,
  freshNamespace,
  recordCommands,
  redisDump,
  type Harness,
} from './helpers/harness.js';

type Kind =
  | 'namespace'
  | 'service'
  | 'uid'
  | 'podId'
  | 'persistSeconds'
  | 'keepSeconds'
  | 'state'
  | 'workloadState'
  | 'services'
  | 'uids';

const SIGNATURES: Record<string, Kind[]> = {
  setServiceState: ['namespace', 'service', 'podId', 'state'],
  getServiceState: ['namespace', 'service'],
  setWorkloadState: ['namespace', 'service', 'workloadState'],
  getWorkloadState: ['namespace', 'service'],
  getWorkloadStateBatch: ['namespace', 'services'],
  setLinkedPod: ['namespace', 'uid', 'service'],
  trySetLinkedPod: ['namespace', 'uid', 'service'],
  setLinkedPodIfAbsent: ['namespace', 'uid', 'service'],
  getLinkedPod: ['namespace', 'uid', 'service'],
  getLinkedPodIfPersist: ['namespace', 'uid', 'service'],
  batchGetLinkedPod: ['namespace', 'uids', 'service'],
  removeLinkedPod: ['namespace', 'uid', 'service'],
  removeLinkedPodWithId: ['namespace', 'uid', 'service'],
  getLinkService: ['namespace', 'uid'],
};

/** The values an operation takes by name, in its options object (the last argument). */
const OPTIONS: Record<string, Kind[]> = {
  setLinkedPod: ['podId', 'persistSeconds'],
  trySetLinkedPod: ['podId', 'persistSeconds'],
  setLinkedPodIfAbsent: ['podId', 'persistSeconds'],
  removeLinkedPod: ['keepSeconds'],
  removeLinkedPodWithId: ['podId', 'keepSeconds'],
};

/** The options a required value is missing from (an optional one, keepSeconds, may be). */
const REQUIRED_OPTIONS = new Set<Kind>(['podId', 'persistSeconds']);

class LinkOptions {
  podId = 1;
  persistSeconds = -1;
}

/** Options arguments that are not a plain object (field `options`, rule `type`). */
const NOT_PLAIN_OBJECTS: unknown[] = [
  300,
  '{"podId":1}',
  null,
  [1, -1],
  new Date(0),
  new Map([['podId', 1]]),
  new LinkOptions(),
  () => ({ podId: 1 }),
];

const VALID: Record<Kind, unknown> = {
  namespace: '', // replaced by the test's namespace
  service: 'room',
  uid: 'u1',
  podId: 1,
  persistSeconds: -1,
  keepSeconds: -1,
  state: 'READY',
  workloadState: 'Running',
  services: ['room', 'chat'],
  uids: ['u1', 'u2'],
};

/** Invalid ids and the rule each one breaks. */
const BAD_IDS: [unknown, string][] = [
  ['', 'blank'],
  [' ', 'blank'],
  ['  \u3000 ', 'blank'],
  ['{', 'forbidden-character'],
  ['}', 'forbidden-character'],
  ['a{b', 'forbidden-character'],
  ['}ns', 'forbidden-character'],
  ['user}room', 'forbidden-character'],
  ['a\u0000b', 'control-character'],
  ['a\nb', 'control-character'],
  ['\tx', 'control-character'],
  ['a\rb', 'control-character'],
  ['a\u001bb', 'control-character'],
  ['a\u007fb', 'control-character'],
  ['a\u0085b', 'control-character'],
  ['a\u009fb', 'control-character'],
  ['a\ud800b', 'malformed-unicode'],
  ['\udc00', 'malformed-unicode'],
  ['x\ud83d', 'malformed-unicode'],
  ['x'.repeat(513), 'too-long'],
  ['é'.repeat(256) + 'x', 'too-long'],
  ['用'.repeat(171), 'too-long'],
  ['🚀'.repeat(128) + 'x', 'too-long'],
  [42, 'type'],
  [null, 'type'],
  [undefined, 'type'],
  [{ toString: () => 'u1' }, 'type'],
  [['u1'], 'type'],
  [Symbol('u1'), 'type'],
];

/**
 * Invalid namespaces only: a ':' lets one namespace spell another's keys (issue 11 finding 5),
 * on the ASCII fast path and off it. uid and service may contain ':'.
 */
const BAD_NAMESPACES: [unknown, string][] = [
  [':', 'forbidden-character'],
  ['a:lk:b', 'forbidden-character'],
  ['ns:', 'forbidden-character'],
  [':ns', 'forbidden-character'],
  ['a b:c', 'forbidden-character'],
  ['é:x', 'forbidden-character'],
  ['用'.repeat(100) + ':', 'forbidden-character'],
];

const BAD: Record<Kind, [unknown, string | undefined][]> = {
  namespace: [...BAD_IDS, ...BAD_NAMESPACES],
  service: BAD_IDS,
  uid: BAD_IDS,
  podId: [
    [-1, 'range'],
    [-2, 'range'],
    [1.5, 'integer'],
    [Number.NaN, 'integer'],
    [Number.POSITIVE_INFINITY, 'integer'],
    [Number.NEGATIVE_INFINITY, 'integer'],
    [2 ** 53, 'integer'],
    [Number.MAX_VALUE, 'integer'],
    ['1', 'integer'],
    [null, 'integer'],
    [undefined, 'integer'],
    [1n, 'integer'],
  ],
  persistSeconds: [
    [0, 'range'],
    [-0, 'range'],
    [-2, 'range'],
    [-100, 'range'],
    [1.5, 'integer'],
    [2 ** 31, 'range'],
    [2 ** 53, 'integer'],
    [Number.NaN, 'integer'],
    [Number.POSITIVE_INFINITY, 'integer'],
    ['60', 'integer'],
    [null, 'integer'],
    [undefined, 'integer'],
  ],
  keepSeconds: [
    [-2, 'range'],
    [1.5, 'integer'],
    [Number.NaN, 'integer'],
    [Number.NEGATIVE_INFINITY, 'integer'],
    ['1', 'integer'],
    [null, 'integer'],
  ],
  state: [
    ['', 'blank'],
    ['   ', 'blank'],
    ['\n\t', 'blank'],
    ['READY\ud800', 'malformed-unicode'],
    [7, 'type'],
    [null, 'type'],
    [undefined, 'type'],
  ],
  workloadState: [
    ['Running\udfff', 'malformed-unicode'],
    [7, 'type'],
    [null, 'type'],
    [undefined, 'type'],
  ],
  services: [
    ['room', 'type'],
    [null, 'type'],
    [undefined, 'type'],
    [{ length: 1, 0: 'room' }, 'type'],
    [new Set(['room']), 'type'],
  ],
  uids: [
    ['u1', 'type'],
    [null, 'type'],
    [{ length: 1, 0: 'u1' }, 'type'],
    [new Set(['u1']), 'type'],
  ],
};

interface Case {
  label: string;
  operation: string;
  args: unknown[];
  field: string;
  rule: string | undefined;
}

function validOptions(operation: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kind of OPTIONS[operation]!) out[kind] = VALID[kind];
  return out;
}

function cases(ns: string): Case[] {
  const out: Case[] = [];
  for (const [operation, kinds] of Object.entries(SIGNATURES)) {
    const valid: unknown[] = kinds.map((kind) => (kind === 'namespace' ? ns : VALID[kind]));
    if (OPTIONS[operation]) valid.push(validOptions(operation));
    kinds.forEach((kind, position) => {
      const field = kind === 'workloadState' ? 'state' : kind;
      for (const [value, rule] of BAD[kind]) {
        const args = [...valid];
        args[position] = value;
        out.push({
          label: `${operation} ${field}=${describeValue(value)}`,
          operation,
          args,
          field,
          rule,
        });
      }
      // A bad element of a list is named by its index.
      if (kind === 'services' || kind === 'uids') {
        for (const [value, rule] of BAD_IDS) {
          const args = [...valid];
          args[position] = ['ok', value, 'ok2'];
          out.push({
            label: `${operation} ${kind}[1]=${describeValue(value)}`,
            operation,
            args,
            field: `${kind}[1]`,
            rule,
          });
        }
      }
    });
    const named = OPTIONS[operation];
    if (!named) continue;
    const last = kinds.length;
    // Each named value broken inside an otherwise valid options object.
    for (const kind of named) {
      for (const [value, rule] of BAD[kind]) {
        const args = [...valid];
        args[last] = { ...validOptions(operation), [kind]: value };
        out.push({
          label: `${operation} options.${kind}=${describeValue(value)}`,
          operation,
          args,
          field: kind,
          // A required value that is undefined is missing, not of the wrong type.
          rule: value === undefined && REQUIRED_OPTIONS.has(kind) ? 'required' : rule,
        });
      }
      if (REQUIRED_OPTIONS.has(kind)) {
        const args = [...valid];
        const options = validOptions(operation);
        delete options[kind];
        args[last] = options;
        out.push({
          label: `${operation} options without ${kind}`,
          operation,
          args,
          field: kind,
          rule: 'required',
        });
      }
    }
    // The options argument itself: not a plain object, or missing where values are required.
    const notObjects =
      operation === 'removeLinkedPod' ? NOT_PLAIN_OBJECTS : [...NOT_PLAIN_OBJECTS, undefined];
    for (const value of notObjects) {
      const args = [...valid];
      args[last] = value;
      out.push({
        label: `${operation} options=${describeValue(value)}`,
        operation,
        args,
        field: 'options',
        rule: 'type',
      });
    }
    // A misspelt or unknown key is refused, naming the key, even next to valid values.
    for (const key of ['persistSecond', 'podID', 'ttl', 'keep_seconds', '__proto__x']) {
      const args = [...valid];
      args[last] = { ...validOptions(operation), [key]: 3 };
      out.push({
        label: `${operation} options.${key} (unknown)`,
        operation,
        args,
        field: key,
        rule: 'unknown-option',
      });
    }
  }
  // The positional calls of the old API, mistakes the new one no longer accepts silently.
  const old: [string, unknown[]][] = [
    ['setLinkedPod', [ns, 'u1', 'room', 300, 3]],
    ['trySetLinkedPod', [ns, 'u1', 'room', 1, -1]],
    ['setLinkedPodIfAbsent', [ns, 'u1', 'room', 1, 300]],
    ['removeLinkedPod', [ns, 'u1', 'room', 0]],
    ['removeLinkedPodWithId', [ns, 'u1', 'room', 0, 1]],
  ];
  for (const [operation, args] of old) {
    out.push({ label: `${operation} positional`, operation, args, field: 'options', rule: 'type' });
  }
  return out;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 20 ? `${value.slice(0, 8)}…(${value.length})` : value);
  if (typeof value === 'symbol' || typeof value === 'bigint') return String(value);
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  return Object.prototype.toString.call(value);
}

async function seed(ex: StatefulExecutor, ns: string): Promise<void> {
  await ex.setServiceState(ns, 'room', 0, 'READY');
  await ex.setServiceState(ns, 'room', 1, 'DRAINING');
  await ex.setWorkloadState(ns, 'room', 'Running');
  await ex.setLinkedPod(ns, 'u1', 'room', { podId: 1, persistSeconds: -1 });
  await ex.setLinkedPod(ns, 'u2', 'room', { podId: 0, persistSeconds: 600 });
  await ex.setLinkedPod(ns, 'u1', 'chat', { podId: 2, persistSeconds: -1 });
}

describe.each(BACKENDS)('invalid input on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(backend);
  });
  afterAll(async () => {
    await h.close();
  });

  test('every invalid input of section 4 is rejected with SR_VALIDATION and its field', async () => {
    const ns = freshNamespace();
    const ex = h.executor;
    await seed(ex, ns);
    const image = async () =>
      h.raw.client
        ? redisDump(h.raw.client, ns)
        : JSON.stringify((h.executor as MemoryExecutor).dump());
    const before = await image();
    const recorder = h.raw.client ? await recordCommands(h.raw.client) : undefined;

    const all = cases(ns);
    expect(all.length).toBeGreaterThan(500);
    const outcomes = await Promise.all(
      all.map(async (c) => {
        const call = (ex as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[
          c.operation
        ]!;
        try {
          await call.apply(ex, c.args);
          return { c, error: undefined };
        } catch (error) {
          return { c, error };
        }
      }),
    );
    const wrong = outcomes.filter(
      ({ c, error }) =>
        !(error instanceof ValidationError) ||
        error.code !== 'SR_VALIDATION' ||
        error.field !== c.field ||
        (c.rule !== undefined && error.rule !== c.rule),
    );
    expect(
      wrong.map(({ c, error }) => ({
        case: c.label,
        got: error instanceof ValidationError ? `${error.field}/${error.rule}` : String(error),
      })),
    ).toEqual([]);

    if (recorder) expect(await recorder.stop()).toEqual([]);
    expect(await image()).toEqual(before);
  });

  if (backend !== 'memory')
    test('the command recorder sees what a valid call sends (so an empty record means something)', async () => {
      const ns = freshNamespace();
      const recorder = await recordCommands(h.raw.client!);
      await h.executor.getLinkedPod(ns, 'u1', 'room');
      await h.executor.removeLinkedPod(ns, 'u1', 'room', { keepSeconds: -1 });
      const commands = await recorder.stop();
      expect(commands.map((args) => args[0]!.toLowerCase())).toEqual(['get', 'evalsha']);
      expect(commands[0]![1]).toBe(`sf:{${ns}:lk:u1}room`);
    });

  test("issue 11 finding 5: a ':' in a namespace is refused, so one tenant cannot overwrite another's key", async () => {
    const ns = freshNamespace();
    const ex = h.executor;
    const image = async () =>
      h.raw.client
        ? redisDump(h.raw.client, ns)
        : JSON.stringify((h.executor as MemoryExecutor).dump());
    // The probe: namespace `<ns>:lk:b`, service `c` spells the key of the link index of
    // namespace `<ns>`, uid `b:workload:c`.
    expect(workloadKey(`${ns}:lk:b`, 'c')).toBe(linkIndexKey(ns, 'b:workload:c'));
    await ex.setLinkedPod(ns, 'b:workload:c', 'room', { podId: 3, persistSeconds: -1 });
    const before = await image();
    const recorder = h.raw.client ? await recordCommands(h.raw.client) : undefined;
    for (const write of [
      () => ex.setWorkloadState(`${ns}:lk:b`, 'c', 'Running'),
      () => ex.setServiceState(`${ns}:lk:b`, 'c', 0, 'READY'),
      () => ex.setLinkedPod(`${ns}:x`, 'u', 'room', { podId: 1, persistSeconds: -1 }),
      () => ex.getWorkloadState(`${ns}:lk:b`, 'c'),
    ]) {
      const error: unknown = await write().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        code: 'SR_VALIDATION',
        field: 'namespace',
        rule: 'forbidden-character',
        message: "namespace: must not contain ':'",
      });
    }
    if (recorder) expect(await recorder.stop()).toEqual([]);
    expect(await image()).toEqual(before);
    // The victim's link index is still a hash that answers.
    expect(await ex.getLinkService(ns, 'b:workload:c')).toEqual({ room: 3 });
    // uid and service may still contain ':'.
    expect(await ex.setLinkedPod(ns, 'u:1', 'svc:a', { podId: 4, persistSeconds: -1 })).toBe(-1);
    expect(await ex.getLinkedPod(ns, 'u:1', 'svc:a')).toBe(4);
    await ex.setWorkloadState(ns, 'svc:a', 'Running');
    expect(await ex.getWorkloadState(ns, 'svc:a')).toBe('Running');
  });

  test('the boundaries themselves are accepted', async () => {
    const ns = freshNamespace();
    const ex = h.executor;
    expect(
      await ex.setLinkedPod(ns, 'x'.repeat(512), 'room', { podId: 0, persistSeconds: 2 ** 31 - 1 }),
    ).toBe(-1);
    expect(
      await ex.setLinkedPod(ns, 'é'.repeat(256), 'room', {
        podId: Number.MAX_SAFE_INTEGER,
        persistSeconds: 1,
      }),
    ).toBe(-1);
    expect(await ex.removeLinkedPod(ns, 'x'.repeat(512), 'room', { keepSeconds: -1 })).toBe(true);
    expect(
      await ex.removeLinkedPodWithId(ns, 'é'.repeat(256), 'room', {
        podId: Number.MAX_SAFE_INTEGER,
      }),
    ).toBe(true);
    // Printable non-ASCII separators and a workload state of "" are not rejected.
    expect(
      await ex.setLinkedPod(ns, 'a\u00a0b\u2028c', 'room', { podId: 1, persistSeconds: -1 }),
    ).toBe(-1);
    await ex.setWorkloadState(ns, 'room', '');
    expect(await ex.getWorkloadState(ns, 'room')).toBeNull();
  });
});

describe('checkNamespace', () => {
  test("issue 11 finding 5: the public namespace rule refuses ':' on and off the ASCII fast path", () => {
    for (const value of ['a:b', ':', 'a:lk:b', 'x y:z', 'é:x']) {
      let error: unknown;
      try {
        checkNamespace(value);
      } catch (e) {
        error = e;
      }
      expect(error, value).toBeInstanceOf(ValidationError);
      expect(error, value).toMatchObject({
        field: 'namespace',
        rule: 'forbidden-character',
        message: "namespace: must not contain ':'",
      });
    }
    // The other id rules still apply, with their own rule names.
    expect(() => checkNamespace('a{b')).toThrow(/must not contain '\{' or '\}'/);
    expect(() => checkNamespace(' ')).toThrow(/blank/);
    // Legal namespaces pass, including the ones an id may hold.
    for (const value of ['default', 'a-b_c.d', 'é', 'a b', 'x'.repeat(512)]) checkNamespace(value);
  });
});
