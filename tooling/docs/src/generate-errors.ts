// `pnpm --filter @stateful-route/docs-gen gen`: rewrites the table of docs/errors.md from the
// code tables the built packages export (build them first: `pnpm build`). The prose above
// the marker line is kept as it is.
import { readFile, writeFile } from 'node:fs/promises';
import { renderErrors } from './error-codes.js';
import { repositoryRoot } from './server-process.js';

const target = `${repositoryRoot}docs/errors.md`;
await writeFile(target, await renderErrors(await readFile(target, 'utf8'), target));
console.log(`wrote ${target}`);
