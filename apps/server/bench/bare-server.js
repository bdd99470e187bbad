/* global process */
// Reference points of the load benchmark: the same executor calls as the server's GET link
// and PUT link if-absent routes, in bare Fastify routes: no schema, no auth, no metrics, no
// analyzer, no logger, the executor without a command timeout. The gap between these and
// the full server is what the server's features cost.
// Usage: node bare-server.js <port> <redis-url>
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { createRedisExecutor } from '@stateful-route/executor-core';

const redis = new Redis(process.argv[3], { enableAutoPipelining: true });
const executor = createRedisExecutor({ redis, closeClients: true });
await executor.loadScripts();
const app = Fastify({ logger: false });
app.get('/v1/namespaces/:ns/users/:uid/links/:svc', async (request) => {
  const { ns, uid, svc } = request.params;
  return { podId: await executor.getLinkedPod(ns, uid, svc) };
});
app.put('/v1/namespaces/:ns/users/:uid/links/:svc', async (request) => {
  const { ns, uid, svc } = request.params;
  const { podId, persistSeconds } = request.body;
  return { podId: await executor.setLinkedPodIfAbsent(ns, uid, svc, { podId, persistSeconds }) };
});
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.on(
  'SIGTERM',
  () =>
    void app
      .close()
      .then(() => executor.close())
      .then(() => process.exit(0)),
);
