// One request helper over undici for both services: timeouts, a capped response body, HttpStatusError with a safe
// excerpt, and the classification of network errors. It never retries; src/retry.ts decides that.
import { Agent, type Dispatcher } from 'undici';

import {
  abortReason,
  DeadlineReachedError,
  ensureError,
  errorCode,
  HttpStatusError,
  type ServiceName,
} from './errors.js';
import { escapeControlCharacters, Redactor, redactSecrets } from './redact.js';

const BODY_EXCERPT_CHARS = 500;
const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
/** A busy ReceiveBuffer's overflow body at least this large is read into one buffer of its declared length. */
const OWN_BUFFER_MIN_BYTES = 1024 * 1024;

export interface HttpRequest {
  service: ServiceName;
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** Longest wait for the headers, and between two chunks of the body. */
  timeoutMs: number;
  /**
   * What is left of the run's time budget (ms): the whole exchange ends by then too, with DeadlineReachedError. A
   * server that drips its answer a byte at a time stays under the per-chunk timeout, never under this.
   */
  budgetMs?: number | undefined;
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
  release: () => void;
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

  /**
   * Makes room for a body of `bytes` before it arrives (from Content-Length), so a large body takes one allocation
   * instead of a chain of doublings: each one freed raises glibc's mmap threshold, and the heap then fragments around
   * later allocations (a scan page of 22 MB took nine, and resident memory kept tens of MB more).
   */
  reserve(bytes: number): void {
    if (bytes > this.#bytes.length) this.#bytes = Buffer.allocUnsafeSlow(bytes);
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
 *
 * Through undici's `dispatch`, not `request`: each body chunk is copied where it belongs in the same callback that
 * receives it. Node allocates a 64 KiB buffer for every socket read; queued in a Readable until an iterator takes
 * them, those buffers outlived young-generation collections, were promoted, and waited for a full collection to be
 * freed, which made the process's resident memory swing by tens of MB (BENCHMARKS.md, Memory).
 */
export function sendRequest(dispatcher: Dispatcher, request: HttpRequest): Promise<HttpResponse> {
  const maxBytes = request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const signal = request.signal ?? undefined;
  return new Promise<HttpResponse>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let headers: HttpResponse['headers'] = {};
    /** The ReceiveBuffer this 2xx body is gathered into, when it was free; else the chunks, gathered at the end. */
    let shared: ReceiveBuffer | undefined;
    const chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    let overall: NodeJS.Timeout | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(overall);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: Error): void => {
      if (!settle()) return;
      shared?.release();
      reject(error);
    };
    const abortWith = (reason: Error): void => {
      if (controller) controller.abort(reason);
      else fail(reason);
    };
    function onAbort(): void {
      abortWith(abortReason(signal));
    }
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    if (request.budgetMs !== undefined) {
      const overBudget = new DeadlineReachedError(`the time budget ran out during a request to ${request.service}`);
      if (request.budgetMs <= 0) {
        reject(overBudget);
        return;
      }
      overall = setTimeout(() => abortWith(overBudget), request.budgetMs);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
        if (statusCode >= 200 && statusCode < 300) shared = bodyBuffer(request, headers, maxBytes);
        request.onResponse?.();
      },
      onResponseData(current, chunk) {
        if (length + chunk.length > maxBytes) {
          current.abort(new Error(`Response body exceeded ${maxBytes} bytes.`));
          return;
        }
        if (shared) length = shared.append(chunk, length);
        else {
          chunks.push(chunk);
          length += chunk.length;
        }
      },
      onResponseEnd() {
        if (!settle()) return;
        const body = shared
          ? shared.view(length)
          : chunks.length === 1
            ? (chunks[0] as Buffer)
            : Buffer.concat(chunks, length);
        const held = shared;
        const result: HttpResponse = { status, headers, body, release: held ? () => held.release() : () => undefined };
        if (status >= 200 && status < 300) resolve(result);
        else reject(statusError(request, result));
      },
      onResponseError(_controller, error) {
        fail(ensureError(error));
      },
    };
    try {
      dispatcher.dispatch(
        {
          origin: request.url.origin,
          path: request.url.pathname + request.url.search,
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
          headersTimeout: request.timeoutMs,
          bodyTimeout: request.timeoutMs,
        },
        handler,
      );
    } catch (error) {
      fail(ensureError(error));
    }
  });
}

/**
 * Where a 2xx body is gathered, held for it: the request's ReceiveBuffer when it is free; when it is busy (the page
 * before is still being parsed), a buffer of its own for a large body of known length, rather than socket chunks
 * joined at the end, which hold the body twice at once. Undefined: gather the chunks.
 */
function bodyBuffer(
  request: HttpRequest,
  headers: HttpResponse['headers'],
  maxBytes: number,
): ReceiveBuffer | undefined {
  const declared = Number(headerValue(headers, 'content-length'));
  const sized = Number.isSafeInteger(declared) && declared > 0 && declared <= maxBytes;
  if (request.receiveBuffer?.hold()) {
    if (sized) request.receiveBuffer.reserve(declared);
    return request.receiveBuffer;
  }
  if (!sized || declared < OWN_BUFFER_MIN_BYTES) return undefined;
  const own = new ReceiveBuffer();
  own.reserve(declared);
  own.hold();
  return own;
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

/**
 * At most 500 characters of a body, on one line, with secrets replaced in every form a server can echo them in (raw,
 * base64, URL-encoded, or any long piece: see Redactor), and control characters written as escapes.
 */
export function bodyExcerpt(body: Buffer, redact: readonly string[]): string {
  const redactor = new Redactor(redact);
  // Redact before cutting, over a window that holds whole any secret straddling the cut (its encoded forms are at most
  // three times longer); a piece of one left at the cut is shorter than the pieces the redactor looks for.
  const marginBytes = 3 * Math.max(0, ...redact.map((secret) => Buffer.byteLength(secret)));
  let text = redactor.redact(body.subarray(0, BODY_EXCERPT_CHARS * 4 + marginBytes).toString('utf8'));
  text = escapeControlCharacters(
    text
      .slice(0, BODY_EXCERPT_CHARS * 4)
      .replace(/\s+/g, ' ')
      .trim(),
  );
  text = redactor.redact(text);
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}…` : text;
}

/** `text` with `secrets` replaced in every form a server can echo them in; see Redactor. */
export function redactText(text: string, secrets: readonly string[]): string {
  return redactSecrets(text, secrets);
}

const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
]);

/**
 * True for network failures worth another attempt: resets, timeouts, refused connections. TLS failures (bad
 * certificate, wrong host name) are not transient and return false, as do our own bugs (TypeError and the like).
 */
export function isTransientNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = errorCode(e);
    if (code !== undefined && TRANSIENT_NETWORK_CODES.has(code)) return true;
  }
  return false;
}
