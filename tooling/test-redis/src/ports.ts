import net from 'node:net';

const taken = new Set<number>();

// Ports handed out: 10000..22767, so that port + 10000 (a cluster bus) stays under 32768.
const FIRST_PORT = 10_000;
const PORT_SPAN = 12_768;

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1. With `clusterBus`, port + 10000 is free too (Redis Cluster
 * listens on both). Ports handed out by this process are never handed out twice.
 */
export async function freePort(options: { clusterBus?: boolean } = {}): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Below Linux's ephemeral range (32768-60999 by default), cluster bus (port + 10000)
    // included: an outgoing connection of any test can take an ephemeral port between the
    // probe and the listen (seen in CI as EADDRINUSE on a port freePort had just returned).
    const port = FIRST_PORT + Math.floor(Math.random() * PORT_SPAN);
    if (taken.has(port)) continue;
    if (!(await probe(port))) continue;
    if (options.clusterBus && !(await probe(port + 10000))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('test-redis: found no free port on 127.0.0.1 after 200 attempts');
}
