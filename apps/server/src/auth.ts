/**
 * Bearer-token checks. Tokens are compared in constant time on their SHA-256 digests, so
 * neither the content nor the length of the expected token leaks through timing. The token
 * is never logged (the logger also redacts the Authorization header).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from './errors.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
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
 * the token. Returns a no-op-free hook only when a token is configured; callers skip it
 * otherwise.
 * @throws SR_UNAUTHORIZED (answered by the error handler)
 */
export function requireBearer(
  expected: string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const check = bearerChecker(expected);
  return async (request) => {
    if (!check(request.headers.authorization)) throw new UnauthorizedError();
  };
}
