/**
 * The one place where errors become HTTP replies: `{ error: { code, message, field? } }`
 * with the status of the code (see `STATUS_OF_CODE`). An error of any stateful-route package
 * is recognised by its brand (`isStatefulRouteError`), never by the look of its code. Never a
 * stack trace, never a value the client sent; unexpected errors are logged with their stack
 * and answered with SR_INTERNAL.
 * An unavailable backend (503, 507) is not a server fault: it is logged at warn, once per
 * state change (see `BackendAvailability`), not once per request.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { isStatefulRouteError, ValidationError } from '@stateful-route/executor-core';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { BackendAvailability } from './backend-availability.js';
import { ServerErrorCodes, statusOfCode, RequestValidationError } from './errors.js';

/** The JSON body of every error reply. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** An error reply: its status and body, and how loudly to log it. */
export interface MappedError {
  status: number;
  body: ErrorBody;
  /** `error` for server faults, `warn` for an unavailable backend, `debug` for client errors. */
  level: 'error' | 'warn' | 'debug';
}

// Fastify's own client errors, answered with our codes. Their messages can quote the body
// (JSON parse errors do), so the message is ours.
const FASTIFY_ERRORS: Record<
  string,
  { status: number; code: string; field?: string; message: string }
> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: ServerErrorCodes.BODY_TOO_LARGE,
    message: 'the request body is larger than the body limit',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: ServerErrorCodes.UNSUPPORTED_MEDIA_TYPE,
    message: 'the request body must be application/json',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: ServerErrorCodes.VALIDATION,
    field: 'body',
    message: 'body: must not be empty when Content-Type is application/json',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: ServerErrorCodes.VALIDATION,
    field: 'body',
    message: 'body: must be valid JSON',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: ServerErrorCodes.VALIDATION,
    field: 'content-length',
    message: 'content-length: does not match the body',
  },
  FST_ERR_BAD_URL: {
    status: 400,
    code: ServerErrorCodes.VALIDATION,
    field: 'path',
    message: 'path: is not a valid percent-encoded UTF-8 URL',
  },
};

/** Maps any thrown value to the reply the client gets. */
export function mapError(error: unknown): MappedError {
  // An error of any stateful-route package (the executor's, the server's, the analyzer's, the
  // reporter's, ...): its messages are written for people and carry no user values.
  if (isStatefulRouteError(error)) {
    const status = statusOfCode(error.code);
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error instanceof ValidationError || error instanceof RequestValidationError) {
      body.error.field = error.field;
    }
    return { status, body, level: levelOf(status) };
  }
  const fastifyError = error as Partial<FastifyError> | null;
  const known =
    typeof fastifyError?.code === 'string' ? FASTIFY_ERRORS[fastifyError.code] : undefined;
  if (known) {
    const body: ErrorBody = { error: { code: known.code, message: known.message } };
    if (known.field) body.error.field = known.field;
    return { status: known.status, body, level: 'debug' };
  }
  // Fastify's JSON parser marks a syntax error with statusCode 400.
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return mapError({ code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
  }
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return {
      status: 400,
      body: {
        error: {
          code: ServerErrorCodes.VALIDATION,
          message: 'request: is malformed',
          field: 'request',
        },
      },
      level: 'debug',
    };
  }
  return {
    status: 500,
    body: { error: { code: ServerErrorCodes.INTERNAL, message: 'internal server error' } },
    level: 'error',
  };
}

/** Whether a pino logger would write a debug line (skips building the line otherwise). */
export function debugEnabled(log: FastifyBaseLogger): boolean {
  return (
    (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') ?? false
  );
}

function levelOf(status: number): MappedError['level'] {
  if (status === 503 || status === 507) return 'warn';
  return status >= 500 ? 'error' : 'debug';
}

/**
 * Fastify error handler: logs by severity, replies with the mapped status and body. With
 * `availability`, an unavailable backend is logged there, once per state change; without
 * it (errors of the framework, before any route), once per request.
 */
export function errorHandler(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  availability?: BackendAvailability,
): void {
  const mapped = mapError(error);
  if (mapped.level === 'error')
    request.log.error({ reqId: request.id, err: error }, 'request failed');
  else if (mapped.level === 'warn') {
    const { code, message } = mapped.body.error;
    if (availability) availability.failed(code, message, request.id);
    else request.log.warn({ reqId: request.id, code, reason: message }, 'backend unavailable');
  } else if (debugEnabled(request.log))
    request.log.debug(
      { reqId: request.id, code: mapped.body.error.code, field: mapped.body.error.field },
      'request refused',
    );
  if (mapped.status === 503) reply.header('retry-after', '1');
  if (mapped.status === 401) reply.header('www-authenticate', 'Bearer');
  void reply.code(mapped.status).send(mapped.body);
}

/** The JSON body of an error reply without a field, as sent. */
export function errorReplyBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } } satisfies ErrorBody);
}

// Errors of Node's HTTP parser and timeouts, raised before Fastify has a request: the status,
// code and message the client gets. Any other parser error (HPE_*) is a 400 SR_BAD_REQUEST.
const CLIENT_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: ServerErrorCodes.REQUEST_TIMEOUT,
    message: 'the request did not arrive within the request timeout',
  },
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: ServerErrorCodes.HEADERS_TOO_LARGE,
    message: 'the request line and headers are larger than 16 KiB',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    code: ServerErrorCodes.BODY_TOO_LARGE,
    message: 'the chunk extensions of the request body are larger than 16 KiB',
  },
};
const BAD_REQUEST = {
  status: 400,
  code: ServerErrorCodes.BAD_REQUEST,
  message: 'the request is not valid HTTP/1.1',
};

/**
 * Fastify `clientErrorHandler`: a request that Node's parser refused (malformed, headers over
 * 16 KiB) or that did not arrive in time is answered in the documented error shape, then the
 * connection is closed. Transport errors (a reset, a broken pipe) just close it. Logged at
 * debug only: a client's mistake is not the server's news.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  const code = error.code ?? '';
  const known = code === 'ERR_HTTP_REQUEST_TIMEOUT' || code.startsWith('HPE_');
  if (known && socket.writable && !replyStarted(socket)) {
    const { status, code: replyCode, message } = CLIENT_ERRORS[code] ?? BAD_REQUEST;
    const body = errorReplyBody(replyCode, message);
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    if (debugEnabled(this.log))
      this.log.debug({ code: replyCode, parserError: code }, 'client error: connection closed');
  }
  socket.destroy();
}

// Whether a reply already began on this connection (writing now would corrupt it).
function replyStarted(socket: Socket): boolean {
  return (
    (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent ===
    true
  );
}
