// The raw-argument check of the CLI (issue 11 finding 6): which bytes belong to which
// argument in /proc/self/cmdline, and when the check falls back to refusing U+FFFD.
import { describe, expect, test } from 'vitest';
import { checkArgvEncoding, readArgvBytes } from '../src/argv.js';
import { UsageError } from '../src/index.js';

const cmdline =
  (...entries: (string | Buffer)[]) =>
  () =>
    Buffer.concat(entries.flatMap((e) => [Buffer.from(e), Buffer.from([0])]));

describe('readArgvBytes', () => {
  test('issue 11 finding 6: takes the last entries of /proc/self/cmdline, the bytes as given', () => {
    const bytes = readArgvBytes(
      ['link', 'caf\ufffd', '', 'x'],
      cmdline(
        'node',
        '--enable-source-maps',
        '/bin/main.js',
        'link',
        Buffer.from('caf\xff', 'latin1'),
        '',
        'x',
      ),
    );
    expect(bytes?.map((b) => Buffer.from(b).toString('hex'))).toEqual([
      Buffer.from('link').toString('hex'),
      '636166ff',
      '',
      '78',
    ]);
    expect(readArgvBytes([], cmdline('node', 'main.js'))).toEqual([]);
  });

  test('null when the file cannot be read or does not match the arguments', () => {
    const missing = () => {
      throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    };
    expect(readArgvBytes(['a'], missing)).toBeNull();
    // A process title written over the arguments, or fewer entries than arguments.
    expect(readArgvBytes(['a', 'b'], cmdline('node', 'main.js', 'a', 'c'))).toBeNull();
    expect(readArgvBytes(['a', 'b', 'c'], cmdline('a', 'b'))).toBeNull();
    expect(readArgvBytes(['a'], () => Buffer.from('node\0main.js\0a'))).toBeNull();
  });
});

describe('checkArgvEncoding', () => {
  const refusal = (args: string[], bytes: Uint8Array[] | null | undefined) => {
    try {
      checkArgvEncoding(args, bytes);
      return undefined;
    } catch (error) {
      return error;
    }
  };

  test('issue 11 finding 6: refuses the first argument whose bytes are not UTF-8, naming its position', () => {
    for (const bad of [[0xff], [0xe9], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const error = refusal(
        ['a', 'b\ufffd', 'c\ufffd'],
        [Buffer.from('a'), Buffer.from([0x62, ...bad]), Buffer.from([0x63, ...bad])],
      );
      expect(error).toBeInstanceOf(UsageError);
      expect(error).toMatchObject({ code: 'SR_CLI_USAGE', exitCode: 2, field: 'argv[2]' });
      expect((error as Error).message).toMatch(/^argument 2 is not valid UTF-8/);
    }
    // UTF-8 for U+FFFD itself, or any other text, passes.
    expect(
      refusal(
        ['\ufffd', 'é日🚀', ''],
        ['\ufffd', 'é日🚀', ''].map((s) => Buffer.from(s)),
      ),
    ).toBe(undefined);
  });

  test('without the bytes (no /proc) an argument holding U+FFFD is refused; injected strings are not checked', () => {
    expect(refusal(['a', 'b\ufffd'], null)).toMatchObject({ field: 'argv[2]', exitCode: 2 });
    expect(refusal(['a', 'b'], null)).toBeUndefined();
    // Bytes that do not line up with the arguments count as unknown.
    expect(refusal(['a', 'b\ufffd'], [Buffer.from('a')])).toMatchObject({ field: 'argv[2]' });
    expect(refusal(['a', 'b\ufffd'], undefined)).toBeUndefined();
  });
});
