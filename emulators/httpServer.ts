// Shared plumbing for the loopback emulators: a server on 127.0.0.1 (port 0), capped body reads, JSON replies,
// scripted faults, and a close() that does not wait for keep-alive sockets. Not for production traffic.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** A running loopback server. `close()` destroys open sockets, so it never waits for an idle keep-alive client. */
export interface LoopbackServer {
  /** Origin, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /** Resolves after a wait; resolves at once when the server is closing, so no delayed answer outlives it. */
  wait(ms: number): Promise<void>;
  close(): Promise<void>;
}

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

/**
 * A scripted misbehaviour, chosen per request by an emulator's `faults` callback.
 * - `{ status, body?, headers? }`: answer this instead (an object body is sent as JSON, a string as text).
 * - `reset`: drop the connection with a TCP reset, without answering.
 * - `truncate`: promise the full answer in Content-Length, send half of it, then destroy the connection.
 * - `delayMs`: wait, then answer normally.
 * - `html`: a gateway's HTML error page, with status 502 (default) or 200.
 */
export type Fault =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'reset' }
  | { kind: 'truncate' }
  | { kind: 'delayMs'; ms: number }
  | { kind: 'html'; status?: 200 | 502 };

/**
 * Starts `handler` on 127.0.0.1 with an OS-chosen port, over HTTPS when `tls` is given (clients that send bearer tokens
 * refuse plain http). A handler that throws gets a 500 (or a destroyed socket).
 */
export async function startLoopbackServer(
  handler: RequestHandler,
  options: { tls?: { cert: string; key: string } } = {},
): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handler(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendReply(res, jsonReply(500, { error: `Emulator bug: ${String(error)}` }));
    });
  };
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    wait: (ms) =>
      new Promise<void>((resolve) => {
        if (closing.signal.aborted) {
          resolve();
          return;
        }
        const timer = setTimeout(resolve, ms);
        closing.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      }),
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

export interface ReceivedBody {
  /** The bytes received, or the first `maxBytes + 1` of them when the body was too large. */
  bytes: Buffer;
  /** How many bytes arrived in total. */
  totalBytes: number;
  tooLarge: boolean;
}

/**
 * Reads a request body, keeping at most `maxBytes + 1` bytes in memory. The rest is read and dropped rather than
 * left unread, so the client always gets the answer instead of a broken pipe.
 */
export async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<ReceivedBody> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let totalBytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    totalBytes += chunk.length;
    if (kept <= maxBytes) {
      const piece = chunk.subarray(0, maxBytes + 1 - kept);
      chunks.push(piece);
      kept += piece.length;
    }
  }
  return { bytes: Buffer.concat(chunks), totalBytes, tooLarge: totalBytes > maxBytes };
}

/** Header values as single strings (repeated headers joined with ", "), names in lower case. */
export function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

export function send(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** A short name for a fault, for request records. */
export function faultName(fault: Fault): string {
  return 'kind' in fault ? fault.kind : `status ${fault.status}`;
}

/** A complete answer, built before it is sent so that a `truncate` fault can cut it. */
export interface Reply {
  status: number;
  text: string;
  headers: Record<string, string>;
}

export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, text: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } };
}

export function sendReply(res: http.ServerResponse, reply: Reply): void {
  send(res, reply.status, reply.text, reply.headers);
}

/**
 * Answers with `fault`. `truncatable` builds the answer a `truncate` fault cuts in half. Returns the status sent
 * (0 when the connection was dropped), or `undefined` for `delayMs`, after which the caller answers normally.
 */
export async function answerWithFault(
  server: LoopbackServer,
  res: http.ServerResponse,
  fault: Fault,
  truncatable: () => Reply,
): Promise<number | undefined> {
  if (!('kind' in fault)) {
    const isText = typeof fault.body === 'string';
    const text = fault.body === undefined ? '' : isText ? (fault.body as string) : JSON.stringify(fault.body);
    const contentType = isText ? 'text/plain' : 'application/json';
    const headers = fault.body === undefined ? fault.headers : { 'content-type': contentType, ...fault.headers };
    send(res, fault.status, text, headers);
    return fault.status;
  }
  switch (fault.kind) {
    case 'delayMs':
      await server.wait(fault.ms);
      return undefined;
    case 'reset':
      res.socket?.resetAndDestroy();
      return 0;
    case 'truncate': {
      const reply = truncatable();
      const bytes = Buffer.from(reply.text);
      res.writeHead(reply.status, { ...reply.headers, 'content-length': String(bytes.length) });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
      return reply.status;
    }
    case 'html': {
      const status = fault.status ?? 502;
      send(res, status, GATEWAY_ERROR_PAGE, { 'content-type': 'text/html' });
      return status;
    }
  }
}

const GATEWAY_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><h1>502 Bad Gateway</h1><p>The server returned an invalid or incomplete response.</p></body></html>\n';
