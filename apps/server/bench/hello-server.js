/* global process */
// The baseline of the load benchmark: a bare Fastify route with no schema, no auth, no
// metrics and no logger. Usage: node hello-server.js <port>
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
process.send?.('ready');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
