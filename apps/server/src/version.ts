/**
 * The server's version, read from its package.json at start-up (the file ships with the
 * package, next to dist/ and src/).
 */
import { readFileSync } from 'node:fs';

/** `version` of @stateful-route/server. */
export const SERVER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
