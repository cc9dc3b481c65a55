// One request helper over undici for both services: timeouts, a capped response body, HttpStatusError with a safe
// excerpt, and the classification of network errors. It never retries; src/retry.ts decides that.
import { Agent, type Dispatcher } from 'undici';

import { HttpStatusError, type ServiceName } from './errors.js';

const BODY_EXCERPT_CHARS = 500;
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export interface HttpRequest {
  service: ServiceName;
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Values that must never appear in an error message (tokens, keys); replaced by [redacted]. */
  redact?: readonly string[];
  maxResponseBytes?: number;
  /** What an operator should check, by status; added to the HttpStatusError message. */
  hints?: Readonly<Record<number, string>>;
  /** Gather a 2xx body into this reused buffer (when it is free) instead of a fresh one; see ReceiveBuffer. */
  receiveBuffer?: ReceiveBuffer;
  /** Called once the status line and headers are in, before the body is read (the MCAS pacer frees its slot here). */
  onResponse?: () => void;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** When read into a ReceiveBuffer: valid until `release()`. */
  body: Buffer;
  /** Frees the ReceiveBuffer that holds `body`, if any; call it once the body has been read. */
  release(): void;
}

/**
 * One buffer that the bodies of a client's responses are gathered into, one response after another, for a client
 * that parses each body before it needs the next (the MCAS pages). A body arrives as many socket chunks; gathering
 * them into a fresh buffer per page churned the native allocator and kept the process's resident memory growing
 * (BENCHMARKS.md, Memory). It grows to the largest body seen. A request that finds it in use (one still being read
 * or parsed) reads into a fresh buffer instead, so sharing it is never wrong, only slower.
 */
export class ReceiveBuffer {
  #bytes = Buffer.allocUnsafeSlow(64 * 1024);
  #held = false;

  /** Takes the buffer for one body; false when another body holds it. */
  hold(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  release(): void {
    this.#held = false;
  }

  /** Appends `chunk` after the first `length` bytes, growing the buffer when needed; returns the new length. */
  append(chunk: Buffer, length: number): number {
    if (length + chunk.length > this.#bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.#bytes.length, length + chunk.length));
      this.#bytes.copy(grown, 0, 0, length);
      this.#bytes = grown;
    }
    return length + chunk.copy(this.#bytes, length);
  }

  view(length: number): Buffer {
    return this.#bytes.subarray(0, length);
  }
}

/** A keep-alive agent for the connector's few hosts; TLS verification stays on. */
export function createDispatcher(): Dispatcher {
  return new Agent({ keepAliveTimeout: 30_000, connections: 4 });
}

/**
 * Sends one request and reads the whole response. Resolves for 2xx; throws HttpStatusError for any other status and
 * passes network errors (with their `code`) through unchanged.
 */
export async function sendRequest(dispatcher: Dispatcher, request: HttpRequest): Promise<HttpResponse> {
  const response = await dispatcher.request({
    origin: request.url.origin,
    path: request.url.pathname + request.url.search,
    method: request.method,
    headers: request.headers,
    body: request.body ?? null,
    headersTimeout: request.timeoutMs,
    bodyTimeout: request.timeoutMs,
    signal: request.signal ?? null,
  });
  request.onResponse?.();
  const success = response.statusCode >= 200 && response.statusCode < 300;
  const shared = success && request.receiveBuffer?.hold() ? request.receiveBuffer : undefined;
  let body: Buffer;
  try {
    body = await readCapped(response.body, request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, shared);
  } catch (error) {
    shared?.release();
    throw error;
  }
  const release = shared ? () => shared.release() : () => undefined;
  const result: HttpResponse = { status: response.statusCode, headers: response.headers, body, release };
  if (success) return result;
  throw statusError(request, result);
}

function statusError(request: HttpRequest, response: HttpResponse): HttpStatusError {
  return new HttpStatusError({
    service: request.service,
    status: response.status,
    method: request.method,
    url: request.url.origin + request.url.pathname,
    retryAfterHeader: headerValue(response.headers, 'retry-after'),
    bodyExcerpt: bodyExcerpt(response.body, request.redact ?? []),
    hint: request.hints?.[response.status],
  });
}

export function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** At most 500 characters of a body, on one line, with secrets replaced. */
export function bodyExcerpt(body: Buffer, redact: readonly string[]): string {
  const secrets = redact.filter((secret) => secret.length >= 4);
  const marginBytes = Math.max(0, ...secrets.map((secret) => Buffer.byteLength(secret)));
  // Redact before cutting, over a window that holds whole any secret straddling the cut; then drop a tail that is
  // still the start of a secret (the window can end inside one after multi-byte text).
  let text = redactText(body.subarray(0, BODY_EXCERPT_CHARS * 4 + marginBytes).toString('utf8'), secrets);
  text = dropSecretPrefixAtEnd(text.slice(0, BODY_EXCERPT_CHARS * 4), secrets);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
}

function dropSecretPrefixAtEnd(text: string, secrets: readonly string[]): string {
  for (const secret of secrets) {
    for (let n = Math.min(secret.length - 1, text.length); n >= 4; n--) {
      if (text.endsWith(secret.slice(0, n))) return `${text.slice(0, -n)}[redacted]`;
    }
  }
  return text;
}

export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out;
}

async function readCapped(body: AsyncIterable<Buffer>, maxBytes: number, into: ReceiveBuffer | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    if (total + chunk.length > maxBytes) throw new Error(`Response body exceeded ${maxBytes} bytes.`);
    if (into) total = into.append(chunk, total);
    else {
      total += chunk.length;
      chunks.push(chunk);
    }
  }
  if (into) return into.view(total);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/**
 * True for network failures worth another attempt: resets, timeouts, refused connections. TLS failures (bad
 * certificate, wrong host name) are not transient and return false, as do our own bugs (TypeError and the like).
 */
export function isTransientNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_NETWORK_CODES.has(code)) return true;
  }
  return false;
}
