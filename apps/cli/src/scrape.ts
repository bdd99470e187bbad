/**
 * One scrape of a Prometheus endpoint for `analyze`: the text, checked at once to be a text
 * exposition. Anything else (an HTML page, a JSON reply, the server's root) is refused with
 * what was fetched (status, content type, size, first bytes) and a hint at the right URL,
 * rather than the parser's bare "line 1: expected a metric name".
 */
import { AnalyzerErrorCodes, parseExposition } from '@stateful-route/analyzer';
import { isStatefulRouteError } from '@stateful-route/executor-core';
import { CliErrorCodes, RemoteError } from './errors.js';
import type { ServerClient } from './http-client.js';

/** Bytes of the body quoted in the message. */
const QUOTED_BYTES = 60;

/**
 * Fetches the exposition at the client's URL and checks that it parses.
 * @throws SR_CLI_UNREACHABLE / RemoteError for a failed request, SR_CLI_REMOTE when the body
 * is not a Prometheus text exposition (exit 4)
 */
export async function scrapeExposition(client: ServerClient): Promise<string> {
  const { text, contentType } = await client.textWithType('');
  try {
    parseExposition(text);
  } catch (error) {
    if (isStatefulRouteError(error) && error.code === AnalyzerErrorCodes.EXPOSITION_PARSE) {
      throw new RemoteError(
        200,
        CliErrorCodes.REMOTE,
        notExpositionMessage(client.baseUrl, contentType, text, (error as Error).message),
      );
    }
    throw error;
  }
  return text;
}

/** What was fetched and why it is not an exposition, with a hint at the URL to use. */
export function notExpositionMessage(
  url: string,
  contentType: string | undefined,
  text: string,
  parseMessage: string,
): string {
  const bytes = Buffer.byteLength(text);
  const flat = text.replace(/\s+/g, ' ').trim();
  const quoted = flat.length > QUOTED_BYTES ? `${flat.slice(0, QUOTED_BYTES)}...` : flat;
  const kind = describeBody(contentType, flat);
  let hint: string;
  try {
    const parsed = new URL(url);
    hint =
      parsed.pathname.replace(/\/+$/, '') === '/metrics'
        ? 'is this the stateful-route server, or an application instrumented with @stateful-route/metrics?'
        : `--url should be the server's Prometheus endpoint, e.g. ${parsed.origin}/metrics`;
  } catch {
    hint = "--url should be the server's Prometheus endpoint, e.g. http://127.0.0.1:8080/metrics";
  }
  return (
    `${url} did not answer with a Prometheus text exposition: it sent ${kind} ` +
    `(content-type ${contentType ?? 'not given'}, ${bytes} bytes, starting ${JSON.stringify(quoted)}), ` +
    `which does not parse (${parseMessage}). ${hint}`
  );
}

function describeBody(contentType: string | undefined, flat: string): string {
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('html') || /^<(!doctype|html|head|body)/i.test(flat)) return 'an HTML page';
  if (type.includes('json') || /^[[{]/.test(flat)) return 'a JSON document';
  return 'something else';
}
