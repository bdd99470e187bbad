import { join } from 'node:path';
import { run } from './run.js';
import { workspaceRoot } from './workspace.js';

/** The verdict of one linter on one tarball. */
export interface LintResult {
  tool: 'publint' | 'attw';
  ok: boolean;
  output: string;
}

const bin = (name: string) => join(workspaceRoot, 'node_modules', '.bin', name);

/**
 * Lints a packed tarball with publint (strict: warnings fail too) and with
 * `@arethetypeswrong/cli` in the `esm-only` profile: the packages are ESM only, so
 * CommonJS `require` and `node10` resolution are out of scope, every ESM resolution mode
 * (node16 from ESM, bundler) must find types and JavaScript.
 */
export async function lintTarball(tarball: string): Promise<LintResult[]> {
  const publint = await run(bin('publint'), ['run', tarball, '--strict'], { timeoutMs: 60_000 });
  const attw = await run(
    bin('attw'),
    [tarball, '--profile', 'esm-only', '--no-color', '--no-emoji'],
    {
      timeoutMs: 60_000,
    },
  );
  return [
    { tool: 'publint', ok: publint.code === 0, output: publint.stdout + publint.stderr },
    { tool: 'attw', ok: attw.code === 0, output: attw.stdout + attw.stderr },
  ];
}
