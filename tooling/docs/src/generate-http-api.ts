// `pnpm --filter @stateful-route/docs-gen gen`: rewrites docs/http-api.md from the built
// server's OpenAPI document (build the server first: `pnpm build`).
import { writeFile } from 'node:fs/promises';
import { renderHttpApi } from './openapi-markdown.js';
import { fetchOpenApi, repositoryRoot } from './server-process.js';

const target = `${repositoryRoot}docs/http-api.md`;
await writeFile(target, await renderHttpApi(await fetchOpenApi(), target));
console.log(`wrote ${target}`);
