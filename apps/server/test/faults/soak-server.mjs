// The soak test's server: buildApp() from the built package in a child process started with
// --expose-gc, so the parent can ask for the heap size right after a full collection.
/* global process */
import { buildApp } from '@stateful-route/server';

const [redisUrl, token] = process.argv.slice(2);
const app = await buildApp({ config: { redisUrl, token, logLevel: 'warn' } });
await app.listen({ host: '127.0.0.1', port: 0 });
process.send({ type: 'listening', port: app.server.address().port });

process.on('message', (message) => {
  if (message.type === 'heap') {
    // Two passes: the first can leave garbage that only a second full collection frees.
    globalThis.gc();
    globalThis.gc();
    const { heapUsed, rss } = process.memoryUsage();
    process.send({ type: 'heap', heapUsed, rss });
  } else if (message.type === 'stop') {
    void app.close().then(() => process.exit(0));
  }
});
