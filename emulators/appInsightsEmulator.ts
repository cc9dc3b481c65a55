// A loopback Application Insights ingestion API (POST /v2.1/track, the "Breeze" protocol): records the envelopes it
// accepts, answers { itemsReceived, itemsAccepted, errors } as the service does, and can require an Entra bearer token.
import type http from 'node:http';
import { gunzipSync } from 'node:zlib';

import {
  answerWithFault,
  type Fault,
  faultName,
  flattenHeaders,
  jsonReply,
  type LoopbackServer,
  readBody,
  sendReply,
  startLoopbackServer,
} from './httpServer.js';

export const TRACK_PATH = '/v2.1/track';
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface AppInsightsEmulatorOptions {
  /** When set, an envelope with another iKey is refused (400 "Invalid instrumentation key"), as for a wrong component. */
  instrumentationKey?: string;
  /** When set, requests need `Authorization: Bearer <this>`: 401 without a bearer token, 403 with another one. */
  bearerToken?: string;
  /** Called for every track request (0-based) once its body is read; a fault replaces the answer. */
  faults?: (requestIndex: number, info: { headers: Record<string, string>; body: Buffer }) => Fault | undefined;
  /** Default 1 MB; larger bodies get 413. */
  maxBodyBytes?: number;
}

/** One envelope as received (a telemetry item). */
export interface TelemetryEnvelope {
  name: string;
  time: string;
  iKey: string;
  sampleRate?: number;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Record<string, unknown> };
  [key: string]: unknown;
}

export interface RecordedTrackRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Status answered; 0 when the connection was dropped. */
  status: number;
  itemsReceived: number;
  itemsAccepted: number;
  fault?: string;
}

export interface AppInsightsEmulator {
  /** Origin; use it as the connection string's IngestionEndpoint. */
  readonly url: string;
  readonly requests: RecordedTrackRequest[];
  /** Accepted envelopes, in order. */
  readonly envelopes: TelemetryEnvelope[];
  /** Accepted envelopes of one base type (`EventData`, `MetricData`, ...). */
  ofType(baseType: string): TelemetryEnvelope[];
  close(): Promise<void>;
}

interface ItemError {
  index: number;
  statusCode: number;
  message: string;
}

/** The service's answer for a body that is not a JSON array of envelopes. */
function unreadable(message: string) {
  return jsonReply(400, { itemsReceived: 0, itemsAccepted: 0, errors: [{ index: 0, statusCode: 400, message }] });
}

/** Problems with one envelope, worded after the service's "Field 'x' on type 'Envelope' is required" messages. */
function checkEnvelope(item: unknown, instrumentationKey: string | undefined): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'Telemetry item is not a JSON object.';
  const envelope = item as Record<string, unknown>;
  for (const field of ['iKey', 'name', 'time'] as const) {
    const value = envelope[field];
    if (typeof value !== 'string' || value === '')
      return `Field '${field}' on type 'Envelope' is required but missing or empty.`;
  }
  if (Number.isNaN(Date.parse(envelope['time'] as string)))
    return "Field 'time' on type 'Envelope' is not a valid date.";
  if (instrumentationKey !== undefined && envelope['iKey'] !== instrumentationKey) return 'Invalid instrumentation key';
  const data = envelope['data'];
  if (typeof data !== 'object' || data === null || typeof (data as Record<string, unknown>)['baseType'] !== 'string') {
    return "Field 'baseType' on type 'Data' is required but missing or empty.";
  }
  return undefined;
}

function decodeBody(headers: Record<string, string>, bytes: Buffer): string {
  return headers['content-encoding']?.toLowerCase() === 'gzip'
    ? gunzipSync(bytes).toString('utf8')
    : bytes.toString('utf8');
}

export async function startAppInsightsEmulator(options: AppInsightsEmulatorOptions = {}): Promise<AppInsightsEmulator> {
  const requests: RecordedTrackRequest[] = [];
  const envelopes: TelemetryEnvelope[] = [];
  let trackRequests = 0;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const headers = flattenHeaders(req.headers);
    const received = await readBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    const record: RecordedTrackRequest = {
      method: req.method ?? '',
      path,
      headers,
      status: 0,
      itemsReceived: 0,
      itemsAccepted: 0,
    };
    requests.push(record);
    if (path !== TRACK_PATH || req.method !== 'POST') {
      record.status = 404;
      sendReply(res, jsonReply(404, { error: 'Not found' }));
      return;
    }

    const fault = options.faults?.(trackRequests++, { headers, body: received.bytes });
    if (fault) {
      record.fault = faultName(fault);
      const status = await answerWithFault(server, res, fault, () =>
        jsonReply(200, { itemsReceived: 0, itemsAccepted: 0, errors: [] }),
      );
      if (status !== undefined) {
        record.status = status;
        return;
      }
    }

    if (options.bearerToken !== undefined) {
      const match = /^Bearer (\S+)$/.exec(headers['authorization'] ?? '');
      if (!match || match[1] !== options.bearerToken) {
        const status = match ? 403 : 401;
        record.status = status;
        const message = match
          ? 'The identity is not authorized to send telemetry to this resource.'
          : 'Authentication is required: local authentication is disabled for this resource.';
        sendReply(
          res,
          jsonReply(status, {
            itemsReceived: 0,
            itemsAccepted: 0,
            errors: [{ index: 0, statusCode: status, message }],
          }),
        );
        return;
      }
    }
    if (received.tooLarge) {
      record.status = 413;
      sendReply(res, jsonReply(413, { itemsReceived: 0, itemsAccepted: 0, errors: [] }));
      return;
    }

    let items: unknown;
    try {
      items = JSON.parse(decodeBody(headers, received.bytes));
    } catch {
      record.status = 400;
      sendReply(res, unreadable('Invalid JSON: the body must be a JSON array of telemetry items.'));
      return;
    }
    if (!Array.isArray(items)) {
      record.status = 400;
      sendReply(res, unreadable('The body must be a JSON array of telemetry items.'));
      return;
    }
    const errors: ItemError[] = [];
    items.forEach((item, index) => {
      const problem = checkEnvelope(item, options.instrumentationKey);
      if (problem) errors.push({ index, statusCode: 400, message: problem });
      else envelopes.push(item as TelemetryEnvelope);
    });
    const itemsAccepted = items.length - errors.length;
    const status = errors.length === 0 ? 200 : itemsAccepted > 0 ? 206 : 400;
    Object.assign(record, { status, itemsReceived: items.length, itemsAccepted });
    sendReply(res, jsonReply(status, { itemsReceived: items.length, itemsAccepted, errors }));
  };

  const server: LoopbackServer = await startLoopbackServer(handle);
  return {
    url: server.url,
    requests,
    envelopes,
    ofType: (baseType) => envelopes.filter((e) => e.data?.baseType === baseType),
    close: () => server.close(),
  };
}
