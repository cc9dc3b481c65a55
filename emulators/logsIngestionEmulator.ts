// A loopback HTTPS stand-in for the Azure Monitor Logs Ingestion API as LogsIngestionClient calls it:
// POST /dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01, gzip JSON arrays, bearer tokens, 204.
// HTTPS because the SDK's bearer-token policy refuses to send a token over http. Not for production traffic.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';

import {
  answerWithFault,
  type Fault,
  faultName,
  jsonReply,
  readBody,
  send,
  sendReply,
  startLoopbackServer,
} from './httpServer.js';
import { loadTestTls } from './testTls.js';

/** "Maximum size of API call: 1 MB. Both compressed and uncompressed data." (Azure Monitor service limits). */
export const MAX_CALL_BYTES = 1024 * 1024;
const API_VERSION = '2023-01-01';
const PATH = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)\/?$/;

export interface LogsIngestionEmulatorOptions {
  /** The only bearer token accepted; anything else gets 401. */
  expectedToken: string;
  /** DCR immutable id -> the stream names it declares; others get 404. */
  rules: Readonly<Record<string, readonly string[]>>;
  /** Largest body accepted, compressed and uncompressed alike. Default 1 MiB. */
  maxCallBytes?: number;
  /** Called for every well-formed, authorised request (0-based, arrival order) with its rows; a fault replaces the 204. */
  faults?: (requestIndex: number, rows: readonly Record<string, unknown>[]) => Fault | undefined;
  /** TLS certificate and key; default the committed test-only certificate for 127.0.0.1. */
  tls?: { cert: string; key: string };
}

/** One request as the emulator saw it. */
export interface RecordedIngestionRequest {
  method: string;
  dcrId: string | undefined;
  stream: string | undefined;
  apiVersion: string | undefined;
  contentEncoding: string | undefined;
  contentType: string | undefined;
  /** Whether Authorization was `Bearer <expectedToken>`. */
  authorized: boolean;
  compressedBytes: number;
  /** Bytes after gunzip; 0 when the body could not be read. */
  uncompressedBytes: number;
  /** Rows in the body; 0 when it was not a JSON array. */
  rowCount: number;
  status: number;
  fault?: string;
}

export interface LogsIngestionEmulator {
  /** The endpoint to give LogsIngestionClient, https://127.0.0.1:<port>. */
  readonly endpoint: string;
  readonly requests: RecordedIngestionRequest[];
  /** Every accepted row, in the order the emulator accepted them. */
  readonly rows: Record<string, unknown>[];
  close(): Promise<void>;
}

function error(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return jsonReply(status, { error: { code, message } }, headers);
}

/** Starts the API on 127.0.0.1 with an ephemeral port. */
export async function startLogsIngestionEmulator(
  options: LogsIngestionEmulatorOptions,
): Promise<LogsIngestionEmulator> {
  const tls = options.tls ?? loadTestTls();
  const maxBytes = options.maxCallBytes ?? MAX_CALL_BYTES;
  const requests: RecordedIngestionRequest[] = [];
  const rows: Record<string, unknown>[] = [];
  let hookIndex = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const match = PATH.exec(url.pathname);
    const record: RecordedIngestionRequest = {
      method: req.method ?? '',
      dcrId: match?.[1] && decodeURIComponent(match[1]),
      stream: match?.[2] && decodeURIComponent(match[2]),
      apiVersion: url.searchParams.get('api-version') ?? undefined,
      contentEncoding: req.headers['content-encoding'],
      contentType: req.headers['content-type'],
      authorized: req.headers.authorization === `Bearer ${options.expectedToken}`,
      compressedBytes: 0,
      uncompressedBytes: 0,
      rowCount: 0,
      status: 0,
    };
    requests.push(record);
    const body = await readBody(req, maxBytes);
    record.compressedBytes = body.totalBytes;
    const answer = (reply: ReturnType<typeof jsonReply>): void => {
      record.status = reply.status;
      sendReply(res, reply);
    };

    if (req.method !== 'POST' || !match) {
      answer(error(404, 'NotFound', 'No such resource.'));
      return;
    }
    if (req.headers.authorization === undefined) {
      answer(error(401, 'InvalidToken', 'The request has no bearer token.'));
      return;
    }
    if (!record.authorized) {
      answer(error(401, 'InvalidToken', 'The bearer token is invalid or expired.'));
      return;
    }
    if (record.apiVersion !== API_VERSION) {
      answer(error(400, 'InvalidApiVersion', `Use api-version=${API_VERSION}.`));
      return;
    }
    const streams = options.rules[record.dcrId ?? ''];
    if (!streams) {
      answer(error(404, 'NotFound', `Data collection rule ${record.dcrId} was not found.`));
      return;
    }
    if (!streams.includes(record.stream ?? '')) {
      answer(
        error(404, 'InvalidStream', `Stream ${record.stream} is not declared in data collection rule ${record.dcrId}.`),
      );
      return;
    }
    if (body.tooLarge) {
      answer(error(413, 'ContentLengthLimitExceeded', `The request body is over ${maxBytes} bytes.`));
      return;
    }

    let text: Buffer;
    try {
      text = record.contentEncoding === 'gzip' ? gunzipSync(body.bytes, { maxOutputLength: maxBytes + 1 }) : body.bytes;
    } catch (e) {
      if (e instanceof RangeError) {
        answer(error(413, 'ContentLengthLimitExceeded', `The uncompressed body is over ${maxBytes} bytes.`));
        return;
      }
      answer(error(400, 'InvalidContentEncoding', 'The body is not valid gzip.'));
      return;
    }
    record.uncompressedBytes = text.length;
    if (text.length > maxBytes) {
      answer(error(413, 'ContentLengthLimitExceeded', `The uncompressed body is over ${maxBytes} bytes.`));
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.toString('utf8'));
    } catch {
      answer(error(400, 'InvalidPayload', 'The body is not valid JSON.'));
      return;
    }
    if (!Array.isArray(parsed) || !parsed.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
      answer(error(400, 'InvalidPayload', 'The body must be a JSON array of objects.'));
      return;
    }
    const received = parsed as Record<string, unknown>[];
    record.rowCount = received.length;

    const fault = options.faults?.(hookIndex++, received);
    if (fault) {
      record.fault = faultName(fault);
      const status = await answerWithFault(server, res, fault, () =>
        error(500, 'InternalServerError', 'Emulated failure.'),
      );
      if (status !== undefined) {
        record.status = status;
        return;
      }
    }
    rows.push(...received);
    record.status = 204;
    send(res, 204, '');
  };

  const server = await startLoopbackServer(handle, { tls });
  return { endpoint: server.url, requests, rows, close: () => server.close() };
}
