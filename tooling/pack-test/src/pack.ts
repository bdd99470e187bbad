import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runOrThrow } from './run.js';
import type { PublishablePackage } from './workspace.js';

/** A package packed into a tarball. */
export interface PackedPackage extends PublishablePackage {
  /** Absolute path of the `.tgz`. */
  tarball: string;
}

/**
 * Packs each package with `pnpm pack`, which is what `changeset publish` runs under pnpm:
 * it rewrites `workspace:` ranges to real versions and applies `publishConfig` overrides,
 * so the tarball is byte for byte what npm would serve. The packages must be built.
 */
export async function packPackages(
  packages: PublishablePackage[],
  destination: string,
): Promise<PackedPackage[]> {
  await mkdir(destination, { recursive: true });
  const packed: PackedPackage[] = [];
  // One at a time: pnpm pack is quick, and parallel packs compete for 2 cores with tests.
  for (const pkg of packages) {
    const before = new Set(await readdir(destination));
    await runOrThrow('pnpm', ['pack', '--pack-destination', destination], { cwd: pkg.dir });
    const created = (await readdir(destination)).filter(
      (f) => f.endsWith('.tgz') && !before.has(f),
    );
    if (created.length !== 1) {
      throw new Error(
        `pnpm pack in ${pkg.dir} made ${created.length} tarballs: ${created.join(', ')}`,
      );
    }
    packed.push({ ...pkg, tarball: join(destination, created[0]!) });
  }
  return packed;
}
