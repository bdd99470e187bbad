// stateful_route_build_info on the server's /metrics: one series, value 1, carrying the
// server's version (its package.json) and the Node.js version running it.
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { buildApp } from '../src/index.js';
import { parseExposition } from './helpers/exposition.js';

const serverVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

test('GET /metrics carries stateful_route_build_info{version, node_version} = 1', async () => {
  const app = await buildApp({ config: { logLevel: 'silent' } });
  try {
    const reply = await app.inject('/metrics');
    expect(reply.statusCode).toBe(200);
    expect(reply.body).toMatch(/^# TYPE stateful_route_build_info gauge$/m);
    const series = parseExposition(reply.body).filter(
      (s) => s.name === 'stateful_route_build_info',
    );
    expect(series.map((s) => [s.labels, s.value])).toEqual([
      [{ version: serverVersion, node_version: process.version }, 1],
    ]);
  } finally {
    await app.close();
  }
});
