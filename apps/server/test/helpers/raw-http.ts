/**
 * HTTP/1.1 over a plain TCP socket, bytes exactly as given: for the tests of clients that
 * misbehave (slow, pipelining without reading, malformed), which fetch cannot be.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** One parsed reply. */
export interface RawReply {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Splits the bytes a server sent into replies (each with a Content-Length, as all of this
 * server's are); a trailing incomplete reply is left out.
 */
export function parseReplies(text: string): RawReply[] {
  const replies: RawReply[] = [];
  let rest = text;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return replies;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? '');
    if (!status) throw new Error(`not an HTTP reply: ${JSON.stringify(rest.slice(0, 200))}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = end + 4;
    if (Buffer.byteLength(rest.slice(bodyStart)) < length) return replies;
    // Bodies here are ASCII JSON: characters and bytes agree.
    replies.push({
      status: Number(status[1]),
      headers,
      body: rest.slice(bodyStart, bodyStart + length),
    });
    rest = rest.slice(bodyStart + length);
  }
}

/** A raw connection: write bytes, wait for replies or for the server to close it. */
export class RawConnection {
  readonly socket: Socket;
  readonly openedAt = performance.now();
  /** Everything received so far (latin1, so bytes are kept one to one). */
  received = '';
  /** When the socket closed (ms since it opened), or undefined while open. */
  closedAfterMs: number | undefined;
  /** The socket error, if any (ECONNRESET when the server resets it). */
  error: string | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('latin1')));
    socket.on(
      'error',
      (error: NodeJS.ErrnoException) => (this.error = error.code ?? error.message),
    );
    socket.on('close', () => (this.closedAfterMs = performance.now() - this.openedAt));
  }

  /** Connects to 127.0.0.1:`port`. */
  static async open(port: number): Promise<RawConnection> {
    const socket = connect(port, '127.0.0.1');
    const connection = new RawConnection(socket);
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('close', () => resolve());
    });
    return connection;
  }

  get closed(): boolean {
    return this.closedAfterMs !== undefined;
  }

  write(bytes: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The replies received so far. */
  replies(): RawReply[] {
    return parseReplies(this.received);
  }

  /** Waits until `count` replies arrived, the socket closed, or `timeoutMs` passed. */
  async waitForReplies(count: number, timeoutMs = 5000): Promise<RawReply[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.replies().length < count && !this.closed && performance.now() < deadline)
      await sleep(5);
    return this.replies();
  }

  /** Waits until the socket closed or `timeoutMs` passed; whether it closed. */
  async waitForClose(timeoutMs = 5000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!this.closed && performance.now() < deadline) await sleep(5);
    return this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Writes `bytes` on a new connection and returns what came back once the server closed it. */
export async function exchange(
  port: number,
  bytes: string | Buffer,
  timeoutMs = 5000,
): Promise<{ replies: RawReply[]; closed: boolean; received: string }> {
  const connection = await RawConnection.open(port);
  connection.write(bytes);
  const closed = await connection.waitForClose(timeoutMs);
  connection.destroy();
  return { replies: connection.replies(), closed, received: connection.received };
}
