/**
 * The Node HTTP server under Fastify, with the limits that keep one client from tying it up:
 * a request timeout and a shorter headers timeout (408), a cap on open connections, a cap on
 * requests pipelined on one connection and on how long their replies may wait unread, and
 * `503 SR_SHUTTING_DOWN` once the server is closing. Its only work per request is one check:
 * is the reply queued behind another one on the same connection (the client pipelines)?
 */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { errorReplyBody } from './error-handler.js';
import { ServerErrorCodes } from './errors.js';

/**
 * Longest time the request line and headers may take to arrive (or the request timeout, when
 * that is shorter: Node requires headers timeout <= request timeout). Node's default is 60 s;
 * a client that has not sent its headers in 10 s is not a client worth a connection.
 */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * How long an idle keep-alive connection stays open: 72 s (Fastify's default, stated here),
 * longer than the 60 s idle timeout of common load balancers and proxies (AWS ALB, nginx's
 * upstream keep-alive), so that the balancer, not the server, closes an idle connection and
 * never sends a request on one the server is closing.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 72_000;

/**
 * Most requests waiting for their reply on one connection (HTTP/1.1 pipelining). Node reads
 * and starts every pipelined request it receives while the replies wait their turn, so a
 * client that pipelines without reading the replies would otherwise cost memory without
 * bound (each waiting request holds its request, reply and backend call). Above this the
 * connection is closed. Pipelining clients (benchmarks) keep a few to a few dozen in flight;
 * most HTTP clients (undici, Go, Java, browsers) do not pipeline at all.
 */
export const MAX_PIPELINED_REQUESTS = 128;

/** How often connections refused by the connection cap are logged (once per window). */
const DROP_LOG_INTERVAL_MS = 10_000;

/** The limits of `createHttpServer`, from the server's configuration. */
export interface HttpLimits {
  requestTimeoutMs: number;
  maxConnections: number;
}

/** Where the server logs; set once the Fastify logger exists (the server is created first). */
export interface LogRef {
  current?: FastifyBaseLogger;
}

// Per-connection state, set on pipelining connections only: how many replies wait behind the
// one being written, how many have moved up so far, and the watch for replies left unread.
const kQueued = Symbol('stateful-route.queuedReplies');
const kMoved = Symbol('stateful-route.movedReplies');
const kStall = Symbol('stateful-route.stallWatch');
type TrackedSocket = Socket & {
  [kQueued]?: number;
  [kMoved]?: number;
  [kStall]?: StallWatch;
};
interface StallWatch {
  timer: NodeJS.Timeout;
  /** Whether the timer runs (it stops while no reply waits). */
  armed: boolean;
  /** `kMoved` when the timer last started. */
  moved: number;
}

// A queued reply became the one being written: one fewer waits.
function onDequeued(socket: TrackedSocket): void {
  socket[kQueued] = (socket[kQueued] ?? 1) - 1;
  socket[kMoved] = (socket[kMoved] ?? 0) + 1;
}

/**
 * Creates the HTTP server Fastify runs on (its `serverFactory`), serving `handler` with the
 * timeouts and caps above.
 * @example
 * Fastify({ serverFactory: (handler) => createHttpServer(handler, limits, logRef) });
 */
export function createHttpServer(
  handler: RequestListener,
  limits: HttpLimits,
  log: LogRef,
): Server {
  const headersTimeout = Math.min(HEADERS_TIMEOUT_MS, limits.requestTimeoutMs);
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Node checks the timeouts on this interval (default 30 s, which would let a 10 s
      // headers timeout run to 40 s).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (request: IncomingMessage, response: ServerResponse) => {
      // The reply waits behind another one on this connection: the client pipelines.
      if (
        response.socket === null &&
        !admitPipelined(request.socket, response, limits.requestTimeoutMs, log)
      )
        return;
      handler(request, response);
    },
  );
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let lastLogged = 0;
  server.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - lastLogged < DROP_LOG_INTERVAL_MS) return;
    lastLogged = now;
    log.current?.warn(
      { maxConnections: limits.maxConnections, refused: dropped },
      `connection cap reached: refusing new connections above ${limits.maxConnections}`,
    );
    dropped = 0;
  });
  return server;
}

function admitPipelined(
  socket: TrackedSocket,
  response: ServerResponse,
  stallMs: number,
  log: LogRef,
): boolean {
  // The rest of a read that was already parsed when the connection was closed below.
  if (socket.destroyed) return false;
  const queued = (socket[kQueued] ?? 0) + 1;
  if (queued > MAX_PIPELINED_REQUESTS) {
    close(
      socket,
      log,
      `more than ${MAX_PIPELINED_REQUESTS} pipelined requests waiting for their replies`,
    );
    return false;
  }
  socket[kQueued] = queued;
  response.once('socket', onDequeued);
  if (socket[kStall]?.armed !== true) watchStall(socket, stallMs, log);
  return true;
}

/**
 * Closes a pipelining connection whose queued replies have not moved for a whole `stallMs`
 * window (the request timeout; so within two of them after the client's last read): its client
 * does not read them, and Node, which stops reading the connection, has no timeout for replies
 * that cannot be sent. Without it such a connection would keep up to MAX_PIPELINED_REQUESTS
 * replies in memory until the client leaves.
 */
function watchStall(socket: TrackedSocket, stallMs: number, log: LogRef): void {
  const existing = socket[kStall];
  if (existing) {
    existing.armed = true;
    existing.moved = socket[kMoved] ?? 0;
    existing.timer.refresh();
    return;
  }
  const watch: StallWatch = {
    armed: true,
    moved: socket[kMoved] ?? 0,
    timer: setTimeout(() => {
      if (socket.destroyed) return;
      if ((socket[kQueued] ?? 0) === 0) {
        watch.armed = false; // nothing waits; started again by the next pipelined request
        return;
      }
      if ((socket[kMoved] ?? 0) === watch.moved) {
        close(socket, log, `pipelined replies not read for ${stallMs} ms`);
        return;
      }
      watch.moved = socket[kMoved] ?? 0;
      watch.timer.refresh();
    }, stallMs),
  };
  watch.timer.unref();
  socket[kStall] = watch;
  socket.once('close', () => clearTimeout(watch.timer));
}

// One warn line per connection closed, with why.
function close(socket: Socket, log: LogRef, why: string): void {
  log.current?.warn(
    { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort },
    `closed a connection: ${why}`,
  );
  socket.destroy();
}

/**
 * From now on every new request on a connection still open is answered
 * `503 SR_SHUTTING_DOWN` with `Connection: close` and `Retry-After: 1` (requests already
 * received finish normally). Swaps the request listener, so serving costs nothing extra
 * before.
 */
export function refuseNewRequests(server: Server): void {
  const body = errorReplyBody(
    ServerErrorCodes.SHUTTING_DOWN,
    'the server is shutting down; retry on another instance',
  );
  server.removeAllListeners('request');
  server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
    response.shouldKeepAlive = false;
    response.writeHead(503, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'retry-after': '1',
      connection: 'close',
    });
    response.end(body);
  });
}
