// A loopback Defender for Cloud Apps (MCAS) API: POST /api/v1/activities/ and POST /api/v1/alerts/ with filters,
// sorting, skip/limit, scan mode (activities), auth, throttling and scripted faults. It serves fixed lists; it is not
// a database.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import { systemClock, type Clock } from '../src/clock.js';
import type { RawActivity } from './activityGenerator.js';
import type { RawAlert } from './alertGenerator.js';
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
  /** The tenant's alerts, in any order, served at POST /api/v1/alerts/. Default none. */
  alerts?: readonly RawAlert[];
  /** Accepted as `Authorization: Token <token>`. */
  token: string;
  /** When set, `Authorization: Bearer <bearerToken>` is accepted too (an Entra token). */
  bearerToken?: string;
  /** Over the limit (a sliding window of answered requests): 429 with a "throttled" body. */
  rateLimit?: { requests: number; perMs: number; retryAfter?: 'seconds' | 'date' | 'none' };
  /**
   * Called for every request to either API (0-based, in arrival order) before anything else; a fault replaces the
   * answer. The rate limit counts both APIs together too, as the tenant-wide limit does.
   */
  faults?: (requestIndex: number, body: unknown) => Fault | undefined;
  /** Largest `limit` outside scan mode, for activities and alerts. Default 100. */
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
  /** Origin, e.g. `http://127.0.0.1:54321`; the APIs are at `${url}/api/v1/activities/` and `…/api/v1/alerts/`. */
  readonly url: string;
  readonly requests: RecordedMcasRequest[];
  /** Adds records saved late (their `created` is usually later than everything served so far). */
  addActivities(list: readonly RawActivity[]): void;
  /** Adds alerts raised later. */
  addAlerts(list: readonly RawAlert[]): void;
  close(): Promise<void>;
}

export const ACTIVITIES_PATH = '/api/v1/activities/';
export const ALERTS_PATH = '/api/v1/alerts/';
/** The filter field carrying the scan-mode continuation in `nextQueryFilters`. Opaque to clients. */
export const SCAN_CURSOR_FIELD = '_scanAfter';
const MAX_SKIP_PLUS_LIMIT = 5000;
const MAX_SCAN_LIMIT = 5000;
const MAX_REQUEST_BYTES = 1024 * 1024;

interface Entry {
  /** The activity or alert, served as given. */
  record: Record<string, unknown>;
  /** `created` (activities). */
  created: number;
  /** `timestamp`: when the activity happened or the alert was raised. */
  date: number;
  /** `severityValue` (alerts). */
  severity: number;
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

type SortField = 'created' | 'date' | 'severity';
type Direction = 'asc' | 'desc';
type Predicate = (entry: Entry) => boolean;

/** What differs between the list APIs. */
interface Resource {
  path: string;
  /** Accepted `sortField` values. */
  sortFields: readonly SortField[];
  fields: Record<string, FieldSpec>;
  /** Whether `isScan: true` is accepted (documented for activities only). */
  scan: boolean;
  /** Envelope fields besides data, hasNext and total. */
  extraEnvelope: (limit: number) => Record<string, unknown>;
}

/** The records of one resource, and their sorted views (rebuilt after an addition). */
class RecordStore {
  readonly #entries: Entry[] = [];
  readonly #sorted = new Map<string, Entry[]>();

  add(list: readonly Record<string, unknown>[]): void {
    for (const record of list) this.#entries.push(toEntry(record, this.#entries.length));
    this.#sorted.clear();
  }

  sortedBy(field: SortField, direction: Direction): Entry[] {
    const key = `${field}:${direction}`;
    let list = this.#sorted.get(key);
    if (!list) {
      list = [...this.#entries].sort((a, b) => compareEntries(a, b, field, direction));
      this.#sorted.set(key, list);
    }
    return list;
  }
}

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
  const stores = new Map<Resource, RecordStore>(RESOURCES.map((resource) => [resource, new RecordStore()]));
  const storeOf = (resource: Resource): RecordStore => stores.get(resource) as RecordStore;
  const requests: RecordedMcasRequest[] = [];
  const answeredAtMs: number[] = [];

  const addActivities = (list: readonly RawActivity[]): void => storeOf(ACTIVITIES).add(list);
  const addAlerts = (list: readonly RawAlert[]): void => storeOf(ALERTS).add(list);
  addActivities(options.activities);
  addAlerts(options.alerts ?? []);

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
    const resource = RESOURCES.find((candidate) => candidate.path === request.path);
    if (!resource) {
      // Like a Django app in production: an unknown path (including one without the trailing slash) is a 404.
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
      return jsonReply(200, listRecords(resource, request.body));
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      return jsonReply(400, error.body());
    }
  };

  // O(log N + skip + page) per request for the usual filters (a `created` or `date` range on the sort field): the range
  // and a scan cursor are found by binary search in the sorted list; other filters are tested only on the way through.
  const listRecords = (resource: Resource, body: unknown): Record<string, unknown> => {
    const request = parseListRequest(body, resource, maxPageSize, minScanLimit);
    const matches = compileFilters(request.filters, request.isScan, request.sortField, resource.fields, clock.nowMs());
    const ordered = storeOf(resource).sortedBy(request.sortField, request.direction);
    const { from: rangeFrom, to: rangeTo } = boundedRange(
      ordered,
      request.sortField,
      request.direction,
      matches.bounds,
    );
    const rest = matches.rest;
    let start = rangeFrom;
    if (matches.cursor) {
      const cursor = matches.cursor;
      if (cursor.sortField !== request.sortField || cursor.direction !== request.direction) {
        throw new BadRequest('filters', 'FILTER_VALUE_NOT_VALID', `${SCAN_CURSOR_FIELD} belongs to a different sort`);
      }
      start = firstIndex(ordered, rangeFrom, rangeTo, (entry) => compareToCursor(entry, cursor) > 0);
    }
    const page: Entry[] = [];
    let hasNext = false;
    let toSkip = request.skip;
    if (!rest) {
      start += toSkip;
      toSkip = 0;
    }
    for (let index = start; index < rangeTo; index++) {
      const entry = ordered[index] as Entry;
      if (rest && !rest(entry)) continue;
      if (toSkip > 0) toSkip--;
      else if (page.length < request.limit) page.push(entry);
      else {
        hasNext = true;
        break;
      }
    }
    const total = rest ? countMatches(ordered, rangeFrom, rangeTo, rest) : Math.max(0, rangeTo - rangeFrom);
    const response: Record<string, unknown> = {
      data: page.map((entry) => entry.record),
      hasNext,
      total,
      ...resource.extraEnvelope(request.limit),
    };
    if (request.isScan) {
      const last = page[page.length - 1];
      const filters = { ...request.filters };
      if (last) filters[SCAN_CURSOR_FIELD] = { eq: encodeCursor(last, request.sortField, request.direction) };
      response.nextQueryFilters = filters;
    }
    return response;
  };

  const server: LoopbackServer = await startLoopbackServer(handle);
  return { url: server.url, requests, addActivities, addAlerts, close: () => server.close() };
}

const NOT_FOUND_PAGE =
  '<!doctype html>\n<html lang="en"><head><title>Not Found</title></head>\n' +
  '<body><h1>Not Found</h1><p>The requested resource was not found on this server.</p></body></html>\n';

function toMs(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return Number.NaN;
}

function toEntry(record: Record<string, unknown>, seq: number): Entry {
  const id = typeof record._id === 'string' ? record._id : JSON.stringify(record._id ?? seq);
  return {
    record,
    created: toMs(record.created),
    date: toMs(record.timestamp),
    severity: typeof record.severityValue === 'number' ? record.severityValue : Number.NaN,
    tieKey: createHash('sha1').update(id).digest('hex'),
    seq,
  };
}

/**
 * Records without a usable sort value sort first (ascending), like nulls in the real store; filters on the field
 * skip them.
 */
function sortValue(entry: Entry, field: SortField): number {
  const value = entry[field];
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

/** A cursor as the client sends it back: JSON writes -Infinity (the sort value of a record without one) as null. */
type SentCursor = Omit<ScanCursor, 'value'> & { value: number | null };

function decodeCursor(token: unknown): ScanCursor {
  try {
    const cursor = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as SentCursor;
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
  const { value, tieKey, seq } = cursor;
  const pseudo: Entry = { record: {}, created: value, date: value, severity: value, tieKey, seq };
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

/** A value from the request as an error message names it: a string as it is, anything else as JSON. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function parseListRequest(body: unknown, resource: Resource, maxPageSize: number, minScanLimit: number): ListRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('body', 'BODY_NOT_VALID', 'The request body must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const filters = input.filters ?? {};
  if (typeof filters !== 'object' || Array.isArray(filters)) {
    throw new BadRequest('filters', 'FILTERS_NOT_VALID', 'filters must be an object');
  }
  // Undocumented default; date is the one sort field both APIs have. Clients should always send both.
  const sortField = input.sortField ?? 'date';
  if (!resource.sortFields.includes(sortField as SortField)) {
    throw new BadRequest('sortField', 'SORT_FIELD_NOT_VALID', `${shown(sortField)} is not a valid sort field`);
  }
  const direction = input.sortDirection ?? 'desc';
  if (direction !== 'asc' && direction !== 'desc') {
    throw new BadRequest(
      'sortDirection',
      'SORT_DIRECTION_NOT_VALID',
      `${shown(direction)} is not a valid sort direction`,
    );
  }
  const isScan = input.isScan ?? false;
  if (typeof isScan !== 'boolean') throw new BadRequest('isScan', 'IS_SCAN_NOT_VALID', 'isScan must be a boolean');
  if (isScan && !resource.scan) throw new BadRequest('isScan', 'IS_SCAN_NOT_VALID', 'isScan is not supported here');
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
    throw new BadRequest(
      'limit',
      'LIMIT_NOT_VALID',
      `limit must be at most ${maxPageSize}; use isScan for larger pages`,
    );
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
    sortField: sortField as SortField,
    direction,
    skip: skip as number,
    limit: limit as number,
    isScan,
  };
}

/** Builds the test of one filter condition; `nowMs` serves the relative (`*_ndays`) operators. */
type OperatorBuilder = (field: string, value: unknown, get: (entry: Entry) => unknown, nowMs: number) => Predicate;

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

const compare =
  (test: (actual: number, bound: number) => boolean): OperatorBuilder =>
  (field, value, get) => {
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

const listOperator =
  (type: 'number' | 'string', negate: boolean): OperatorBuilder =>
  (field, value, get) => {
    const wanted = asList(field, negate ? 'neq' : 'eq', value, type);
    return (entry) => wanted.includes(get(entry)) !== negate;
  };

function path(entry: Entry, ...keys: string[]): unknown {
  let value: unknown = entry.record;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

interface FieldSpec {
  get: (entry: Entry) => unknown;
  operators: Record<string, OperatorBuilder>;
}

const ACTIVITY_FIELDS: Record<string, FieldSpec> = {
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
  'user.username': {
    get: (entry) => path(entry, 'user', 'userName'),
    operators: { eq: listOperator('string', false) },
  },
  'ip.address': { get: (entry) => path(entry, 'device', 'clientIP'), operators: { eq: listOperator('string', false) } },
};

const DAY_MS = 86_400_000;

/** "Later than N days ago" / "earlier than N days ago" (api-introduction, Operators). */
const ndays =
  (later: boolean): OperatorBuilder =>
  (field, value, get, nowMs) => {
    const days = asNumber(field, later ? 'gte_ndays' : 'lte_ndays', value);
    const boundMs = nowMs - days * DAY_MS;
    return (entry) => (later ? (get(entry) as number) >= boundMs : (get(entry) as number) <= boundMs);
  };

const integerCodes = { eq: listOperator('number', false), neq: listOperator('number', true) };

/** The alert filters a connector needs, from the api-alerts Filters table. */
const ALERT_FIELDS: Record<string, FieldSpec> = {
  // Documented: lte, gte, range, lte_ndays, gte_ndays; gt, lt and eq are accepted as for activities.
  date: {
    get: (entry) => entry.date,
    operators: { ...TIME_OPERATORS, gte_ndays: ndays(true), lte_ndays: ndays(false) },
  },
  // Documented values 0 LOW, 1 MEDIUM, 2 HIGH (the properties table adds 3 INFORMATIONAL).
  severity: { get: (entry) => entry.severity, operators: integerCodes },
  // 0 OPEN, 1 DISMISSED, 2 RESOLVED, 3 FALSE_POSITIVE, 4 BENIGN, 5 TRUE_POSITIVE.
  resolutionStatus: { get: (entry) => path(entry, 'resolutionStatusValue'), operators: integerCodes },
};

const ACTIVITIES: Resource = {
  path: ACTIVITIES_PATH,
  sortFields: ['created', 'date'],
  fields: ACTIVITY_FIELDS,
  scan: true,
  extraEnvelope: () => ({}),
};

const ALERTS: Resource = {
  path: ALERTS_PATH,
  // api-alerts-list: "date" (when the alert was created) or "severity".
  sortFields: ['date', 'severity'],
  fields: ALERT_FIELDS,
  scan: false,
  // As in the api-alerts-list example; Get-MCASAlert reads `max` as the most records one call returns.
  extraEnvelope: (limit) => ({ max: limit, moreThanTotal: false }),
};

const RESOURCES: readonly Resource[] = [ACTIVITIES, ALERTS];

/** Bounds on the sort value from `gte`/`gt`/`lte`/`lt` filters on the sort field; they also exclude records without one. */
interface SortBounds {
  lower: number;
  lowerInclusive: boolean;
  upper: number;
  upperInclusive: boolean;
}

const RANGE_OPERATORS = new Set(['gte', 'gt', 'lte', 'lt']);

function tighten(bounds: SortBounds, operator: string, value: number): void {
  if (operator === 'gte' || operator === 'gt') {
    const inclusive = operator === 'gte';
    if (value > bounds.lower || (value === bounds.lower && !inclusive)) {
      bounds.lower = value;
      bounds.lowerInclusive = inclusive;
    }
  } else if (value < bounds.upper || (value === bounds.upper && operator === 'lt')) {
    bounds.upper = value;
    bounds.upperInclusive = operator === 'lte';
  }
}

/**
 * The filters as `bounds` (range operators on the sort field, for binary search) and `rest` (every other condition,
 * undefined when there is none). The scan continuation is returned apart.
 */
function compileFilters(
  filters: Record<string, Record<string, unknown>>,
  isScan: boolean,
  sortField: SortField,
  fields: Record<string, FieldSpec>,
  nowMs: number,
): { rest: Predicate | undefined; bounds: SortBounds | undefined; cursor: ScanCursor | undefined } {
  const predicates: Predicate[] = [];
  let bounds: SortBounds | undefined;
  let cursor: ScanCursor | undefined;
  for (const [field, condition] of Object.entries(filters)) {
    if (field === SCAN_CURSOR_FIELD && isScan) {
      cursor = decodeCursor(condition.eq);
      continue;
    }
    const spec = fields[field];
    if (!spec) throw new BadRequest('filters', 'FILTER_FIELD_NOT_VALID', `${field} is not valid`);
    for (const [operator, value] of Object.entries(condition)) {
      const build = spec.operators[operator];
      if (!build) {
        throw new BadRequest(
          'filters',
          'FILTER_OPERATOR_NOT_VALID',
          `${operator} is not a valid operator for ${field}`,
        );
      }
      const predicate = build(field, value, spec.get, nowMs);
      if (field === sortField && RANGE_OPERATORS.has(operator)) {
        // A record without a time sorts as -Infinity and fails every comparison, so the default lower bound excludes it.
        bounds ??= {
          lower: Number.NEGATIVE_INFINITY,
          lowerInclusive: false,
          upper: Number.POSITIVE_INFINITY,
          upperInclusive: true,
        };
        tighten(bounds, operator, value as number);
      } else {
        predicates.push(predicate);
      }
    }
  }
  const rest: Predicate | undefined =
    predicates.length === 0 ? undefined : (entry) => predicates.every((predicate) => predicate(entry));
  return { rest, bounds, cursor };
}

/** The smallest index in [from, to) whose entry satisfies `isPast` (false then true along the list), else `to`. */
function firstIndex(list: readonly Entry[], from: number, to: number, isPast: (entry: Entry) => boolean): number {
  let low = from;
  let high = to;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isPast(list[middle] as Entry)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** The index range of `list` (sorted by `field` in `direction`) whose sort values lie within `bounds`. */
function boundedRange(
  list: readonly Entry[],
  field: SortField,
  direction: Direction,
  bounds: SortBounds | undefined,
): { from: number; to: number } {
  if (!bounds) return { from: 0, to: list.length };
  const aboveLower = (entry: Entry): boolean => {
    const value = sortValue(entry, field);
    return value > bounds.lower || (bounds.lowerInclusive && value === bounds.lower);
  };
  const belowUpper = (entry: Entry): boolean => {
    const value = sortValue(entry, field);
    return value < bounds.upper || (bounds.upperInclusive && value === bounds.upper);
  };
  const [enters, stays] = direction === 'asc' ? [aboveLower, belowUpper] : [belowUpper, aboveLower];
  const from = firstIndex(list, 0, list.length, enters);
  return { from, to: firstIndex(list, from, list.length, (entry) => !stays(entry)) };
}

function countMatches(list: readonly Entry[], from: number, to: number, predicate: Predicate): number {
  let count = 0;
  for (let index = from; index < to; index++) if (predicate(list[index] as Entry)) count++;
  return count;
}
