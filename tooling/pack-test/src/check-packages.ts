#!/usr/bin/env node
// `pnpm check:packages`: packs every publishable package as `changeset publish` would and
// lints the tarballs with publint and @arethetypeswrong/cli. Exits 1 when any check fails.
// The root script builds first (`turbo run build`); this file expects dist/ to exist.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintTarball } from './lint.js';
import { packPackages } from './pack.js';
import { publishablePackages } from './workspace.js';

const folder = await mkdtemp(join(tmpdir(), 'stateful-route-check-'));
let failed = 0;
try {
  const packed = await packPackages(await publishablePackages(), folder);
  for (const pkg of packed) {
    for (const result of await lintTarball(pkg.tarball)) {
      const verdict = result.ok ? 'ok  ' : 'FAIL';
      console.log(`${verdict} ${result.tool.padEnd(7)} ${pkg.name}@${pkg.version}`);
      if (!result.ok) {
        failed += 1;
        console.log(result.output.replace(/^/gm, '    '));
      }
    }
  }
  console.log(
    failed === 0
      ? `check:packages: ${packed.length} packages pass publint and attw`
      : `check:packages: ${failed} checks failed`,
  );
} finally {
  await rm(folder, { recursive: true, force: true });
}
process.exitCode = failed === 0 ? 0 : 1;
