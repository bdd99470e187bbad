/**
 * Bearer-token checks. Tokens are compared in constant time on their SHA-256 digests, so
 * neither the content nor the length of the expected token leaks through timing. The token
 * is never logged (the logger also redacts the Authorization header).
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from './errors.js';

// crypto.hash is the one-shot form: about half the cost of createHash().update().digest(),
// and this runs on every authenticated request.
function digest(value: string): Buffer {
  return hash('sha256', value, 'buffer') as unknown as Buffer;
}

/**
 * A checker for `Authorization: Bearer <token>`: true when the header carries exactly the
 * expected token.
 */
export function bearerChecker(expected: string): (header: string | undefined) => boolean {
  const expectedDigest = digest(expected);
  return (header) => {
    if (typeof header !== 'string' || header.length < 8) return false;
    // The scheme is case-insensitive (RFC 9110); the token is not.
    if (header.slice(0, 7).toLowerCase() !== 'bearer ') return false;
    const given = digest(header.slice(7).trim());
    return timingSafeEqual(given, expectedDigest);
  };
}

/**
 * An `onRequest` hook that refuses the request with 401 SR_UNAUTHORIZED unless it carries
 * the token (register it only when a token is configured). Callback style: an async hook
 * costs a promise per request.
 * @throws SR_UNAUTHORIZED (answered by the error handler)
 */
export function requireBearer(
  expected: string,
): (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => void {
  const check = bearerChecker(expected);
  return (request, _reply, done) => {
    if (check(request.headers.authorization)) done();
    else done(new UnauthorizedError());
  };
}
