// A loopback Defender for Cloud Apps (MCAS) activities API: POST /api/v1/activities/ with filters, sorting,
// skip/limit, scan mode, auth, throttling and scripted faults. It serves a fixed list; it is not a database.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { systemClock, type Clock } from '../src/clock.js';
import type { RawActivity } from './activityGenerator.js';
import {
  answerWithFault,
  type Fault,
  faultName,
  flattenHeaders,
  jsonReply,
  type LoopbackServer,
  readBody,
  type Reply,
  sendReply,
  startLoopbackServer,
} from './httpServer.js';

export interface McasEmulatorOptions {
  /** The tenant's activities, in any order. */
  activities: readonly RawActivity[];
  /** Accepted as `Authorization: Token <token>`. */
  token: string;
  /** When set, `Authorization: Bearer <bearerToken>` is accepted too (an Entra token). */
  bearerToken?: string;
  /** Over the limit (a sliding window of answered requests): 429 with a "throttled" body. */
  rateLimit?: { requests: number; perMs: number; retryAfter?: 'seconds' | 'date' | 'none' };
  /** Called for every request (0-based, in arrival order) before anything else; a fault replaces the answer. */
  faults?: (requestIndex: number, body: unknown) => Fault | undefined;
  /** Largest `limit` outside scan mode. Default 100. */
  maxPageSize?: number;
  /** Smallest `limit` in scan mode. Default 500, as documented; lower it to get many scan pages from few records. */
  minScanLimit?: number;
  clock?: Clock;
}

export interface RecordedMcasRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The parsed JSON body; `undefined` when it was empty or not JSON. */
  body: unknown;
  /** Status answered; 0 while pending or when the connection was dropped. */
  status: number;
  fault?: string;
}

export interface McasEmulator {
  /** Origin, e.g. `http://127.0.0.1:54321`; the API is at `${url}/api/v1/activities/`. */
  readonly url: string;
  readonly requests: RecordedMcasRequest[];
  /** Adds records saved late (their `created` is usually later than everything served so far). */
  addActivities(list: readonly RawActivity[]): void;
  close(): Promise<void>;
}

export const ACTIVITIES_PATH = '/api/v1/activities/';
/** The filter field carrying the scan-mode continuation in `nextQueryFilters`. Opaque to clients. */
export const SCAN_CURSOR_FIELD = '_scanAfter';
const MAX_SKIP_PLUS_LIMIT = 5000;
const MAX_SCAN_LIMIT = 5000;
const MAX_REQUEST_BYTES = 1024 * 1024;

interface Entry {
  activity: RawActivity;
  created: number;
  date: number;
  /** Orders records that share a sort value: stable across requests, unrelated to insertion order. */
  tieKey: string;
  seq: number;
}

interface ReceivedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
  parseError: string | undefined;
  tooLarge: boolean;
}

type SortField = 'created' | 'date';
type Direction = 'asc' | 'desc';
type Predicate = (entry: Entry) => boolean;

class BadRequest extends Error {
  constructor(
    readonly key: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  body(): unknown {
    return { [this.key]: [{ error: this.message, errorMessageCode: this.code }], error: true };
  }
}

/** Starts the emulator on 127.0.0.1 with an OS-chosen port. */
export async function startMcasEmulator(options: McasEmulatorOptions): Promise<McasEmulator> {
  const clock = options.clock ?? systemClock;
  const maxPageSize = options.maxPageSize ?? 100;
  const minScanLimit = options.minScanLimit ?? 500;
  const entries: Entry[] = [];
  const sorted = new Map<string, Entry[]>();
  const requests: RecordedMcasRequest[] = [];
  const answeredAtMs: number[] = [];

  const addActivities = (list: readonly RawActivity[]): void => {
    for (const activity of list) entries.push(toEntry(activity, entries.length));
    sorted.clear();
  };
  addActivities(options.activities);

  const sortedBy = (field: SortField, direction: Direction): Entry[] => {
    const key = `${field}:${direction}`;
    let list = sorted.get(key);
    if (!list) {
      list = [...entries].sort((a, b) => compareEntries(a, b, field, direction));
      sorted.set(key, list);
    }
    return list;
  };

  const throttleDelayMs = (): number | undefined => {
    const limit = options.rateLimit;
    if (!limit) return undefined;
    const now = clock.nowMs();
    while (answeredAtMs.length > 0 && (answeredAtMs[0] as number) <= now - limit.perMs) answeredAtMs.shift();
    if (answeredAtMs.length < limit.requests) {
      answeredAtMs.push(now);
      return undefined;
    }
    return (answeredAtMs[0] as number) + limit.perMs - now;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const requestIndex = requests.length;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const headers = flattenHeaders(req.headers);
    const record: RecordedMcasRequest = { method: req.method ?? '', path, headers, body: undefined, status: 0 };
    requests.push(record);
    const received = await readBody(req, MAX_REQUEST_BYTES);
    const text = received.bytes.toString('utf8');
    let body: unknown = {};
    let parseError: string | undefined;
    if (text.trim() !== '') {
      try {
        body = JSON.parse(text);
        record.body = body;
      } catch (error) {
        parseError = (error as Error).message;
      }
    }
    const request: ReceivedRequest = {
      method: record.method,
      path,
      authorization: headers.authorization,
      body,
      parseError,
      tooLarge: received.tooLarge,
    };

    const fault = options.faults?.(requestIndex, record.body);
    if (fault) {
      record.fault = faultName(fault);
      const status = await answerWithFault(server, res, fault, () => reply(request));
      if (status !== undefined) {
        record.status = status;
        return;
      }
      if (res.destroyed) return;
    }
    const answer = reply(request);
    record.status = answer.status;
    sendReply(res, answer);
  };

  /** The answer to a request that no fault replaced, checked in the order a Django REST app would. */
  const reply = (request: ReceivedRequest): Reply => {
    if (request.path !== ACTIVITIES_PATH) {
      // Like a Django app in production: an unknown path (including the one without the trailing slash) is a 404.
      return { status: 404, text: NOT_FOUND_PAGE, headers: { 'content-type': 'text/html' } };
    }
    if (request.method !== 'POST') {
      return jsonReply(405, { detail: `Method "${request.method}" not allowed.` }, { allow: 'POST' });
    }
    const auth = request.authorization;
    if (!auth) return jsonReply(401, { detail: 'Authentication credentials were not provided.' });
    const isBearer = options.bearerToken !== undefined && auth === `Bearer ${options.bearerToken}`;
    if (auth !== `Token ${options.token}` && !isBearer) return jsonReply(401, { detail: 'Invalid token.' });
    const waitMs = throttleDelayMs();
    if (waitMs !== undefined) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      const mode = options.rateLimit?.retryAfter ?? 'seconds';
      const headers: Record<string, string> = {};
      if (mode === 'seconds') headers['retry-after'] = String(seconds);
      if (mode === 'date') headers['retry-after'] = new Date(clock.nowMs() + seconds * 1000).toUTCString();
      // Django REST framework's wording; Microsoft's PowerShell module matches on "throttled".
      return jsonReply(429, { detail: `Request was throttled. Expected available in ${seconds} seconds.` }, headers);
    }
    if (request.tooLarge) return jsonReply(413, { detail: 'Request body too large.' });
    if (request.parseError !== undefined) return jsonReply(400, { detail: `JSON parse error - ${request.parseError}` });
    try {
      return jsonReply(200, listActivities(request.body));
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      return jsonReply(400, error.body());
    }
  };

  const listActivities = (body: unknown): Record<string, unknown> => {
    const request = parseListRequest(body, maxPageSize, minScanLimit);
    const matches = compileFilters(request.filters, request.isScan);
    const ordered = sortedBy(request.sortField, request.direction).filter(matches.withoutCursor);
    let start = 0;
    if (matches.cursor) {
      const cursor = matches.cursor;
      if (cursor.sortField !== request.sortField || cursor.direction !== request.direction) {
        throw new BadRequest('filters', 'FILTER_VALUE_NOT_VALID', `${SCAN_CURSOR_FIELD} belongs to a different sort`);
      }
      start = ordered.findIndex((entry) => compareToCursor(entry, cursor) > 0);
      if (start < 0) start = ordered.length;
    }
    const from = start + request.skip;
    const page = ordered.slice(from, from + request.limit);
    const hasNext = from + page.length < ordered.length;
    const response: Record<string, unknown> = { data: page.map((entry) => entry.activity), hasNext, total: ordered.length };
    if (request.isScan) {
      const last = page[page.length - 1];
      const filters = { ...request.filters };
      if (last) filters[SCAN_CURSOR_FIELD] = { eq: encodeCursor(last, request.sortField, request.direction) };
      response.nextQueryFilters = filters;
    }
    return response;
  };

  const server: LoopbackServer = await startLoopbackServer(handle);
  return { url: server.url, requests, addActivities, close: () => server.close() };
}

const NOT_FOUND_PAGE =
  '<!doctype html>\n<html lang="en"><head><title>Not Found</title></head>\n' +
  '<body><h1>Not Found</h1><p>The requested resource was not found on this server.</p></body></html>\n';

function toMs(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return Number.NaN;
}

function toEntry(activity: RawActivity, seq: number): Entry {
  const id = typeof activity._id === 'string' ? activity._id : JSON.stringify(activity._id ?? seq);
  return {
    activity,
    created: toMs(activity.created),
    date: toMs(activity.timestamp),
    tieKey: createHash('sha1').update(id).digest('hex'),
    seq,
  };
}

/** Records without a usable time sort first (ascending), like nulls in the real store; filters on time skip them. */
function sortValue(entry: Entry, field: SortField): number {
  const value = field === 'created' ? entry.created : entry.date;
  return Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value;
}

function compareEntries(a: Entry, b: Entry, field: SortField, direction: Direction): number {
  const sign = direction === 'asc' ? 1 : -1;
  const valueA = sortValue(a, field);
  const valueB = sortValue(b, field);
  if (valueA !== valueB) return sign * (valueA < valueB ? -1 : 1);
  if (a.tieKey !== b.tieKey) return sign * (a.tieKey < b.tieKey ? -1 : 1);
  return sign * (a.seq - b.seq);
}

interface ScanCursor {
  sortField: SortField;
  direction: Direction;
  value: number;
  tieKey: string;
  seq: number;
}

function encodeCursor(entry: Entry, sortField: SortField, direction: Direction): string {
  const value = sortValue(entry, sortField);
  const cursor: ScanCursor = { sortField, direction, value, tieKey: entry.tieKey, seq: entry.seq };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(token: unknown): ScanCursor {
  try {
    const cursor = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as ScanCursor;
    if (typeof cursor.tieKey === 'string' && typeof cursor.seq === 'number') {
      return { ...cursor, value: cursor.value ?? Number.NEGATIVE_INFINITY };
    }
  } catch {
    // Falls through to the 400 below.
  }
  throw new BadRequest('filters', 'FILTER_VALUE_NOT_VALID', `${SCAN_CURSOR_FIELD} is not valid`);
}

/** Positive when `entry` comes after the cursor in the cursor's sort order. */
function compareToCursor(entry: Entry, cursor: ScanCursor): number {
  const pseudo: Entry = { activity: {}, created: cursor.value, date: cursor.value, tieKey: cursor.tieKey, seq: cursor.seq };
  return compareEntries(entry, pseudo, cursor.sortField, cursor.direction);
}

interface ListRequest {
  filters: Record<string, Record<string, unknown>>;
  sortField: SortField;
  direction: Direction;
  skip: number;
  limit: number;
  isScan: boolean;
}

function parseListRequest(body: unknown, maxPageSize: number, minScanLimit: number): ListRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('body', 'BODY_NOT_VALID', 'The request body must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const filters = input.filters ?? {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters)) {
    throw new BadRequest('filters', 'FILTERS_NOT_VALID', 'filters must be an object');
  }
  const sortField = input.sortField ?? 'date';
  if (sortField !== 'created' && sortField !== 'date') {
    throw new BadRequest('sortField', 'SORT_FIELD_NOT_VALID', `${String(sortField)} is not a valid sort field`);
  }
  const direction = input.sortDirection ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc') {
    throw new BadRequest('sortDirection', 'SORT_DIRECTION_NOT_VALID', `${String(direction)} is not a valid sort direction`);
  }
  const isScan = input.isScan ?? false;
  if (typeof isScan !== 'boolean') throw new BadRequest('isScan', 'IS_SCAN_NOT_VALID', 'isScan must be a boolean');
  const skip = input.skip ?? 0;
  if (!Number.isSafeInteger(skip) || (skip as number) < 0) {
    throw new BadRequest('skip', 'SKIP_NOT_VALID', 'skip must be a non-negative integer');
  }
  const limit = input.limit ?? 100;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1) {
    throw new BadRequest('limit', 'LIMIT_NOT_VALID', 'limit must be a positive integer');
  }
  if (isScan && ((limit as number) < minScanLimit || (limit as number) > MAX_SCAN_LIMIT)) {
    const message = `limit must be between ${minScanLimit} and ${MAX_SCAN_LIMIT} in scan mode`;
    throw new BadRequest('limit', 'LIMIT_NOT_VALID', message);
  }
  if (!isScan && (limit as number) > maxPageSize) {
    throw new BadRequest('limit', 'LIMIT_NOT_VALID', `limit must be at most ${maxPageSize}; use isScan for larger pages`);
  }
  if (!isScan && (skip as number) + (limit as number) > MAX_SKIP_PLUS_LIMIT) {
    throw new BadRequest('skip', 'SKIP_NOT_VALID', `skip + limit must be at most ${MAX_SKIP_PLUS_LIMIT}`);
  }
  for (const [field, condition] of Object.entries(filters)) {
    if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) {
      throw new BadRequest('filters', 'FILTER_NOT_VALID', `${field} must be an object of operators`);
    }
  }
  return {
    filters: filters as Record<string, Record<string, unknown>>,
    sortField,
    direction,
    skip: skip as number,
    limit: limit as number,
    isScan,
  };
}

type OperatorBuilder = (field: string, value: unknown, get: (entry: Entry) => unknown) => Predicate;

const invalidValue = (field: string, operator: string): BadRequest =>
  new BadRequest('filters', 'FILTER_VALUE_NOT_VALID', `${field}.${operator} value is not valid`);

function asNumber(field: string, operator: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidValue(field, operator);
  return value;
}

function asList(field: string, operator: string, value: unknown, type: 'number' | 'string'): unknown[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.some((item) => typeof item !== type)) throw invalidValue(field, operator);
  return list;
}

const compare = (test: (actual: number, bound: number) => boolean): OperatorBuilder => (field, value, get) => {
  const bound = asNumber(field, 'compare', value);
  return (entry) => test(get(entry) as number, bound);
};

const TIME_OPERATORS: Record<string, OperatorBuilder> = {
  gte: compare((actual, bound) => actual >= bound),
  gt: compare((actual, bound) => actual > bound),
  lte: compare((actual, bound) => actual <= bound),
  lt: compare((actual, bound) => actual < bound),
  eq: (field, value, get) => {
    const wanted = asList(field, 'eq', value, 'number');
    return (entry) => wanted.includes(get(entry));
  },
  // Documented as "list of objects containing start and end fields"; a single object is accepted too.
  range: (field, value, get) => {
    const ranges = Array.isArray(value) ? value : [value];
    const bounds = ranges.map((range) => {
      if (typeof range !== 'object' || range === null) throw invalidValue(field, 'range');
      const { start, end } = range as { start?: unknown; end?: unknown };
      return { start: asNumber(field, 'range', start), end: asNumber(field, 'range', end) };
    });
    if (bounds.length === 0) throw invalidValue(field, 'range');
    return (entry) => bounds.some(({ start, end }) => (get(entry) as number) >= start && (get(entry) as number) <= end);
  },
};

const listOperator = (type: 'number' | 'string', negate: boolean): OperatorBuilder => (field, value, get) => {
  const wanted = asList(field, negate ? 'neq' : 'eq', value, type);
  return (entry) => wanted.includes(get(entry)) !== negate;
};

function path(entry: Entry, ...keys: string[]): unknown {
  let value: unknown = entry.activity;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const FIELDS: Record<string, { get: (entry: Entry) => unknown; operators: Record<string, OperatorBuilder> }> = {
  created: { get: (entry) => entry.created, operators: TIME_OPERATORS },
  date: { get: (entry) => entry.date, operators: TIME_OPERATORS },
  service: {
    get: (entry) => path(entry, 'appId'),
    operators: { eq: listOperator('number', false), neq: listOperator('number', true) },
  },
  'activity.eventType': {
    get: (entry) => path(entry, 'eventTypeName'),
    operators: { eq: listOperator('string', false), neq: listOperator('string', true) },
  },
  'activity.id': { get: (entry) => path(entry, '_id'), operators: { eq: listOperator('string', false) } },
  'user.username': { get: (entry) => path(entry, 'user', 'userName'), operators: { eq: listOperator('string', false) } },
  'ip.address': { get: (entry) => path(entry, 'device', 'clientIP'), operators: { eq: listOperator('string', false) } },
};

function compileFilters(
  filters: Record<string, Record<string, unknown>>,
  isScan: boolean,
): { withoutCursor: Predicate; cursor: ScanCursor | undefined } {
  const predicates: Predicate[] = [];
  let cursor: ScanCursor | undefined;
  for (const [field, condition] of Object.entries(filters)) {
    if (field === SCAN_CURSOR_FIELD && isScan) {
      cursor = decodeCursor(condition.eq);
      continue;
    }
    const spec = FIELDS[field];
    if (!spec) throw new BadRequest('filters', 'FILTER_FIELD_NOT_VALID', `${field} is not valid`);
    for (const [operator, value] of Object.entries(condition)) {
      const build = spec.operators[operator];
      if (!build) {
        throw new BadRequest('filters', 'FILTER_OPERATOR_NOT_VALID', `${operator} is not a valid operator for ${field}`);
      }
      predicates.push(build(field, value, spec.get));
    }
  }
  return { withoutCursor: (entry) => predicates.every((predicate) => predicate(entry)), cursor };
}
