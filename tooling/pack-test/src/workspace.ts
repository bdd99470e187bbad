import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from tooling/pack-test/src or /dist). */
export const workspaceRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A package of the workspace that is published to npm. */
export interface PublishablePackage {
  name: string;
  version: string;
  /** Absolute folder of the package. */
  dir: string;
  /** Bin names declared by the package. */
  bins: string[];
}

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  bin?: string | Record<string, string>;
}

/**
 * Every non-private package under packages/ and apps/, libraries first (sorted by folder),
 * read from the manifests so a new package is checked without editing this list.
 */
export async function publishablePackages(): Promise<PublishablePackage[]> {
  const found: PublishablePackage[] = [];
  for (const group of ['packages', 'apps']) {
    const entries = await readdir(join(workspaceRoot, group), { withFileTypes: true });
    for (const entry of entries
      .filter((e) => e.isDirectory())
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const dir = join(workspaceRoot, group, entry.name);
      let manifest: Manifest;
      try {
        manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
      } catch {
        continue;
      }
      if (manifest.private) continue;
      const bins =
        typeof manifest.bin === 'string'
          ? [manifest.name.split('/').pop()!]
          : Object.keys(manifest.bin ?? {});
      found.push({ name: manifest.name, version: manifest.version, dir, bins });
    }
  }
  return found;
}
