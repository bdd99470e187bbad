import net from 'node:net';

const taken = new Set<number>();

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
    // Stay below 55535 so that the cluster bus port (port + 10000) is a valid port.
    const port = 20000 + Math.floor(Math.random() * 35000);
    if (taken.has(port)) continue;
    if (!(await probe(port))) continue;
    if (options.clusterBus && !(await probe(port + 10000))) continue;
    taken.add(port);
    return port;
  }
  throw new Error('test-redis: found no free port on 127.0.0.1 after 200 attempts');
}
