/**
 * The `application/json` body parser: Fastify's own JSON parser (secure-json-parse with its
 * prototype-poisoning protection, the same empty-body and invalid-JSON errors, the body
 * limit), fed only with text that is valid UTF-8. Fastify's default decodes bytes that are
 * not UTF-8 to U+FFFD, which a route would then store in their place; the contract
 * (section 4) refuses them instead.
 */
import type { FastifyInstance } from 'fastify';
import { RequestValidationError, UnsupportedMediaTypeError } from './errors.js';

// The labels the WHATWG Encoding Standard maps to UTF-8 (what `new TextDecoder(label)`
// accepts for it). JSON exchanged between systems is UTF-8 (RFC 8259, section 8.1).
const UTF8_LABELS = new Set([
  'utf-8',
  'utf8',
  'unicode-1-1-utf-8',
  'unicode11utf8',
  'unicode20utf8',
  'x-unicode20utf8',
]);

// `fatal`: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD. A call
// without `stream` starts afresh, so one decoder serves every request. A leading BOM is
// dropped, as secure-json-parse does.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The `charset` parameters of a Content-Type header, lower-cased and unquoted. A quoted
 * parameter value holding `;` may add a spurious entry: that can only refuse a request,
 * never let another charset through.
 */
function charsetsOf(contentType: string): string[] {
  const out: string[] = [];
  const parts = contentType.split(';');
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name !== 'charset') continue;
    let value = eq < 0 ? '' : part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1);
    out.push(value.toLowerCase());
  }
  return out;
}

/**
 * Replaces Fastify's `application/json` parser (on `app` and the plugins registered after)
 * by one that refuses a body that is not UTF-8 (400 `SR_VALIDATION`, field `body`) and a
 * charset parameter other than UTF-8 (415 `SR_UNSUPPORTED_MEDIA_TYPE`), before any I/O.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser(
    app.initialConfig.onProtoPoisoning ?? 'error',
    app.initialConfig.onConstructorPoisoning ?? 'error',
  );
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const contentType = request.headers['content-type'];
    // The common header, `application/json` alone, skips the parameter scan.
    if (contentType !== undefined && contentType.includes(';')) {
      for (const charset of charsetsOf(contentType)) {
        if (!UTF8_LABELS.has(charset)) {
          done(
            new UnsupportedMediaTypeError(
              'the request body must be application/json in UTF-8 (charset=utf-8 or no charset)',
            ),
            undefined,
          );
          return;
        }
      }
    }
    let text: string;
    try {
      text = UTF8.decode(body as Buffer);
    } catch {
      done(new RequestValidationError('body', 'must be valid UTF-8'), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
