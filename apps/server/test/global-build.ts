// Vitest global setup: the smoke tests run the BUILT bin, so build it (once, before any test
// file starts) when dist/ is missing or stale. Under `pnpm test`, turbo has built it already.
import { ensureBuilt } from './helpers/built-server.js';

export default function setup(): void {
  ensureBuilt();
}
