// Every relative link in the documentation points at a file that exists (and, for a
// `#fragment` into a Markdown file, at a heading that exists).
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../src/server-process.js';

async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir(join(repositoryRoot, 'docs')))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(repositoryRoot, 'docs', f));
  return [
    ...docs,
    join(repositoryRoot, 'README.md'),
    join(repositoryRoot, 'CONTRIBUTING.md'),
    join(repositoryRoot, 'deploy/README.md'),
  ];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    found.add(
      match[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replaceAll(' ', '-'),
    );
  }
  return found;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('documentation links', () => {
  it('every relative link resolves to a file (and heading) in the repository', async () => {
    const broken: string[] = [];
    for (const file of await markdownFiles()) {
      if (!(await exists(file))) continue;
      const text = await readFile(file, 'utf8');
      // Links outside code spans and fences; [text](target) with a relative target.
      const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
      for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
        const [path, fragment] = target.split('#');
        const resolved = path ? join(dirname(file), path) : file;
        if (!(await exists(resolved))) {
          broken.push(`${relative(repositoryRoot, file)}: ${target}`);
          continue;
        }
        if (fragment && resolved.endsWith('.md')) {
          const headings = anchors(await readFile(resolved, 'utf8'));
          if (!headings.has(fragment)) broken.push(`${relative(repositoryRoot, file)}: ${target}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});
