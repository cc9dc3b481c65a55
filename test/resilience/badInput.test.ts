// The bad-input corpus: malformed MCAS page envelopes, bad records inside good pages, bad settings and bad secrets.
// Every case ends in a clear error or a flagged row, posts nothing wrong, and never moves the checkpoint past a loss.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

import type { TokenCredential } from '@azure/identity';
import { errors as undiciErrors } from 'undici';

import { generateActivities, type RawActivity } from '../../emulators/activityGenerator.js';
import type { Fault } from '../../emulators/httpServer.js';
import { type KeyVaultEmulator, startKeyVaultEmulator } from '../../emulators/keyVaultEmulator.js';
import { startLocalStack } from '../../emulators/localStack.js';
import { loadTestTls } from '../../emulators/testTls.js';
import type { Checkpoint } from '../../src/checkpoint/CheckpointStore.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/MemoryCheckpointStore.js';
import { readConfig, type SecretSource } from '../../src/config.js';
import { ConfigError, HttpStatusError, ResponseShapeError, SecretError } from '../../src/errors.js';
import { RecordingLogger } from '../../src/logger.js';
import { LogRecordSchema } from '../../src/mapping/LogRecord.js';
import { MAX_FIELD_BYTES } from '../../src/mapping/truncate.js';
import { MCAS_RETRY } from '../../src/retry.js';
import type { PagingOptions, RunSummary } from '../../src/run.js';
import { loadSecrets } from '../../src/secrets.js';
import { isCovered, receivedIds, runAgainst } from '../helpers/pipeline.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/bad-input/', import.meta.url));
const HOUR = 3_600_000;
/** The smallest MAX_BATCH_BYTES the settings accept: every record must fit a post even then. */
const SMALLEST_BATCH_BYTES = 1024 * 1024;
const ONE_MB = 1024 * 1024;

type ErrorClass = abstract new (...args: never[]) => Error;
type Row = Record<string, unknown>;

function fixture(...path: string[]): string {
  return readFileSync(join(FIXTURES, ...path), 'utf8');
}

function idsOf(activities: readonly RawActivity[]): string[] {
  return activities.map((a) => a['_id'] as string);
}

/** Good activities with one `created` ms each, saved within the last hour. */
function goodActivities(seed: number): RawActivity[] {
  return generateActivities({ count: 10, startCreatedMs: Date.now() - HOUR, seed, tiesEvery: 0, spanMs: 20 * 60_000 });
}

/** The checkpoint never moved backwards and never covered a good activity that was not received. */
function assertCheckpointsCoverOnlyDelivered(
  history: readonly Checkpoint[],
  good: readonly RawActivity[],
  received: ReadonlySet<unknown>,
): void {
  const cursors = history.map((c) => c.cursor);
  assert.deepEqual(
    cursors,
    [...cursors].sort((a, b) => a - b),
    'the checkpoint moved backwards',
  );
  for (const checkpoint of history) {
    for (const activity of good) {
      if (isCovered(checkpoint, activity)) {
        assert.ok(
          received.has(activity['_id']),
          `checkpoint ${checkpoint.cursor} passed ${String(activity['_id'])}, which never arrived`,
        );
      }
    }
  }
}

/** A row has the strict output shape and no value over the per-field limit. */
function assertRowWithinLimits(row: Row): void {
  const parsed = LogRecordSchema.safeParse(row);
  assert.ok(
    parsed.success,
    `row ${String(row['ActivityId']).slice(0, 40)} breaks the row schema: ${parsed.error?.message ?? ''}`,
  );
  for (const [column, value] of Object.entries(row)) {
    if (typeof value === 'string') {
      assert.ok(Buffer.byteLength(value) <= MAX_FIELD_BYTES, `${column} is ${Buffer.byteLength(value)} bytes`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Malformed envelopes: the first page is good, the second page request gets the scripted answer.

interface EnvelopeCase {
  name: string;
  /** The answer to the second page request; `data` is the JSON text of the five records that page should hold. */
  answer: (data: string) => Fault;
  expect:
    | { error: ErrorClass; message: RegExp; code?: string; requests: number }
    | { accepted: true }
    /** Either a ResponseShapeError naming hasNext, or a run that reports more to do: never "the window is done". */
    | { heldBack: true };
}

const RETRIED = 1 + MCAS_RETRY.maxAttempts;
const text = (status: number, body: string): Fault => ({ status, body });
const notJson = (start: RegExp = /not JSON/): EnvelopeCase['expect'] => ({
  error: ResponseShapeError,
  message: start,
  requests: 2,
});
const badShape = (field: string): EnvelopeCase['expect'] => ({
  error: ResponseShapeError,
  message: new RegExp(`envelope did not match the expected shape: .*${field}`),
  requests: 2,
});
const accepted: EnvelopeCase['expect'] = { accepted: true };

const ENVELOPE_CASES: readonly EnvelopeCase[] = [
  {
    name: 'an Azure Front Door outage page with 200',
    answer: () => text(200, fixture('envelopes', 'front-door-503.html')),
    expect: notJson(/not JSON \(it starts "<!DOCTYPE html>/),
  },
  {
    name: 'a sign-in page with 200 (a proxy took the request)',
    answer: () => text(200, fixture('envelopes', 'sso-sign-in-200.html')),
    expect: notJson(/not JSON .*a proxy or an outage page/),
  },
  { name: "a gateway's HTML error page with 200", answer: () => ({ kind: 'html', status: 200 }), expect: notJson() },
  {
    name: "a gateway's HTML error page with 502 on every attempt",
    answer: () => ({ kind: 'html', status: 502 }),
    expect: {
      error: HttpStatusError,
      message: /MCAS answered 502 to POST http:\/\/127\.0\.0\.1:\d+\/api\/v1\/activities\/\..*502 Bad Gateway/,
      requests: RETRIED,
    },
  },
  {
    name: 'an Azure Front Door outage page with 503 on every attempt',
    answer: () => text(503, fixture('envelopes', 'front-door-503.html')),
    expect: { error: HttpStatusError, message: /MCAS answered 503 .*services aren't available/, requests: RETRIED },
  },
  {
    name: 'a 500 with a JSON error body on every attempt',
    answer: () => ({ status: 500, body: { error: true, detail: 'Internal server error' } }),
    expect: { error: HttpStatusError, message: /MCAS answered 500 .*Internal server error/, requests: RETRIED },
  },
  {
    name: 'a 504 with an empty body on every attempt',
    answer: () => ({ status: 504 }),
    expect: { error: HttpStatusError, message: /MCAS answered 504/, requests: RETRIED },
  },
  {
    name: '429 "throttled" with Retry-After on every attempt',
    answer: () => ({
      status: 429,
      body: { detail: 'Request was throttled. Expected available in 60 seconds.' },
      headers: { 'retry-after': '60' },
    }),
    expect: { error: HttpStatusError, message: /MCAS answered 429 .*throttled/, requests: RETRIED },
  },
  {
    name: 'a 404 HTML page (a wrong portal URL), not retried',
    answer: () => text(404, '<html><body><h1>Not Found</h1></body></html>'),
    expect: { error: HttpStatusError, message: /MCAS answered 404 .*MCAS_PORTAL_URL/, requests: 2 },
  },
  {
    name: "MCAS's 400 error body about a filter, not retried",
    answer: () => ({
      status: 400,
      body: { filters: [{ error: 'service is not valid', errorMessageCode: 'FILTER_NOT_VALID' }], error: true },
    }),
    expect: {
      error: HttpStatusError,
      message: /MCAS answered 400 .*MCAS_ACTIVITY_FILTERS.*service is not valid/,
      requests: 2,
    },
  },
  {
    name: 'the connection closed half-way through the body, on every attempt',
    answer: () => ({ kind: 'truncate' }),
    expect: {
      error: undiciErrors.SocketError,
      code: 'UND_ERR_SOCKET',
      message: /other side closed/,
      requests: RETRIED,
    },
  },
  {
    name: 'a connection reset, on every attempt',
    answer: () => ({ kind: 'reset' }),
    expect: { error: Error, code: 'ECONNRESET', message: /ECONNRESET/, requests: RETRIED },
  },
  {
    name: 'JSON cut off in the middle of a record',
    answer: (data) => text(200, `{"data":${data.slice(0, Math.floor(data.length / 2))}`),
    expect: notJson(/not JSON \(it starts "\{"data":\[\{"_id"/),
  },
  { name: 'an empty body with 200', answer: () => text(200, ''), expect: notJson(/not JSON \(it starts ""\)/) },
  { name: 'white space only with 200', answer: () => text(200, ' \r\n\t '), expect: notJson() },
  {
    name: 'a byte order mark before the JSON',
    answer: (data) => text(200, `\ufeff{"data":${data},"hasNext":false}`),
    expect: notJson(),
  },
  {
    name: 'two JSON documents back to back',
    answer: (data) => text(200, `{"data":${data},"hasNext":false}{"data":[],"hasNext":false}`),
    expect: notJson(),
  },
  { name: 'JSON null', answer: () => text(200, 'null'), expect: badShape('\\(root\\)') },
  {
    name: 'a JSON array of the records instead of an object',
    answer: (data) => text(200, data),
    expect: badShape('\\(root\\)'),
  },
  { name: 'a JSON string', answer: () => text(200, '"OK"'), expect: badShape('\\(root\\)') },
  { name: 'a JSON number', answer: () => text(200, '5'), expect: badShape('\\(root\\)') },
  { name: 'an empty object', answer: () => text(200, '{}'), expect: badShape('data: .*hasNext: ') },
  {
    name: "MCAS's error body with 200",
    answer: () => text(200, '{"error":true,"filters":[{"error":"created is not valid"}]}'),
    expect: badShape('data: '),
  },
  { name: '`data` missing', answer: () => text(200, '{"hasNext":false,"total":5}'), expect: badShape('data: ') },
  {
    name: '`data` null',
    answer: () => text(200, '{"data":null,"hasNext":false,"total":5}'),
    expect: badShape('data: '),
  },
  {
    name: '`data` an object instead of an array',
    answer: (data) => text(200, `{"data":{"records":${data}},"hasNext":false}`),
    expect: badShape('data: '),
  },
  {
    name: '`data` the records as a JSON string',
    answer: (data) => ({ status: 200, body: { data, hasNext: false } }),
    expect: badShape('data: '),
  },
  {
    name: '`hasNext` missing',
    answer: (data) => text(200, `{"data":${data},"total":5}`),
    expect: badShape('hasNext: '),
  },
  {
    name: '`hasNext` the string "false"',
    answer: (data) => text(200, `{"data":${data},"hasNext":"false"}`),
    expect: badShape('hasNext: '),
  },
  {
    name: '`hasNext` null',
    answer: (data) => text(200, `{"data":${data},"hasNext":null}`),
    expect: badShape('hasNext: '),
  },
  { name: '`hasNext` 0', answer: (data) => text(200, `{"data":${data},"hasNext":0}`), expect: badShape('hasNext: ') },
  {
    name: '`nextQueryFilters` a string',
    answer: (data) => text(200, `{"data":${data},"hasNext":false,"nextQueryFilters":"abc"}`),
    expect: badShape('nextQueryFilters: '),
  },
  {
    name: '`hasNext` true on an empty page (the rest of the window must not count as read)',
    answer: () => ({ status: 200, body: { data: [], hasNext: true, total: 10 } }),
    expect: { heldBack: true },
  },
  {
    name: '`total` too large for a double (1e999)',
    answer: (data) => text(200, `{"data":${data},"hasNext":false,"total":1e999}`),
    expect: accepted,
  },
  {
    name: '`total` a 30-digit integer',
    answer: (data) => text(200, `{"data":${data},"hasNext":false,"total":123456789012345678901234567890}`),
    expect: accepted,
  },
  {
    name: '`total` a string',
    answer: (data) => text(200, `{"data":${data},"hasNext":false,"total":"about 10"}`),
    expect: accepted,
  },
  {
    name: '`total` negative',
    answer: (data) => text(200, `{"data":${data},"hasNext":false,"total":-1}`),
    expect: accepted,
  },
  {
    name: 'unknown fields beside `data`',
    answer: (data) => text(200, `{"took":12,"data":${data},"_links":{"next":null},"hasNext":false}`),
    expect: accepted,
  },
];

const PAGING_MODES: readonly PagingOptions[] = [{ mode: 'keyset' }, { mode: 'scan', pageSize: 5, windowMs: 0 }];

for (const paging of PAGING_MODES) {
  describe(`malformed MCAS page envelopes, ${paging.mode} paging`, () => {
    for (const c of ENVELOPE_CASES) {
      const expected = c.expect;
      const outcome =
        'accepted' in expected
          ? 'is tolerated'
          : 'heldBack' in expected
            ? 'holds the checkpoint back'
            : `ends the run with ${expected.error.name}`;
      it(`${outcome}: ${c.name}`, async (t) => {
        const activities = goodActivities(41);
        const firstPage = activities.slice(0, 5);
        const secondPage = JSON.stringify(activities.slice(5));
        const stack = await startLocalStack({
          activities,
          mcas: { minScanLimit: 5, faults: (i) => (i === 0 ? undefined : c.answer(secondPage)) },
        });
        t.after(() => stack.close());
        const checkpoints = new MemoryCheckpointStore('activities');
        const run = runAgainst(stack, checkpoints, { pageSize: 5, paging, maxBatchBytes: SMALLEST_BATCH_BYTES });

        if ('accepted' in expected) {
          assert.equal((await run).sent, 10);
          assert.deepEqual(receivedIds(stack), idsOf(activities));
          const last = checkpoints.history.at(-1);
          assert.equal(last?.cursor, (last?.windowEnd ?? Number.NaN) + 1, 'the window was read to its end');
        } else {
          if ('heldBack' in expected) {
            const result = await run.then(
              (summary) => summary,
              (error: unknown) => error,
            );
            if (result instanceof Error) {
              assert.ok(result instanceof ResponseShapeError, `expected ResponseShapeError, got ${inspect(result)}`);
              assert.match(result.message, /hasNext/);
            } else {
              assert.equal((result as RunSummary).moreToDo, true, 'the run says the window is not done');
            }
          } else {
            await assert.rejects(run, (error: unknown) => {
              assert.ok(error instanceof expected.error, `expected ${expected.error.name}, got ${inspect(error)}`);
              assert.match(error.message, expected.message);
              if (expected.code !== undefined) assert.equal((error as { code?: unknown }).code, expected.code);
              return true;
            });
            assert.equal(stack.mcas.requests.length, expected.requests, 'MCAS requests, retries included');
          }
          // Nothing at all from the malformed page. Keyset paging delivers the good first page before failing.
          const received = receivedIds(stack);
          assert.ok(
            received.every((id) => idsOf(firstPage).includes(id)),
            `rows beyond the first page: ${received.join(', ')}`,
          );
          if (paging.mode === 'keyset') assert.deepEqual(received, idsOf(firstPage));
        }
        assert.ok(
          stack.logAnalytics.requests.every((r) => r.status === 200),
          'no post was refused',
        );
        assertCheckpointsCoverOnlyDelivered(checkpoints.history, activities, new Set(receivedIds(stack)));
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Bad records inside an otherwise good page: [good, BAD, good, good] with hasNext, then the rest of the window.

interface RecordExpectation {
  flagged: boolean;
  /** Flagged rows: what ValidationIssues must say. */
  issues?: RegExp;
  /** Normal rows: the ActivityId the row must carry (omitted when it is cut). */
  id?: string;
  check?: (row: Row) => void;
  /** Not a row at all: the page breaks what paging relies on, and the run fails with this message. */
  refused?: RegExp;
}

interface RecordCase {
  name: string;
  /** JSON text of the record as it sits in `data`; built lazily (some are megabytes). */
  text: () => string;
  expect: RecordExpectation;
}

const flagged = (issues: RegExp, check?: (row: Row) => void): RecordExpectation => ({
  flagged: true,
  issues,
  ...(check ? { check } : {}),
});
const normal = (id: string | undefined, check?: (row: Row) => void): RecordExpectation => ({
  flagged: false,
  ...(id !== undefined ? { id } : {}),
  ...(check ? { check } : {}),
});
const fromFile = (file: string, name: string, expect: RecordExpectation): RecordCase => ({
  name,
  text: () => fixture('records', file).trim(),
  expect,
});
const inline = (name: string, record: () => unknown, expect: RecordExpectation): RecordCase => ({
  name,
  text: () => JSON.stringify(record()),
  expect,
});
/** When the record fixtures were saved: 2026-01-01T00:00:00Z. */
const FIXTURE_CREATED_MS = 1767225600000;
const CORE_JSON = '"created":1767225600000,"timestamp":1767225540000';

const CORE = { created: 1767225600000, timestamp: 1767225540000 };
const noActivityId = (row: Row): void => assert.equal(row['ActivityId'], undefined);
/** The column was cut (and says so), but kept at least `minBytes`: cut to the limit, not emptied. */
const cut =
  (column: string, minBytes = MAX_FIELD_BYTES / 2) =>
  (row: Row): void => {
    assert.match(
      String(row['TruncatedFields']),
      new RegExp(`(^|,)${column}(,|$)`),
      `${column} is named in TruncatedFields`,
    );
    assert.ok(
      Buffer.byteLength(String(row[column])) >= minBytes,
      `${column} was cut to ${Buffer.byteLength(String(row[column]))} bytes`,
    );
  };
const absent =
  (...columns: string[]) =>
  (row: Row): void => {
    for (const column of columns) assert.equal(row[column], undefined, `${column} is left out`);
  };
const equals =
  (column: string, value: unknown) =>
  (row: Row): void =>
    assert.equal(row[column], value);
const all =
  (...checks: ((row: Row) => void)[]) =>
  (row: Row): void =>
    checks.forEach((check) => check(row));
const rawRecord =
  (json: string) =>
  (row: Row): void =>
    assert.equal(row['RawRecordJson'], json);

/** `{"a":{"a":…"leaf"…}}` as text: JSON.stringify itself overflows the stack on the deepest ones. */
function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`;
}
function manyKeys(count: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`field_${i}`, `value ${i}`]));
}
const CONTROL_TEXT = '\u0001'.repeat(40_000);

const RECORD_CASES: readonly RecordCase[] = [
  fromFile('id-missing.json', 'no _id', flagged(/(^|; )_id: /, noActivityId)),
  fromFile('id-empty.json', '_id empty', flagged(/(^|; )_id: /, noActivityId)),
  fromFile('id-number.json', '_id a number', flagged(/(^|; )_id: .*string/, noActivityId)),
  fromFile('id-null.json', '_id null', flagged(/(^|; )_id: /, noActivityId)),
  fromFile(
    'id-mongo-extended-json.json',
    '_id as Mongo extended JSON ({"$oid": …})',
    flagged(/(^|; )_id: /, noActivityId),
  ),
  fromFile('id-duplicate-key.json', '_id given twice, the second a number', flagged(/(^|; )_id: /, noActivityId)),
  fromFile(
    'created-numeric-string.json',
    'created as a string of digits',
    flagged(/(^|; )created: /, equals('CreatedTime', '2026-01-01T00:00:00.000Z')),
  ),
  fromFile(
    'created-word.json',
    'created as a word',
    flagged(/(^|; )created: /, all(equals('ActivityId', 'bad-created-word'), absent('CreatedTime'))),
  ),
  fromFile(
    'created-iso-string.json',
    'created as an ISO 8601 string',
    flagged(/(^|; )created: /, absent('CreatedTime')),
  ),
  fromFile('created-negative.json', 'created negative', flagged(/(^|; )created: /, absent('CreatedTime'))),
  fromFile('created-float.json', 'created a fraction', flagged(/(^|; )created: /, absent('CreatedTime'))),
  fromFile(
    'created-missing.json',
    'created missing',
    flagged(/(^|; )created: /, equals('ActivityId', 'bad-created-missing')),
  ),
  fromFile('created-null.json', 'created null', flagged(/(^|; )created: /)),
  fromFile('created-over-max.json', 'created past year 9999 (and past 2^53)', flagged(/(^|; )created: /)),
  fromFile('created-year-2100.json', 'created in the year 2100, past the window asked for', {
    flagged: false,
    refused: /outside the requested window on page 1: record 2 \(_id bad-created-year-2100\) has created 2100-01-01/,
  }),
  fromFile(
    'timestamp-missing.json',
    'timestamp missing',
    flagged(/(^|; )timestamp: /, all(absent('ActivityTime'), equals('CreatedTime', '2026-01-01T00:00:00.000Z'))),
  ),
  fromFile(
    'timestamp-string.json',
    'timestamp as an HTTP date string',
    flagged(/(^|; )timestamp: /, absent('ActivityTime')),
  ),
  fromFile('timestamp-huge.json', 'timestamp 1e20', flagged(/(^|; )timestamp: /, absent('ActivityTime'))),
  fromFile(
    'timestamp-seconds-float.json',
    'timestamp in seconds with a fraction',
    flagged(/(^|; )timestamp: /, absent('ActivityTime')),
  ),
  fromFile('user-array.json', 'user: [] and failedUserData: [[]]', normal('odd-user-array', absent('UserName'))),
  fromFile(
    'location-array.json',
    'location: [] and resolvedActor: []',
    normal('odd-location-array', absent('LocationJson', 'CountryCode', 'City', 'ActorName')),
  ),
  fromFile(
    'main-info-number.json',
    'mainInfo: 5',
    normal('odd-main-info-number', absent('EventObjectsJson', 'ObjectName', 'ResultMessage')),
  ),
  fromFile('raw-data-json-text.json', 'rawDataJson: "text"', normal('odd-raw-data-json-text', absent('RawDataJson'))),
  fromFile(
    'nested-wrong-types.json',
    'objects, arrays and scalars swapped in nested parts',
    normal('odd-nested-wrong-types', absent('EventObjectsJson', 'IpAddress', 'UserAgentJson')),
  ),
  fromFile(
    'scalars-where-strings.json',
    'a boolean, an object and an array where strings belong',
    normal('odd-scalars', absent('AppName', 'Description', 'Severity', 'EventType')),
  ),
  fromFile(
    'lone-surrogates.json',
    'lone surrogates in _id, description, user name and a rawDataJson key',
    normal(
      'lone-\ud800-surrogate',
      all(equals('Description', '\udc00 low first, then high \ud83d'), equals('UserName', 'zo\udfff@contoso.com')),
    ),
  ),
  fromFile(
    'control-characters.json',
    'NUL, ESC, DEL and line separators in strings',
    normal(
      'odd-control-characters',
      equals('Description', 'nul \u0000 bell \u0007 esc \u001b del \u007f ls \u2028 ps \u2029'),
    ),
  ),
  fromFile('proto-keys.json', '__proto__ and constructor keys', normal('odd-proto-keys')),
  fromFile(
    'proto-only.json',
    'the core fields only under __proto__',
    flagged(/(^|; )_id: .*created: .*timestamp: /, noActivityId),
  ),
  fromFile(
    'object-method-keys.json',
    'toString, valueOf, hasOwnProperty, toJSON and then as data keys',
    normal('odd-method-keys'),
  ),
  fromFile(
    'record-string.json',
    'a record that is a string',
    flagged(/^\(root\): /, rawRecord('"EVENT_CATEGORY_LOGIN by alice@contoso.com"')),
  ),
  fromFile('record-number.json', 'a record that is a number', flagged(/^\(root\): /, rawRecord('1767225600000'))),
  fromFile('record-null.json', 'a record that is null', flagged(/^\(root\): /, rawRecord('null'))),
  fromFile('record-boolean.json', 'a record that is true', flagged(/^\(root\): /, rawRecord('true'))),
  fromFile('record-array.json', 'a record that is an array of records', flagged(/^\(root\): /, noActivityId)),
  fromFile('record-empty-object.json', 'an empty object', flagged(/_id: .*created: .*timestamp: /, rawRecord('{}'))),
  inline(
    'a 1 MB description',
    () => ({ _id: 'big-description', ...CORE, description: 'x'.repeat(ONE_MB) }),
    normal('big-description', cut('Description')),
  ),
  inline(
    'a 1 MB rawDataJson of Japanese text and emoji',
    () => ({ _id: 'big-raw-data', ...CORE, rawDataJson: { Title: '日本語のファイル📄'.repeat(ONE_MB / 16) } }),
    normal(
      'big-raw-data',
      all(cut('RawDataJson'), (row) =>
        assert.doesNotMatch(String(row['RawDataJson']), /[\ud800-\udbff]$/, 'cut inside a surrogate pair'),
      ),
    ),
  ),
  inline(
    'a 1 MB _id',
    () => ({ _id: `big-id-${'7'.repeat(ONE_MB)}`, ...CORE }),
    normal(
      undefined,
      all(cut('ActivityId'), (row) => assert.match(String(row['ActivityId']), /^big-id-7+$/)),
    ),
  ),
  inline(
    'a 1 MB field on a record without _id',
    () => ({ ...CORE, description: 'y'.repeat(ONE_MB) }),
    flagged(/(^|; )_id: /, cut('RawRecordJson')),
  ),
  inline('a record that is a 1 MB string', () => 'z'.repeat(ONE_MB), flagged(/^\(root\): /, cut('RawRecordJson'))),
  inline(
    'every text field 40,000 control characters (6 bytes each once escaped)',
    () => ({
      _id: 'control-everywhere',
      ...CORE,
      appId: CONTROL_TEXT,
      srcAppId: CONTROL_TEXT,
      appName: CONTROL_TEXT,
      eventTypeName: CONTROL_TEXT,
      eventTypeValue: CONTROL_TEXT,
      actionType: CONTROL_TEXT,
      description: CONTROL_TEXT,
      severity: CONTROL_TEXT,
      user: { userName: CONTROL_TEXT },
      resolvedActor: { name: CONTROL_TEXT },
      device: { clientIP: CONTROL_TEXT, userAgent: CONTROL_TEXT },
      location: { countryCode: CONTROL_TEXT, city: CONTROL_TEXT },
      mainInfo: { eventObjects: [{ name: CONTROL_TEXT }], activityResult: { message: CONTROL_TEXT } },
    }),
    normal('control-everywhere', all(cut('Description', 1_000), cut('UserName', 1_000))),
  ),
  {
    name: 'rawDataJson nested 1,000 levels deep',
    text: () => `{"_id":"deep-1000",${CORE_JSON},"rawDataJson":${nestedJson(1_000)}}`,
    expect: normal('deep-1000', (row) => assert.match(String(row['RawDataJson']), /^\{"a":\{"a":/)),
  },
  {
    name: 'a record without _id nested 1,000 levels deep',
    text: () => `{${CORE_JSON},"deep":${nestedJson(1_000)}}`,
    expect: flagged(/(^|; )_id: /),
  },
  {
    name: 'rawDataJson nested 10,000 levels deep',
    text: () => `{"_id":"deep-10000",${CORE_JSON},"rawDataJson":${nestedJson(10_000)}}`,
    expect: normal('deep-10000', (row) =>
      assert.ok(
        row['RawDataJson'] !== undefined || /RawDataJson/.test(String(row['TruncatedFields'])),
        'RawDataJson silently dropped',
      ),
    ),
  },
  {
    name: 'a record without _id nested 10,000 levels deep',
    text: () => `{${CORE_JSON},"deep":${nestedJson(10_000)}}`,
    expect: flagged(/(^|; )_id: /),
  },
  inline('5,000 keys at the top level', () => ({ _id: 'keys-5000', ...CORE, ...manyKeys(5_000) }), normal('keys-5000')),
  inline(
    '5,000 keys in rawDataJson',
    () => ({ _id: 'keys-5000-raw', ...CORE, rawDataJson: manyKeys(5_000) }),
    normal('keys-5000-raw', cut('RawDataJson')),
  ),
  inline(
    '5,000 keys on a record without created',
    () => ({ _id: 'keys-5000-flagged', timestamp: CORE.timestamp, ...manyKeys(5_000) }),
    flagged(/(^|; )created: /, cut('RawRecordJson')),
  ),
];

describe('bad records inside an otherwise good page', () => {
  for (const c of RECORD_CASES) {
    const outcome = c.expect.refused
      ? 'fails the run before that page is delivered'
      : c.expect.flagged
        ? 'is sent as a flagged row, and the rest of the window still arrives'
        : 'is sent as a normal row, and the rest of the window still arrives';
    it(`${outcome}: ${c.name}`, async (t) => {
      // The fixtures were saved at FIXTURE_CREATED_MS; the good activities around them, so the page is in order.
      const good = generateActivities({
        count: 10,
        startCreatedMs: FIXTURE_CREATED_MS - 1,
        seed: 42,
        tiesEvery: 0,
        spanMs: 20 * 60_000,
      });
      assert.ok((good[1]?.['created'] as number) > FIXTURE_CREATED_MS);
      const [g0, g1, g2] = good.map((a) => JSON.stringify(a));
      const firstPage = `{"data":[${g0},${c.text()},${g1},${g2}],"hasNext":true,"total":11}`;
      const stack = await startLocalStack({
        activities: good,
        mcas: { faults: (i) => (i === 0 ? text(200, firstPage) : undefined) },
      });
      t.after(() => stack.close());
      const checkpoints = new MemoryCheckpointStore('activities');
      const log = new RecordingLogger();

      const run = runAgainst(stack, checkpoints, {
        log,
        pageSize: 100,
        maxBatchBytes: SMALLEST_BATCH_BYTES,
        window: { startMs: FIXTURE_CREATED_MS - HOUR, endMs: FIXTURE_CREATED_MS + HOUR },
      });
      if (c.expect.refused) {
        await assert.rejects(run, c.expect.refused);
        assert.deepEqual(stack.logAnalytics.rows(), [], 'nothing of the page was delivered');
        assert.equal(checkpoints.history.at(-1)?.cursor ?? FIXTURE_CREATED_MS - HOUR, FIXTURE_CREATED_MS - HOUR);
        return;
      }
      const summary = await run;

      const rows = stack.logAnalytics.rows();
      const goodIds = idsOf(good);
      assert.deepEqual(
        rows.filter((_, i) => i !== 1).map((r) => r['ActivityId']),
        goodIds,
        'every good activity arrived once, in order, around the bad one',
      );
      assert.equal(rows.length, 11, 'the bad record became exactly one row');
      for (const row of rows) assertRowWithinLimits(row);
      assert.equal(stack.logAnalytics.truncatedValues, 0, 'no value was left for Log Analytics to cut');
      assert.ok(
        stack.logAnalytics.requests.every((r) => r.status === 200),
        'no post was refused',
      );

      const row = rows[1] as Row;
      if (c.expect.flagged) {
        assert.equal(row['IsFlagged'], true);
        assert.match(String(row['ValidationIssues']), c.expect.issues ?? /./);
        assert.equal(typeof row['RawRecordJson'], 'string');
        assert.equal(summary.flagged, 1);
        assert.equal(log.lines.filter((l) => l.level === 'warn' && /failed the schema/.test(l.message)).length, 1);
      } else {
        assert.equal(row['IsFlagged'], undefined);
        assert.equal(row['ValidationIssues'], undefined);
        if (c.expect.id !== undefined) assert.equal(row['ActivityId'], c.expect.id);
        assert.equal(summary.flagged, 0);
      }
      c.expect.check?.(row);

      assert.equal(summary.sent, 11);
      assertCheckpointsCoverOnlyDelivered(
        checkpoints.history,
        good,
        new Set(goodIds.filter((id) => rows.some((r) => r['ActivityId'] === id))),
      );
      const last = checkpoints.history.at(-1);
      assert.equal(last?.cursor, (last?.windowEnd ?? Number.NaN) + 1, 'the window was read to its end');
      assert.equal((Object.prototype as Record<string, unknown>)['polluted'], undefined, 'Object.prototype untouched');
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Bad settings: readConfig throws one ConfigError naming every bad setting.

const TOKEN = 'fake-badinput-mcas-token-3a7c9e1b5d';
const KEY = Buffer.from('fake-badinput-workspace-key').toString('base64');

const VALID_ENV: Readonly<Record<string, string>> = {
  MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com',
  LOG_ANALYTICS_WORKSPACE_ID: '11111111-2222-4333-8444-555555555555',
  MCAS_API_TOKEN: TOKEN,
  LOG_ANALYTICS_WORKSPACE_KEY: KEY,
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

interface SettingCase {
  name: string;
  /** Overrides of VALID_ENV; `undefined` removes a setting. */
  env: Record<string, string | undefined>;
  /** Every setting the ConfigError must name, and no other. */
  settings: readonly string[];
  /** Text the message must not contain (a secret value). */
  hidden?: string;
}

const setting = (name: string, env: SettingCase['env'], settings: string[] = Object.keys(env)): SettingCase => ({
  name,
  env,
  settings,
});
const KV = 'https://kv-mcas.vault.azure.net';

const SETTING_CASES: readonly SettingCase[] = [
  setting('a workspace id that is a name, not a GUID', { LOG_ANALYTICS_WORKSPACE_ID: 'my-sentinel-workspace' }),
  setting('a workspace id in braces', { LOG_ANALYTICS_WORKSPACE_ID: '{11111111-2222-4333-8444-555555555555}' }),
  setting('a workspace id missing', { LOG_ANALYTICS_WORKSPACE_ID: undefined }),
  setting('the portal URL over http to a public host', {
    MCAS_PORTAL_URL: 'http://contoso.us2.portal.cloudappsecurity.com',
  }),
  setting('the portal URL of the *.mcas.ms session proxy', { MCAS_PORTAL_URL: 'https://contoso.us2.portal.mcas.ms' }),
  setting('the portal URL with the API path', {
    MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com/api/v1/activities/',
  }),
  setting('the portal URL with a query', {
    MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com/?tenant=contoso',
  }),
  setting('the portal URL with credentials', {
    MCAS_PORTAL_URL: 'https://admin:hunter2-password@contoso.us2.portal.cloudappsecurity.com',
  }),
  setting('the portal URL with a fragment', {
    MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com/#/activity-log',
  }),
  setting('the portal URL without a scheme', { MCAS_PORTAL_URL: 'contoso.us2.portal.cloudappsecurity.com' }),
  setting('the portal URL of another host', { MCAS_PORTAL_URL: 'https://contoso.example.com' }),
  setting('the portal URL over ftp', { MCAS_PORTAL_URL: 'ftp://contoso.us2.portal.cloudappsecurity.com' }),
  setting('the portal URL missing', { MCAS_PORTAL_URL: '   ' }),
  setting('the Log Analytics endpoint over http', {
    LOG_ANALYTICS_ENDPOINT: 'http://11111111-2222-4333-8444-555555555555.ods.opinsights.azure.com',
  }),
  setting('the Log Analytics endpoint of another host', { LOG_ANALYTICS_ENDPOINT: 'https://example.com' }),
  setting('filters that are not JSON', { MCAS_ACTIVITY_FILTERS: '{service: {eq: [11161]}}' }),
  setting('filters as a JSON array', { MCAS_ACTIVITY_FILTERS: '[{"service":{"eq":[11161]}}]' }),
  setting('filters as a JSON string', { MCAS_ACTIVITY_FILTERS: '"service"' }),
  setting('a filter with an unknown operator', { MCAS_ACTIVITY_FILTERS: '{"service":{"like":[11161]}}' }),
  setting('a filter on created (the checkpoint owns it)', { MCAS_ACTIVITY_FILTERS: '{"created":{"gte":0}}' }),
  setting('a filter that is a list instead of operators', { MCAS_ACTIVITY_FILTERS: '{"service":[11161]}' }),
  setting('a filter with no operator', { MCAS_ACTIVITY_FILTERS: '{"service":{}}' }),
  setting('a negative lookback', { INITIAL_LOOKBACK_MINUTES: '-5' }),
  setting('a zero lookback', { INITIAL_LOOKBACK_MINUTES: '0' }),
  setting('a lookback over a year', { INITIAL_LOOKBACK_MINUTES: '99999999' }),
  setting('a lookback in words', { INITIAL_LOOKBACK_MINUTES: 'ten' }),
  setting('a lookback with a fraction', { INITIAL_LOOKBACK_MINUTES: '1.5' }),
  setting('a lookback in exponent notation', { INITIAL_LOOKBACK_MINUTES: '1e3' }),
  setting('a negative settle margin', { CREATED_SETTLE_SECONDS: '-1' }),
  setting('a time budget under ten seconds', { RUN_TIME_BUDGET_SECONDS: '5' }),
  setting('a batch limit over 25 MB', { MAX_BATCH_BYTES: '104857600' }),
  setting('a batch limit under 1 MB', { MAX_BATCH_BYTES: '1000' }),
  setting('a batch limit past 2^64', { MAX_BATCH_BYTES: '99999999999999999999999' }),
  setting('a page size over 100', { MCAS_PAGE_SIZE: '101' }),
  setting('a page size of zero', { MCAS_PAGE_SIZE: '0' }),
  setting('zero requests a minute', { MCAS_MAX_REQUESTS_PER_MINUTE: '0' }),
  setting('an unknown paging mode', { MCAS_PAGING: 'fast' }),
  setting('a scan page under the API minimum of 500', { MCAS_SCAN_PAGE_SIZE: '100' }),
  setting('a negative scan window', { MCAS_SCAN_WINDOW_MINUTES: '-1' }),
  setting('no wait at all after throttling', { MCAS_THROTTLE_WAIT_SECONDS: '0' }),
  setting('an HTTP timeout over ten minutes', { HTTP_TIMEOUT_SECONDS: '601' }),
  setting('an HTTP timeout with a unit', { HTTP_TIMEOUT_SECONDS: '30s' }),
  setting('a container name with capitals', { CHECKPOINT_CONTAINER: 'Checkpoints' }),
  setting('a container name of two letters', { CHECKPOINT_CONTAINER: 'ab' }),
  setting('a container name with an underscore', { CHECKPOINT_CONTAINER: 'mcas_connector' }),
  setting('a container name with a double hyphen', { CHECKPOINT_CONTAINER: 'mcas--connector' }),
  setting('CHECKPOINT_STORE=file: with no path', { CHECKPOINT_STORE: 'file:' }),
  setting('an unknown checkpoint store', { CHECKPOINT_STORE: 's3://bucket/checkpoints' }),
  setting('blob checkpoints with no storage setting', { AzureWebJobsStorage: undefined }, ['AzureWebJobsStorage']),
  setting(
    'a storage account name with capitals',
    { AzureWebJobsStorage: undefined, AzureWebJobsStorage__accountName: 'MyStorage' },
    ['AzureWebJobsStorage__accountName'],
  ),
  setting(
    'a blob service URL with a SAS query',
    {
      AzureWebJobsStorage: undefined,
      AzureWebJobsStorage__blobServiceUri: 'https://mystorage.blob.core.windows.net/?sv=2023-11-03&sig=abc',
    },
    ['AzureWebJobsStorage__blobServiceUri'],
  ),
  setting('a log type with spaces', { LOG_TYPE: 'MCAS Activity Log' }),
  setting('a log type ending _CL', { LOG_TYPE: 'MCAS_Activity_Log_CL' }),
  setting('a log type of 101 characters', { LOG_TYPE: 'A'.repeat(101) }),
  setting('a log type with a hyphen', { LOG_TYPE: 'MCAS-Activity' }),
  setting('a five-field (Unix cron) schedule', { MCAS_TIMER_SCHEDULE: '*/5 * * * *' }),
  setting('a seven-field schedule', { MCAS_TIMER_SCHEDULE: '0 */5 * * * * 2026' }),
  setting('a schedule in words', { MCAS_TIMER_SCHEDULE: 'every 5 minutes' }),
  setting('a Quartz schedule with "?"', { MCAS_TIMER_SCHEDULE: '0 0/5 * * * ?' }),
  setting('a client id that is a name, not a GUID', { AZURE_CLIENT_ID: 'mcas-connector-identity' }),
  setting('a Key Vault URL over http', { KEY_VAULT_URL: 'http://kv-mcas.vault.azure.net' }),
  setting('a Key Vault URL of another host', { KEY_VAULT_URL: 'https://kv-mcas.example.com' }),
  setting('a Key Vault URL with a secret path', { KEY_VAULT_URL: `${KV}/secrets/mcas-api-token` }),
  setting('a Key Vault URL over http on loopback', { KEY_VAULT_URL: 'http://127.0.0.1:8443' }),
  setting('a token secret name with underscores', { KEY_VAULT_URL: KV, MCAS_TOKEN_SECRET_NAME: 'mcas_api_token' }, [
    'MCAS_TOKEN_SECRET_NAME',
  ]),
  setting('a key secret name with a dot', { KEY_VAULT_URL: KV, WORKSPACE_KEY_SECRET_NAME: 'workspace.key' }, [
    'WORKSPACE_KEY_SECRET_NAME',
  ]),
];

/** One bad value for each setting the connector reads (in Key Vault mode), all at once. */
const COMBINED_ENV: Record<string, string> = {
  MCAS_PORTAL_URL: 'https://contoso.us2.portal.mcas.ms',
  LOG_ANALYTICS_WORKSPACE_ID: 'my-sentinel-workspace',
  LOG_ANALYTICS_ENDPOINT: 'https://example.com',
  LOG_TYPE: 'MCAS_Activity_Log_CL',
  MCAS_TIMER_SCHEDULE: '*/5 * * * *',
  INITIAL_LOOKBACK_MINUTES: '-5',
  CREATED_SETTLE_SECONDS: 'soon',
  RUN_TIME_BUDGET_SECONDS: '5',
  MAX_BATCH_BYTES: '1000',
  MCAS_PAGE_SIZE: '101',
  MCAS_MAX_REQUESTS_PER_MINUTE: '0',
  MCAS_PAGING: 'fast',
  MCAS_SCAN_PAGE_SIZE: '100',
  MCAS_SCAN_WINDOW_MINUTES: '-1',
  MCAS_THROTTLE_WAIT_SECONDS: '0',
  HTTP_TIMEOUT_SECONDS: '30s',
  MCAS_ACTIVITY_FILTERS: '{"created":{"gte":0}}',
  KEY_VAULT_URL: 'http://kv-mcas.vault.azure.net',
  MCAS_TOKEN_SECRET_NAME: 'mcas_api_token',
  WORKSPACE_KEY_SECRET_NAME: 'workspace.key',
  CHECKPOINT_CONTAINER: 'Checkpoints',
  AZURE_CLIENT_ID: 'mcas-connector-identity',
};

// ---------------------------------------------------------------------------------------------------------------
// Bad secrets in app settings (readConfig) and in Key Vault (loadSecrets): named, never quoted.

const SECRET_SETTING_CASES: readonly SettingCase[] = [
  { name: 'an empty MCAS token', env: { MCAS_API_TOKEN: '' }, settings: ['MCAS_API_TOKEN'] },
  { name: 'a white-space-only MCAS token', env: { MCAS_API_TOKEN: ' \t \n' }, settings: ['MCAS_API_TOKEN'] },
  {
    name: 'an MCAS token with a space inside',
    env: { MCAS_API_TOKEN: 'fake-token-half-one fake-token-half-two' },
    settings: ['MCAS_API_TOKEN'],
    hidden: 'fake-token-half-one',
  },
  {
    name: 'an MCAS token with a line break inside',
    env: { MCAS_API_TOKEN: 'fake-token-line-one\nfake-token-line-two' },
    settings: ['MCAS_API_TOKEN'],
    hidden: 'fake-token-line-one',
  },
  {
    name: 'an empty workspace key',
    env: { LOG_ANALYTICS_WORKSPACE_KEY: '' },
    settings: ['LOG_ANALYTICS_WORKSPACE_KEY'],
  },
  {
    name: 'a white-space-only workspace key',
    env: { LOG_ANALYTICS_WORKSPACE_KEY: '   ' },
    settings: ['LOG_ANALYTICS_WORKSPACE_KEY'],
  },
  {
    name: 'a workspace key with a space inside',
    env: { LOG_ANALYTICS_WORKSPACE_KEY: 'ZmFrZS1rZXktcGFydC1v bmU=' },
    settings: ['LOG_ANALYTICS_WORKSPACE_KEY'],
    hidden: 'ZmFrZS1rZXktcGFydC1v',
  },
  {
    name: 'a workspace key that is not base64',
    env: { LOG_ANALYTICS_WORKSPACE_KEY: 'fake-workspace-key-not-base64!' },
    settings: ['LOG_ANALYTICS_WORKSPACE_KEY'],
    hidden: 'fake-workspace-key-not-base64',
  },
  {
    name: 'a workspace key with a bad base64 length',
    env: { LOG_ANALYTICS_WORKSPACE_KEY: 'ZmFrZS1rZXktbGVuZ3Ro1' },
    settings: ['LOG_ANALYTICS_WORKSPACE_KEY'],
    hidden: 'ZmFrZS1rZXktbGVuZ3Ro1',
  },
  {
    name: 'a workspace key in the base64url alphabet',
    env: { LOG_ANALYTICS_WORKSPACE_KEY: 'ZmFr-_1rZXktdXJsLXNhZmU=' },
    settings: ['LOG_ANALYTICS_WORKSPACE_KEY'],
    hidden: 'ZmFr-_1rZXktdXJsLXNhZmU',
  },
  {
    name: 'both secrets missing',
    env: { MCAS_API_TOKEN: undefined, LOG_ANALYTICS_WORKSPACE_KEY: undefined },
    settings: ['MCAS_API_TOKEN', 'LOG_ANALYTICS_WORKSPACE_KEY'],
  },
];

function settingNames(error: ConfigError): string[] {
  return [...new Set(error.problems.map((p) => p.slice(0, p.indexOf(':'))))].sort();
}

function withOverrides(env: SettingCase['env']): NodeJS.ProcessEnv {
  // A setting given as undefined is left out, as if the operator had never set it.
  return Object.fromEntries(Object.entries({ ...VALID_ENV, ...env }).filter(([, value]) => value !== undefined));
}

function assertConfigError(c: SettingCase): void {
  assert.throws(
    () => readConfig(withOverrides(c.env)),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${inspect(error)}`);
      assert.deepEqual(settingNames(error), [...c.settings].sort(), error.message);
      for (const name of c.settings) assert.match(error.message, new RegExp(`(^|\\n- )${name}: `));
      const everything = `${String(error)}\n${inspect(error, { depth: 10 })}`;
      for (const secret of [TOKEN, KEY, c.hidden]) {
        if (secret !== undefined)
          assert.ok(!everything.includes(secret), `${c.name}: a secret value is quoted in the error`);
      }
      return true;
    },
  );
}

describe('bad settings', () => {
  it('accepts the valid base settings, so each case below fails for its own setting', () => {
    assert.equal(readConfig(VALID_ENV).mcas.portalUrl, VALID_ENV['MCAS_PORTAL_URL']);
    assert.equal(readConfig({ ...VALID_ENV, KEY_VAULT_URL: KV }).secrets.kind, 'keyVault');
  });

  for (const c of SETTING_CASES) {
    it(`names ${c.settings.join(' and ')} in a ConfigError: ${c.name}`, () => assertConfigError(c));
  }

  it('names every bad setting in one ConfigError when all are wrong at once', () => {
    assertConfigError({ name: 'every setting wrong at once', env: COMBINED_ENV, settings: Object.keys(COMBINED_ENV) });
  });
});

describe('bad secrets in app settings', () => {
  for (const c of SECRET_SETTING_CASES) {
    it(`names ${c.settings.join(' and ')} without quoting it: ${c.name}`, () => assertConfigError(c));
  }
});

interface VaultCase {
  name: string;
  tokenName: string;
  keyName: string;
  /** Names the bad secret and says what is wrong with it. */
  message: RegExp;
  /** The vault refuses every read. */
  forbidden?: boolean;
}

const VAULT_TOKEN = 'fake-vault-mcas-token-8b2d4f6a0c';
const VAULT_KEY = Buffer.from('fake-vault-workspace-key').toString('base64');
const ACCESS_TOKEN = 'fake-access-token-for-the-vault-emulator';
const VAULT_SECRETS: Record<string, string> = {
  'token-ok': VAULT_TOKEN,
  'key-ok': VAULT_KEY,
  'token-empty': '',
  'token-blank': ' \n\t ',
  'token-spaced': 'fake-vault-token-part-one fake-vault-token-part-two',
  'token-newline': 'fake-vault-token-line-one\r\nfake-vault-token-line-two',
  'key-empty': '',
  'key-blank': '\n',
  'key-not-base64': 'fake-vault-key-not-base64!',
  'key-spaced': 'ZmFrZS12YXVsdC1rZXktcGFy dC1vbmU=',
  'key-base64url': 'ZmFr-_12YXVsdC1rZXktdXJs',
};

const VAULT_CASES: readonly VaultCase[] = [
  {
    name: 'an empty token',
    tokenName: 'token-empty',
    keyName: 'key-ok',
    message: /Secret 'token-empty' in Key Vault .* is empty/,
  },
  {
    name: 'a white-space-only token',
    tokenName: 'token-blank',
    keyName: 'key-ok',
    message: /Secret 'token-blank' in Key Vault .* is empty/,
  },
  {
    name: 'a token with a space inside',
    tokenName: 'token-spaced',
    keyName: 'key-ok',
    message: /Secret 'token-spaced' in Key Vault .* contains white space/,
  },
  {
    name: 'a token with a line break inside',
    tokenName: 'token-newline',
    keyName: 'key-ok',
    message: /Secret 'token-newline' in Key Vault .* contains white space/,
  },
  {
    name: 'a token that does not exist',
    tokenName: 'token-missing',
    keyName: 'key-ok',
    message: /Secret 'token-missing' was not found in Key Vault/,
  },
  {
    name: 'an empty key',
    tokenName: 'token-ok',
    keyName: 'key-empty',
    message: /Secret 'key-empty' in Key Vault .* is empty/,
  },
  {
    name: 'a white-space-only key',
    tokenName: 'token-ok',
    keyName: 'key-blank',
    message: /Secret 'key-blank' in Key Vault .* is empty/,
  },
  {
    name: 'a key that is not base64',
    tokenName: 'token-ok',
    keyName: 'key-not-base64',
    message: /Secret 'key-not-base64' in Key Vault .* is not base64/,
  },
  {
    name: 'a key with a space inside',
    tokenName: 'token-ok',
    keyName: 'key-spaced',
    message: /Secret 'key-spaced' in Key Vault .* is not base64/,
  },
  {
    name: 'a key in the base64url alphabet',
    tokenName: 'token-ok',
    keyName: 'key-base64url',
    message: /Secret 'key-base64url' in Key Vault .* is not base64/,
  },
  {
    name: 'a key that does not exist',
    tokenName: 'token-ok',
    keyName: 'key-missing',
    message: /Secret 'key-missing' was not found in Key Vault/,
  },
  {
    name: 'both bad (the token is reported first)',
    tokenName: 'token-empty',
    keyName: 'key-not-base64',
    message: /Secret 'token-empty' in Key Vault .* is empty/,
  },
  {
    name: 'a vault that refuses this identity',
    tokenName: 'token-ok',
    keyName: 'key-ok',
    message: /refused to let this app read secret 'token-ok' \(HTTP 403\)/,
    forbidden: true,
  },
];

describe('bad secrets in Key Vault', () => {
  const credential: TokenCredential = {
    getToken: () => Promise.resolve({ token: ACCESS_TOKEN, expiresOnTimestamp: Date.now() + HOUR }),
  };
  let vault: KeyVaultEmulator;
  let forbiddenVault: KeyVaultEmulator;
  before(async () => {
    [vault, forbiddenVault] = await Promise.all([
      startKeyVaultEmulator({ secrets: VAULT_SECRETS, expectedToken: ACCESS_TOKEN }),
      startKeyVaultEmulator({ secrets: VAULT_SECRETS, expectedToken: ACCESS_TOKEN, forbidden: true }),
    ]);
  });
  after(() => Promise.all([vault.close(), forbiddenVault.close()]));

  it('reads the good pair, so each case below fails for its own secret', async () => {
    const secrets = await loadSecrets(
      { kind: 'keyVault', vaultUrl: vault.vaultUrl, mcasTokenName: 'token-ok', workspaceKeyName: 'key-ok' },
      { log: new RecordingLogger(), credential, clientOptions: { tlsOptions: { ca: loadTestTls().cert } } },
    );
    assert.equal(secrets.mcasToken?.reveal(), VAULT_TOKEN);
  });

  for (const c of VAULT_CASES) {
    it(`throws a SecretError naming the secret, never its value: ${c.name}`, async () => {
      const target = c.forbidden ? forbiddenVault : vault;
      const source: SecretSource = {
        kind: 'keyVault',
        vaultUrl: target.vaultUrl,
        mcasTokenName: c.tokenName,
        workspaceKeyName: c.keyName,
      };
      const log = new RecordingLogger();
      const failure = loadSecrets(source, {
        log,
        credential,
        clientOptions: { tlsOptions: { ca: loadTestTls().cert } },
      });
      await assert.rejects(failure, (error: unknown) => {
        assert.ok(error instanceof SecretError, `expected SecretError, got ${inspect(error)}`);
        assert.match(error.message, c.message);
        const everything = `${String(error)}\n${inspect(error, { depth: 10 })}\n${log.text()}`;
        for (const value of Object.values(VAULT_SECRETS)
          .map((v) => v.trim())
          .filter((v) => v.length >= 8)) {
          for (const part of value.split(/\s+/))
            assert.ok(!everything.includes(part), `${c.name}: a secret value appears in the error or log`);
        }
        return true;
      });
    });
  }
});

describe('the bad-input corpus', () => {
  it('holds at least 50 cases, so it cannot shrink unnoticed', () => {
    const size =
      ENVELOPE_CASES.length +
      RECORD_CASES.length +
      SETTING_CASES.length +
      1 +
      SECRET_SETTING_CASES.length +
      VAULT_CASES.length;
    assert.ok(size >= 50, `corpus size ${size}`);
    assert.ok(
      ENVELOPE_CASES.length >= 10 && RECORD_CASES.length >= 25 && SETTING_CASES.length >= 25,
      'every category is covered',
    );
    assert.ok(SECRET_SETTING_CASES.length + VAULT_CASES.length >= 10);
  });
});
