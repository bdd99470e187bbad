/**
 * Bearer-token checks. Tokens are compared in constant time in a fixed-size slot (256 bytes,
 * or the expected token's length when longer), so neither the content nor the length of the expected token leaks through timing.
 * The token is never logged (the logger also redacts the Authorization header).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from './errors.js';

/** The smallest slot tokens are compared in: longer than any sane token. */
const SLOT_BYTES = 256;

/**
 * A checker for `Authorization: Bearer <token>`: true when the header carries exactly the
 * expected token.
 *
 * The given token is written into a zeroed slot the size of the expected one's (at least
 * SLOT_BYTES) and compared with `timingSafeEqual`, its byte length apart: the work depends on
 * the slot size and on the length of what the client sent, never on the expected token. No
 * digest and no allocation per request (the slot is reused: the check is synchronous).
 */
export function bearerChecker(expected: string): (header: string | undefined) => boolean {
  const expectedBytes = Buffer.byteLength(expected);
  const size = Math.max(SLOT_BYTES, expectedBytes);
  const want = Buffer.alloc(size);
  want.write(expected);
  const given = Buffer.alloc(size);
  return (header) => {
    if (typeof header !== 'string' || header.length < 8) return false;
    // The scheme is case-insensitive (RFC 9110); the token is not.
    if (!header.startsWith('Bearer ') && header.slice(0, 7).toLowerCase() !== 'bearer ') {
      return false;
    }
    const token = header.slice(7).trim();
    const length = Buffer.byteLength(token);
    // Longer than the slot: not the token, and the slot size says nothing about it.
    if (length > size) return false;
    given.fill(0, given.write(token));
    const same = timingSafeEqual(given, want);
    return same && length === expectedBytes;
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
