// A loopback Log Analytics HTTP Data Collector API that verifies the SharedKey signature itself, from the service's
// side, and rejects what Azure rejects (codes from the "Return codes" table of Microsoft's data-collector-api article).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { systemClock, type Clock } from '../src/clock.js';
import {
  answerWithFault,
  type Fault,
  faultName,
  flattenHeaders,
  jsonReply,
  type LoopbackServer,
  readBody,
  send,
  sendReply,
  startLoopbackServer,
} from './httpServer.js';

/** A `Fault`, or `resetAfterAccept`: process the request normally (accepting it if valid), then drop the answer. */
export type DataCollectorFault = Fault | { kind: 'resetAfterAccept' };

export interface DataCollectorEmulatorOptions {
  workspaceId: string;
  sharedKeyBase64: string;
  /** Called for every request (0-based, in arrival order) once its body is read; a fault replaces the answer. */
  faults?: (
    requestIndex: number,
    info: { headers: Record<string, string>; body: Buffer },
  ) => DataCollectorFault | undefined;
  /** Default 30 MB, Azure's limit per post. */
  maxBodyBytes?: number;
  /** How far `x-ms-date` may be from the emulator's clock. Default 15 min. */
  clockSkewMs?: number;
  /** Default 500, Azure's limit per table. */
  maxColumns?: number;
  /**
   * Status for a body over `maxBodyBytes`. Default 413. Microsoft's table says 404 ("the URL is incorrect or the
   * request is too large", i.e. IIS 404.13); pass 404 to test that path.
   */
  oversizeStatus?: 404 | 413;
  clock?: Clock;
}

export interface RecordedDataCollectorRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  bodyBytes: number;
  /** Status answered; 0 while pending or when the connection was dropped. */
  status: number;
  /** Azure's error code (`InvalidAuthorization`, `InvalidDataFormat`, ...) when rejected. */
  errorCode?: string;
  fault?: string;
}

export interface AcceptedBatch {
  logType: string;
  timeGeneratedField: string | undefined;
  records: Record<string, unknown>[];
  /** Field values in this batch over 32 KB, which Azure would truncate. */
  truncatedValues: number;
}

export interface DataCollectorEmulator {
  /** Origin; the API is at `${url}/api/logs?api-version=2016-04-01`. */
  readonly url: string;
  readonly requests: RecordedDataCollectorRequest[];
  /** Accepted posts only, in order. */
  readonly batches: AcceptedBatch[];
  /** All accepted records, in order. */
  rows(): Record<string, unknown>[];
  /** Columns of the table so far (name with type suffix), as `toDataCollectorColumns` names them. */
  columns(): string[];
  /** Field values over 32 KB across all accepted batches. */
  readonly truncatedValues: number;
  /** Records whose time-generated-field was missing, not ISO 8601, or outside [now − 2 days, now + 1 day]. */
  readonly timeGeneratedFallbacks: number;
  close(): Promise<void>;
}

export const DATA_COLLECTOR_PATH = '/api/logs';
export const DATA_COLLECTOR_API_VERSION = '2016-04-01';
const DEFAULT_MAX_BODY_BYTES = 30 * 1024 * 1024;
const DEFAULT_CLOCK_SKEW_MS = 15 * 60_000;
const DEFAULT_MAX_COLUMNS = 500;
const MAX_FIELD_VALUE_BYTES = 32 * 1024;
const LOG_TYPE_PATTERN = /^[A-Za-z0-9_]{1,100}$/;
const RFC_1123_PATTERN =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const ISO_DATETIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RESERVED_PROPERTIES = ['tenant', 'TimeGenerated', 'RawData'];
const TIME_GENERATED_PAST_MS = 2 * 24 * 3600_000;
const TIME_GENERATED_FUTURE_MS = 24 * 3600_000;

interface FlatField {
  column: string;
  value: string | number | boolean;
}

/**
 * Flattens a record the way the Data Collector API stores it: nested objects become `Parent_Child`, arrays become
 * one JSON string, nulls make no column, and each column gets the suffix of its inferred type.
 */
function flatten(record: Record<string, unknown>): FlatField[] {
  const fields: FlatField[] = [];
  const visit = (name: string, value: unknown): void => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) fields.push({ column: `${name}_s`, value: JSON.stringify(value) });
    else if (typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) visit(`${name}_${key}`, child);
    } else if (typeof value === 'number') fields.push({ column: `${name}_d`, value });
    else if (typeof value === 'boolean') fields.push({ column: `${name}_b`, value });
    else if (typeof value === 'string') {
      const suffix = ISO_DATETIME_PATTERN.test(value) ? '_t' : GUID_PATTERN.test(value) ? '_g' : '_s';
      fields.push({ column: `${name}${suffix}`, value });
    }
    // Anything else (a function, a symbol) cannot travel in JSON, so it makes no column.
  };
  for (const [key, value] of Object.entries(record)) visit(key, value);
  return fields;
}

/**
 * The columns one record creates in a Data Collector table: `string_s`, `number_d`, `boolean_b`, ISO datetime
 * `_t`, GUID `_g`; nested objects flatten into `Parent_Child_s`, arrays into one `_s` column, nulls into none.
 */
export function toDataCollectorColumns(record: Record<string, unknown>): string[] {
  return [...new Set(flatten(record).map((field) => field.column))];
}

/** The signature Azure expects, over the body length in bytes as received. */
function expectedSignature(keyBase64: string, bodyBytes: number, date: string): Buffer {
  const stringToSign = `POST\n${bodyBytes}\napplication/json\nx-ms-date:${date}\n${DATA_COLLECTOR_PATH}`;
  return createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(stringToSign, 'utf8').digest();
}

function isResetAfterAccept(fault: DataCollectorFault): fault is { kind: 'resetAfterAccept' } {
  return 'kind' in fault && fault.kind === 'resetAfterAccept';
}

/** A refusal: `code` is Azure's error code, or '' for the statuses Azure answers with an empty body (404, 413). */
class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// "An invalid signature ..." is Azure's wording (MicrosoftDocs/azure-docs#75777, #114105). The other messages are
// ours, written after the descriptions in the documented table of return codes.
const invalidSignature = (): Rejection =>
  new Rejection(403, 'InvalidAuthorization', 'An invalid signature was specified in the Authorization header');
const invalidAuthorization = (message: string): Rejection => new Rejection(403, 'InvalidAuthorization', message);
const invalidData = (message: string): Rejection => new Rejection(400, 'InvalidDataFormat', message);

interface ReceivedPost {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
  tooLarge: boolean;
}

interface CheckContext {
  options: DataCollectorEmulatorOptions;
  nowMs: number;
  /** Columns the table has so far. */
  columns: ReadonlySet<string>;
}

/** Every check, in the order the service applies them. Throws a Rejection; else returns the batch and its new columns. */
function checkPost(post: ReceivedPost, context: CheckContext): { batch: AcceptedBatch; newColumns: Set<string> } {
  const { url, headers, body } = post;
  const { options } = context;
  if (url.pathname !== DATA_COLLECTOR_PATH || post.method !== 'POST') throw new Rejection(404, '', 'Not found');
  if (post.tooLarge) throw new Rejection(options.oversizeStatus ?? 413, '', 'Request too large');
  const apiVersion = url.searchParams.get('api-version');
  if (apiVersion === null) throw new Rejection(400, 'MissingApiVersion', 'The API version was not specified.');
  if (apiVersion !== DATA_COLLECTOR_API_VERSION) {
    throw new Rejection(400, 'InvalidApiVersion', `The API version ${apiVersion} is not recognized.`);
  }

  const contentType = headers['content-type'];
  if (contentType === undefined) throw new Rejection(400, 'MissingContentType', 'The content type was not specified.');
  if (contentType !== 'application/json') {
    // A charset suffix fails Azure's signature check (403), not its content-type check (MicrosoftDocs/azure-docs#114105;
    // the C# sample in the article warns about it too).
    if (contentType.split(';')[0]?.trim().toLowerCase() === 'application/json') throw invalidSignature();
    throw new Rejection(400, 'UnsupportedContentType', 'The content type must be application/json.');
  }

  const logType = headers['log-type'];
  if (!logType) throw new Rejection(400, 'MissingLogType', 'The log type was not specified.');
  if (!LOG_TYPE_PATTERN.test(logType)) {
    throw new Rejection(
      400,
      'InvalidLogType',
      'The log type may hold only letters, digits and _, up to 100 characters.',
    );
  }

  const match = /^SharedKey ([^:\s]+):(\S+)$/.exec(headers.authorization ?? '');
  if (!match) throw invalidAuthorization('An invalid scheme was specified in the Authorization header');
  const [, workspaceId, signature] = match as unknown as [string, string, string];
  if (workspaceId !== options.workspaceId) throw invalidAuthorization('The workspace id does not match this workspace');
  const date = headers['x-ms-date'] ?? '';
  const dateMs = RFC_1123_PATTERN.test(date) ? Date.parse(date) : Number.NaN;
  if (Number.isNaN(dateMs)) throw invalidAuthorization('The x-ms-date header is missing or not an RFC 1123 date');
  if (Math.abs(context.nowMs - dateMs) > (options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS)) {
    throw invalidAuthorization('The x-ms-date header is outside the allowed clock skew');
  }
  // The signed Content-Length is the byte length of the body received, never a character count.
  const expected = expectedSignature(options.sharedKeyBase64, body.length, date);
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidSignature();

  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidData('An invalid JSON was submitted.');
  }
  const items = Array.isArray(parsed) ? parsed : [parsed];
  if (!items.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))) {
    throw invalidData('The body must be a JSON object or an array of JSON objects.');
  }
  const records = items as Record<string, unknown>[];
  const reserved = new Set(records.flatMap((record) => RESERVED_PROPERTIES.filter((name) => name in record)));
  if (reserved.size > 0) throw invalidData(`Reserved property names used: ${[...reserved].join(', ')}`);

  const newColumns = new Set<string>();
  let truncatedValues = 0;
  for (const record of records) {
    for (const field of flatten(record)) {
      if (!context.columns.has(field.column)) newColumns.add(field.column);
      if (typeof field.value === 'string' && Buffer.byteLength(field.value) > MAX_FIELD_VALUE_BYTES)
        truncatedValues += 1;
    }
  }
  const maxColumns = options.maxColumns ?? DEFAULT_MAX_COLUMNS;
  const columnCount = context.columns.size + newColumns.size;
  if (columnCount > maxColumns) {
    throw invalidData(`The table would have ${columnCount} columns; the limit is ${maxColumns}.`);
  }
  const timeGeneratedField = headers['time-generated-field'] || undefined;
  return { batch: { logType, timeGeneratedField, records, truncatedValues }, newColumns };
}

/** Azure uses ingestion time instead when the time-generated-field is not ISO 8601 or too far from now. */
function isUsableTimeGenerated(value: unknown, nowMs: number): boolean {
  const ms = typeof value === 'string' && ISO_DATETIME_PATTERN.test(value) ? Date.parse(value) : Number.NaN;
  return !Number.isNaN(ms) && ms >= nowMs - TIME_GENERATED_PAST_MS && ms <= nowMs + TIME_GENERATED_FUTURE_MS;
}

const TRUNCATABLE_ERROR = jsonReply(500, {
  Error: 'UnspecifiedError',
  Message: 'The service encountered an internal error.',
});

/** Starts the emulator on 127.0.0.1 with an OS-chosen port. */
export async function startDataCollectorEmulator(
  options: DataCollectorEmulatorOptions,
): Promise<DataCollectorEmulator> {
  const clock = options.clock ?? systemClock;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requests: RecordedDataCollectorRequest[] = [];
  const batches: AcceptedBatch[] = [];
  const columns = new Set<string>();
  let truncatedValues = 0;
  let timeGeneratedFallbacks = 0;

  const accept = (batch: AcceptedBatch, newColumns: Set<string>): void => {
    batches.push(batch);
    for (const column of newColumns) columns.add(column);
    truncatedValues += batch.truncatedValues;
    const field = batch.timeGeneratedField;
    if (field === undefined) return;
    for (const record of batch.records) {
      if (!isUsableTimeGenerated(record[field], clock.nowMs())) timeGeneratedFallbacks += 1;
    }
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const requestIndex = requests.length;
    const url = new URL(req.url ?? '/', 'http://emulator');
    const headers = flattenHeaders(req.headers);
    const method = req.method ?? '';
    const query = Object.fromEntries(url.searchParams);
    const record: RecordedDataCollectorRequest = {
      method,
      path: url.pathname,
      query,
      headers,
      bodyBytes: 0,
      status: 0,
    };
    requests.push(record);
    const received = await readBody(req, maxBodyBytes);
    record.bodyBytes = received.totalBytes;

    const fault = options.faults?.(requestIndex, { headers, body: received.bytes });
    if (fault !== undefined && !isResetAfterAccept(fault)) {
      record.fault = faultName(fault);
      const status = await answerWithFault(server, res, fault, () => TRUNCATABLE_ERROR);
      if (status !== undefined) {
        record.status = status;
        return;
      }
      if (res.destroyed) return;
    }

    let rejection: Rejection | undefined;
    try {
      const post = { method, url, headers, body: received.bytes, tooLarge: received.tooLarge };
      const { batch, newColumns } = checkPost(post, { options, nowMs: clock.nowMs(), columns });
      accept(batch, newColumns);
    } catch (error) {
      if (!(error instanceof Rejection)) throw error;
      rejection = error;
    }
    if (fault !== undefined && isResetAfterAccept(fault)) {
      record.fault = fault.kind;
      res.socket?.resetAndDestroy();
      return;
    }
    record.status = rejection?.status ?? 200;
    if (!rejection || rejection.code === '') {
      send(res, record.status, '');
      return;
    }
    record.errorCode = rejection.code;
    sendReply(res, jsonReply(rejection.status, { Error: rejection.code, Message: rejection.message }));
  };

  const server: LoopbackServer = await startLoopbackServer(handle);
  return {
    url: server.url,
    requests,
    batches,
    rows: () => batches.flatMap((batch) => batch.records),
    columns: () => [...columns],
    get truncatedValues() {
      return truncatedValues;
    },
    get timeGeneratedFallbacks() {
      return timeGeneratedFallbacks;
    },
    close: () => server.close(),
  };
}
