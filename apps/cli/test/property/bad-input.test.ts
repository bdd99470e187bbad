// Property tests of every data command through `run(argv, io)`, against a Redis of its own
// and against a server on that Redis: bad ids, pods, TTLs and keep seconds end with exit
// code 2 and a coded error, and leave every key of Redis byte for byte as it was.
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RedisServer } from '@stateful-route/test-redis';
import { buildApp } from '@stateful-route/server';
import { cli } from '../helpers.js';

let redis: RedisServer;
let admin: Redis;
let server: Awaited<ReturnType<typeof buildApp>>;
let serverUrl: string;

beforeAll(async () => {
  redis = await startRedis();
  admin = redis.client();
  server = await buildApp({ config: { redisUrl: redis.url, logLevel: 'silent' } });
  await server.listen({ host: '127.0.0.1', port: 0 });
  serverUrl = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  // Data that a wrongly accepted write would change.
  const seed = [
    ['link', 'set', 'prop', 'u1', 'room', '1'],
    ['link', 'set', 'prop', 'u2', 'room', '2', '--persist-seconds', '600'],
    ['state', 'set', 'prop', 'room', '0', 'READY'],
    ['workload', 'set', 'prop', 'room', 'w1'],
  ];
  for (const argv of seed) expect((await cli([...argv, '--redis', redis.url])).code).toBe(0);
});
afterAll(async () => {
  await server?.close();
  admin?.disconnect();
  await redis?.stop();
});

async function keyspace(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of (await admin.keys('*')).sort()) {
    const [dump, ttl] = await Promise.all([admin.dumpBuffer(key), admin.pttl(key)]);
    out[key] = `${dump?.toString('hex')} ttl=${ttl > 0 ? 'yes' : ttl}`;
  }
  return out;
}

type Slot = 'ns' | 'svc' | 'uid' | 'pod' | 'persist' | 'keep' | 'podOption';
interface Command {
  /** Positional words and the slots that fill them. */
  words: (string | Slot)[];
  /** Options, `[flag, slot]`. */
  options?: [string, Slot][];
  /** Trailing variadic ids (query commands). */
  variadic?: Slot;
}

const COMMANDS: Command[] = [
  { words: ['state', 'get', 'ns', 'svc'] },
  { words: ['state', 'set', 'ns', 'svc', 'pod', 'READY'] },
  { words: ['workload', 'get', 'ns', 'svc'] },
  { words: ['workload', 'set', 'ns', 'svc', 'w2'] },
  { words: ['workload', 'query', 'ns'], variadic: 'svc' },
  { words: ['link', 'get', 'ns', 'uid', 'svc'] },
  {
    words: ['link', 'set', 'ns', 'uid', 'svc', 'pod'],
    options: [['--persist-seconds', 'persist']],
  },
  {
    words: ['link', 'try', 'ns', 'uid', 'svc', 'pod'],
    options: [['--persist-seconds', 'persist']],
  },
  {
    words: ['link', 'set-if-absent', 'ns', 'uid', 'svc', 'pod'],
    options: [['--persist-seconds', 'persist']],
  },
  {
    words: ['link', 'remove', 'ns', 'uid', 'svc'],
    options: [
      ['--keep-seconds', 'keep'],
      ['--pod-id', 'podOption'],
    ],
  },
  { words: ['link', 'list', 'ns', 'uid'] },
  { words: ['link', 'query', 'ns', 'svc'], variadic: 'uid' },
];
const SLOTS = new Set<string>(['ns', 'svc', 'uid', 'pod', 'persist', 'keep', 'podOption']);

const GOOD: Record<Slot, string> = {
  ns: 'prop',
  svc: 'room',
  uid: 'u1',
  pod: '3',
  persist: '-1',
  keep: '-1',
  podOption: '1',
};

const text = fc.string({ maxLength: 10 });
const badId = fc.oneof(
  fc.tuple(text, fc.constantFrom('{', '}', '{}'), text).map(([a, b, c]) => a + b + c),
  fc
    .tuple(
      text,
      fc.oneof(fc.integer({ min: 0, max: 0x1f }), fc.integer({ min: 0x7f, max: 0x9f })),
      text,
    )
    .map(([a, c, b]) => a + String.fromCharCode(c) + b),
  fc.constantFrom('', ' ', '   ', '\u00a0', '\u3000'),
  fc
    .tuple(fc.constantFrom('a', 'é', '日', '😀'), fc.integer({ min: 0, max: 200 }))
    .map(([c, extra]) => c.repeat(Math.ceil(513 / Buffer.byteLength(c)) + extra)),
  // lone surrogates: not Unicode, cannot be stored as UTF-8
  fc.constantFrom('\ud800', 'a\udfffb', '\udc00\ud800'),
);
const badInteger = fc.oneof(
  fc.constantFrom('1.5', '1e3', 'abc', '', ' 1', '1 ', '01', '+1', '0x10', '-0', 'NaN', 'Infinity'),
  fc.constantFrom('9007199254740993', '99999999999999999999999', '-9007199254740993'),
);
const BAD: Record<Slot, fc.Arbitrary<string>> = {
  ns: badId,
  svc: badId,
  uid: badId,
  pod: fc.oneof(badInteger, fc.integer({ min: -1000, max: -1 }).map(String)),
  podOption: fc.oneof(badInteger, fc.integer({ min: -1000, max: -1 }).map(String)),
  persist: fc.oneof(
    badInteger,
    fc.constantFrom('0', '-2', String(2 ** 31), String(2 ** 53)),
    fc.integer({ min: -100_000, max: -2 }).map(String),
  ),
  keep: fc.oneof(badInteger, fc.integer({ min: -100_000, max: -2 }).map(String)),
};

function slotsOf(command: Command): Slot[] {
  const slots = command.words.filter((w): w is Slot => SLOTS.has(w));
  for (const [, slot] of command.options ?? []) slots.push(slot);
  if (command.variadic) slots.push(command.variadic);
  return [...new Set(slots)];
}

/** argv with one slot filled with a bad value; `--` keeps values like `-5` positional. */
function argvFor(command: Command, bad: Slot, value: string, target: string[]): string[] {
  const fill = (slot: Slot) => (slot === bad ? value : GOOD[slot]);
  const argv = [...target, '--json', command.words[0]!, command.words[1]!];
  for (const [flag, slot] of command.options ?? []) argv.push(`${flag}=${fill(slot)}`);
  argv.push('--');
  for (const word of command.words.slice(2)) argv.push(SLOTS.has(word) ? fill(word as Slot) : word);
  if (command.variadic) argv.push('a', fill(command.variadic), 'b');
  return argv;
}

const cases = fc
  .constantFrom(...COMMANDS)
  .chain((command) =>
    fc
      .constantFrom(...slotsOf(command))
      .chain((slot) => fc.tuple(fc.constant(command), fc.constant(slot), BAD[slot])),
  );

async function expectRefused(argv: string[], before: Record<string, string>): Promise<string> {
  const result = await cli(argv);
  const label = `${JSON.stringify(argv).slice(0, 300)} -> ${result.code} ${result.stderr.slice(0, 300)}`;
  expect(result.code, label).toBe(2);
  expect(result.stdout, label).toBe('');
  const error = (JSON.parse(result.stderr) as { error: { code: string } }).error;
  expect(error.code, label).toMatch(/^SR_[A-Z_]+$/);
  expect(await keyspace(), label).toEqual(before);
  return error.code;
}

describe('every CLI data command refuses bad input with exit 2 and writes nothing', () => {
  for (const targetName of ['redis', 'server'] as const) {
    test(`bad ids, pods, TTLs and keep seconds (--${targetName})`, async () => {
      const target = targetName === 'redis' ? ['--redis', redis.url] : ['--server', serverUrl];
      const before = await keyspace();
      const codes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(cases, async ([command, slot, value]) => {
          const code = await expectRefused(argvFor(command, slot, value, target), before);
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }),
        { numRuns: 150, endOnFailure: true },
      );
      console.log(
        `[property cli --${targetName}] refusals by code: ${JSON.stringify(Object.fromEntries(codes))}`,
      );
    });
  }

  for (const targetName of ['redis', 'server'] as const) {
    test(`issue 11 finding 5: a namespace with ':' is refused by every data command, field namespace (--${targetName})`, async () => {
      const target = targetName === 'redis' ? ['--redis', redis.url] : ['--server', serverUrl];
      const before = await keyspace();
      // `prop:lk:u1` + service `x` would spell the link index of uid `u1:workload:x`, etc.
      for (const ns of ['prop:lk:u1', 'prop:workload', ':', 'a:', ':b', 'é:日']) {
        for (const command of COMMANDS) {
          const argv = argvFor(command, 'ns', ns, target);
          const result = await cli(argv);
          const label = `${argv.join(' ')} -> ${result.code} ${result.stderr}`;
          expect(result.code, label).toBe(2);
          expect(JSON.parse(result.stderr), label).toEqual({
            error: {
              code: 'SR_VALIDATION',
              field: 'namespace',
              message: "namespace: must not contain ':'",
            },
          });
          expect(await keyspace(), label).toEqual(before);
        }
      }
    });
  }

  test('issue 11 finding 6: an argument whose bytes are not UTF-8 is refused with its position (exit 2) before any I/O', async () => {
    const before = await keyspace();
    const target = ['--redis', redis.url];
    const argv = ['link', 'set', 'prop', 'caf\ufffd', 'room', '3', ...target, '--json'];
    const utf8 = argv.map((arg) => Buffer.from(arg, 'utf8'));
    // What the OS passed: `caf\xff` (Node shows it as `caf\ufffd`).
    const raw = [...utf8];
    raw[3] = Buffer.from('caf\xff', 'latin1');
    const refused = await cli(argv, { argvBytes: raw });
    expect(refused.code, refused.stderr).toBe(2);
    expect(JSON.parse(refused.stderr)).toEqual({
      error: {
        code: 'SR_CLI_USAGE',
        field: 'argv[4]',
        message: expect.stringContaining('argument 4 is not valid UTF-8') as unknown,
      },
    });
    expect(await keyspace()).toEqual(before);
    // Without the raw bytes (no /proc): a U+FFFD may stand for any such byte, so it is refused.
    const unknown = await cli(argv, { argvBytes: null });
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(JSON.parse(unknown.stderr)).toMatchObject({
      error: { code: 'SR_CLI_USAGE', field: 'argv[4]' },
    });
    expect(await keyspace()).toEqual(before);
    // Bytes that are UTF-8 for U+FFFD itself: text like any other, stored as given.
    const typed = await cli(argv, { argvBytes: utf8 });
    expect(typed.code, typed.stderr).toBe(0);
    expect(await admin.get('sf:{prop:lk:caf\ufffd}room')).toBe('3');
    expect((await cli(['link', 'remove', 'prop', 'caf\ufffd', 'room', ...target])).code).toBe(0);
    expect(await keyspace()).toEqual(before);
  });

  test('good values through the same argv builder are accepted (the refusals are not vacuous)', async () => {
    for (const command of COMMANDS) {
      const argv = argvFor(command, 'ns', GOOD.ns, ['--redis', redis.url]);
      const result = await cli(argv);
      expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });
});
