/**
 * A small fetch client for the stateful-route server: bearer token, a timeout on every
 * request, and the server's error replies (`{ error: { code, message, field? } }`) turned
 * into `RemoteError`s whose exit codes match the same failure on a direct Redis target.
 */
import { RemoteError, UnreachableError, CliErrorCodes } from './errors.js';

/** One request. */
export interface RequestOptions {
  method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  /** Query parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
}

/** A client of one server. */
export class ServerClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(baseUrl: string, token: string | undefined, timeoutMs: number) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Sends a request and returns the parsed JSON reply (`undefined` for 204).
   * @throws SR_CLI_UNREACHABLE, or a RemoteError with the server's code
   */
  async json<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#send(path, options, 'application/json');
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RemoteError(
        response.status,
        CliErrorCodes.REMOTE,
        `the server at ${this.baseUrl} replied with something that is not JSON (${path})`,
      );
    }
  }

  /** Sends a request and returns the reply body as text (rendered reports). */
  async text(path: string, options: RequestOptions = {}): Promise<string> {
    const response = await this.#send(path, options, '*/*');
    return response.text();
  }

  /**
   * Sends a request and returns the body as text with its content type (what `analyze` needs
   * to say what it fetched when it is not a metrics exposition).
   * @throws SR_CLI_UNREACHABLE, or a RemoteError for a status other than 2xx
   */
  async textWithType(
    path: string,
    options: RequestOptions = {},
  ): Promise<{ text: string; contentType: string | undefined }> {
    const response = await this.#send(path, options, '*/*');
    return { text: await response.text(), contentType: contentTypeOf(response) };
  }

  /**
   * Sends a request and returns its status and body whatever the status (`/readyz` answers
   * 503 with a body that says why).
   * @throws SR_CLI_UNREACHABLE when there is no answer at all
   */
  async probe(
    path: string,
  ): Promise<{ status: number; text: string; contentType: string | undefined }> {
    const response = await this.#send(path, {}, 'application/json', true);
    return {
      status: response.status,
      text: await response.text(),
      contentType: contentTypeOf(response),
    };
  }

  async #send(
    path: string,
    options: RequestOptions,
    accept: string,
    anyStatus = false,
  ): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept };
    if (this.#token !== undefined) headers['authorization'] = `Bearer ${this.#token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method: options.method ?? 'GET',
        headers,
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      throw unreachable(this.baseUrl, this.#timeoutMs, error);
    }
    if (response.ok || anyStatus) return response;
    throw await remoteError(response, this.baseUrl);
  }
}

function contentTypeOf(response: Response): string | undefined {
  return response.headers.get('content-type') ?? undefined;
}

function unreachable(baseUrl: string, timeoutMs: number, error: unknown): UnreachableError {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new UnreachableError(`the server at ${baseUrl} did not answer within ${timeoutMs} ms`, {
      cause: error,
    });
  }
  // undici reports network failures as TypeError('fetch failed') with the socket error as cause.
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new UnreachableError(`cannot reach the server at ${baseUrl}: ${String(reason)}`, {
    cause: error,
  });
}

async function remoteError(response: Response, baseUrl: string): Promise<RemoteError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } })?.error;
  if (error && typeof error.code === 'string') {
    const message = typeof error.message === 'string' ? error.message : error.code;
    const field = typeof error.field === 'string' ? error.field : undefined;
    return new RemoteError(response.status, error.code, message, field);
  }
  const hint =
    response.status === 401 || response.status === 403
      ? ': pass --token or set STATEFUL_ROUTE_TOKEN'
      : '';
  return new RemoteError(
    response.status,
    CliErrorCodes.REMOTE,
    `the server at ${baseUrl} answered ${response.status} ${response.statusText}${hint}`,
  );
}
