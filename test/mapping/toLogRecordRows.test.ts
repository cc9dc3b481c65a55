// Rows of the activity mapping, byte for byte: mapActivity's outcome for the fixtures, tricky inputs (wrong types,
// arrays for objects, nulls) and a seeded sweep of such records must stay what it was when the rows were recorded
// in test/fixtures/mapping/activity-rows.json, and must equal the mapping of zod's lenient reading of the same record.
//
// After an intended change to the rows, rewrite the file with
//   WRITE_ACTIVITY_ROWS=1 ./node_modules/.bin/node --test dist/test/mapping/toLogRecordRows.test.js
// and review its diff.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { z } from 'zod';

import { mapActivity, type MappedActivity } from '../../src/mapping/toLogRecord.js';
import { EpochMsSchema, MAX_EPOCH_MS, lenient } from '../../src/mcas/schema.js';
import { createRng } from '../../emulators/activityGenerator.js';

const FIXTURES = new URL('../../../test/fixtures/activities/', import.meta.url);
const ROWS_FILE = new URL('../../../test/fixtures/mapping/activity-rows.json', import.meta.url);
const WRITE = process.env['WRITE_ACTIVITY_ROWS'] === '1';

/** Outcomes up to this many characters are kept readable in the rows file; longer ones as a digest. */
const READABLE_CHARS = 3_000;

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
}

/** What JSON.parse would make of `value`: the mapping only ever sees that. */
function wire(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** The whole outcome as text: the row exactly as the batch serializes it, the flag, the id and the issues. */
function outcome(result: MappedActivity): string {
  return JSON.stringify(result);
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * The activity schema as it was before the mapping read optional fields itself: zod copies the record, and an
 * optional field of the wrong type (nested ones too) becomes undefined. Kept here as the definition of "lenient".
 */
const JsonObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
);
const UserRef = z.looseObject({ userName: lenient(z.string()) });
const LENIENT_ACTIVITY = z.looseObject({
  _id: z.string().min(1),
  created: EpochMsSchema,
  timestamp: EpochMsSchema,
  appId: lenient(z.union([z.number(), z.string()])),
  appName: lenient(z.string()),
  srcAppId: lenient(z.union([z.number(), z.string()])),
  eventType: lenient(z.number()),
  eventTypeName: lenient(z.string()),
  eventTypeValue: lenient(z.string()),
  genericEventType: lenient(z.string()),
  actionType: lenient(z.string()),
  description: lenient(z.string()),
  description_id: lenient(z.string()),
  description_metadata: lenient(JsonObject),
  severity: lenient(z.string()),
  user: lenient(UserRef),
  failedUserData: lenient(UserRef),
  resolvedActor: lenient(z.looseObject({ name: lenient(z.string()) })),
  device: lenient(z.looseObject({ clientIP: lenient(z.string()), userAgent: lenient(z.string()) })),
  location: lenient(JsonObject),
  userAgent: lenient(z.union([z.string(), JsonObject])),
  mainInfo: lenient(
    z.looseObject({
      eventObjects: lenient(z.array(z.unknown())),
      activityResult: lenient(z.looseObject({ isSuccess: lenient(z.boolean()), message: lenient(z.string()) })),
      rawOperationName: lenient(z.string()),
      prettyOperationName: lenient(z.string()),
      type: lenient(z.string()),
    }),
  ),
  entityData: lenient(z.custom<unknown>((value) => typeof value === 'object' && value !== null)),
  rawDataJson: lenient(JsonObject),
});

const CORE = { _id: 'tricky-0001', created: 1700005000001, timestamp: 1700004999999 };

/** Every optional field the mapping reads, set to `value`. */
function everyField(value: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...CORE };
  for (const key of Object.keys(LENIENT_ACTIVITY.shape)) if (!(key in CORE)) fields[key] = value;
  return fields;
}

/** Inputs chosen to catch a reader that is stricter or looser than zod's lenient schema, or reads the wrong field. */
const TRICKY: readonly (readonly [string, unknown])[] = [
  ['null in every optional field', everyField(null)],
  ['an empty object in every optional field', everyField({})],
  ['an empty array in every optional field', everyField([])],
  ['an array of objects in every optional field', everyField([{ userName: 'u', name: 'n', clientIP: '192.0.2.1' }])],
  ['a string in every optional field', everyField('text')],
  ['a number in every optional field', everyField(42)],
  ['false in every optional field', everyField(false)],
  [
    'arrays where objects are expected, nested',
    {
      ...CORE,
      user: [{ userName: 'in-array' }],
      failedUserData: { userName: 'failed-user' },
      device: { clientIP: ['192.0.2.1'], userAgent: { ua: 'x' } },
      mainInfo: {
        activityResult: [{ isSuccess: true }],
        eventObjects: { 0: { name: 'keyed' } },
        type: ['failedLogin'],
      },
      rawDataJson: [{ LoginStatus: 'Success' }],
      location: [{ countryCode: 'DE' }],
      description_metadata: ['x'],
      eventTypeName: 'EVENT_CATEGORY_LOGIN',
    },
  ],
  [
    'null inside every nested object',
    {
      ...CORE,
      user: { userName: null },
      failedUserData: { userName: null },
      resolvedActor: { name: null },
      device: { clientIP: null, userAgent: null },
      location: { countryCode: null, city: null },
      userAgent: { browser: null },
      mainInfo: {
        eventObjects: [null, { name: null }],
        activityResult: { isSuccess: null, message: null },
        rawOperationName: null,
        prettyOperationName: null,
        type: null,
      },
      rawDataJson: { LoginStatus: null, ResultStatus: null },
      entityData: { 0: null },
    },
  ],
  [
    'wrong types inside every nested object',
    {
      ...CORE,
      user: { userName: 7 },
      failedUserData: { userName: ['f'] },
      resolvedActor: { name: { first: 'A' } },
      device: { clientIP: 3232235777, userAgent: ['curl/8.0'] },
      location: { countryCode: 49, city: ['Berlin'] },
      mainInfo: {
        eventObjects: [1, 'two', [{ name: 'in-array' }], { name: 3 }, { name: '' }, { name: 'found' }],
        activityResult: { isSuccess: 'false', message: 404 },
        rawOperationName: { op: 'x' },
        prettyOperationName: true,
        type: 1,
      },
      rawDataJson: { LoginStatus: true, ResultStatus: ['Failed'] },
      eventTypeName: 'EVENT_CATEGORY_LOGIN',
    },
  ],
  [
    'a wrong-typed actionType falls back to rawOperationName',
    { ...CORE, actionType: 5, mainInfo: { rawOperationName: 'Op' } },
  ],
  ['an empty actionType is kept', { ...CORE, actionType: '', mainInfo: { rawOperationName: 'Op' } }],
  [
    'an empty user name falls back to failedUserData',
    { ...CORE, user: { userName: '' }, failedUserData: { userName: 'f' } },
  ],
  [
    'a wrong-typed user name falls back to failedUserData',
    { ...CORE, user: { userName: 1 }, failedUserData: { userName: 'f' } },
  ],
  ['both user names empty', { ...CORE, user: { userName: '' }, failedUserData: { userName: '' } }],
  ['device.userAgent wins over a string userAgent', { ...CORE, device: { userAgent: 'dev' }, userAgent: 'top' }],
  [
    'a wrong-typed device.userAgent falls back to a string userAgent',
    { ...CORE, device: { userAgent: 5 }, userAgent: 'top' },
  ],
  ['a userAgent object and no device', { ...CORE, userAgent: { browser: 'EDGE', os: 'WINDOWS' } }],
  ['an empty device.userAgent is kept', { ...CORE, device: { userAgent: '' }, userAgent: 'top' }],
  ['appId and srcAppId as strings', { ...CORE, appId: '11161', srcAppId: '' }],
  ['appId and srcAppId as unusual numbers', { ...CORE, appId: 1.5, srcAppId: -0 }],
  ['appId and srcAppId as zero and a huge number', { ...CORE, appId: 0, srcAppId: 1e21 }],
  ['appId as a boolean, srcAppId as an object', { ...CORE, appId: true, srcAppId: { id: 1 } }],
  ['eventType as a string', { ...CORE, eventType: '2293761', eventTypeName: 'EVENT_CATEGORY_LOGIN' }],
  [
    'stated isSuccess wins over a failed category',
    { ...CORE, eventTypeName: 'EVENT_CATEGORY_FAILED_LOGIN', mainInfo: { activityResult: { isSuccess: true } } },
  ],
  [
    'a wrong-typed isSuccess falls through to the category',
    { ...CORE, eventTypeName: 'EVENT_CATEGORY_LOGIN', mainInfo: { activityResult: { isSuccess: 'false' } } },
  ],
  [
    'a wrong-typed eventTypeName falls through to the raw status',
    { ...CORE, eventTypeName: ['EVENT_CATEGORY_FAILED_LOGIN'], rawDataJson: { LoginStatus: 'Success' } },
  ],
  ['failedLogin main type', { ...CORE, eventTypeName: 'EVENT_CATEGORY_LOGIN', mainInfo: { type: 'failedLogin' } }],
  [
    'failed-logon generic type and description id',
    { ...CORE, genericEventType: 'ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN', description_id: 7 },
  ],
  ['failed-logon description id', { ...CORE, description_id: 'EVENT_DESCRIPTION_FAILED_LOGIN' }],
  ['ResultStatus in odd case', { ...CORE, rawDataJson: { ResultStatus: 'SUCCEEDED', LoginStatus: 'maybe' } }],
  [
    'a raw status in an array rawDataJson is not read',
    { ...CORE, rawDataJson: ['LoginStatus', 'Failure'], eventTypeName: 'EVENT_CATEGORY_LOGIN' },
  ],
  ['entityData as an array, with nulls', { ...CORE, entityData: [null, { id: 'a' }, null] }],
  ['entityData as a string, a number, null', { ...CORE, entityData: 'none', rawDataJson: 5, location: null }],
  ['eventObjects without any name', { ...CORE, mainInfo: { eventObjects: [{}, { id: 'x' }, { name: '' }] } }],
  ['eventObjects as an empty array', { ...CORE, mainInfo: { eventObjects: [] } }],
  ['empty strings everywhere', everyField('')],
  ['the earliest and the latest time', { _id: 't', created: 0, timestamp: MAX_EPOCH_MS }],
  ['an unknown field only', { ...CORE, newFieldFromTheApi: { kept: true } }],
  ['control characters, quotes and lone surrogates', { ...CORE, description: 'a\u0000"\\\n\ud800', appName: '\udc00' }],
  [
    'a long text field and a long JSON column',
    {
      ...CORE,
      description: 'ü'.repeat(16_001),
      location: { city: '日'.repeat(12_000) },
      device: { clientIP: 'i'.repeat(32_001) },
    },
  ],
  ['control characters past the escaped limit', { ...CORE, description: '\u0001'.repeat(7_000) }],
  ['no _id', { created: CORE.created, timestamp: CORE.timestamp, appName: 'a' }],
  ['an empty _id', { ...CORE, _id: '' }],
  ['a numeric _id and a string created', { ...CORE, _id: 42, created: '1700005000001' }],
  ['a fractional timestamp', { ...CORE, timestamp: 1.5 }],
  ['a time past year 9999', { ...CORE, created: MAX_EPOCH_MS + 1 }],
  ['null', null],
  ['an array', [CORE]],
  ['a string', 'record'],
  ['undefined', undefined],
];

/** Inputs that JSON.parse builds but an object literal cannot: own `__proto__` keys. */
const FROM_JSON_TEXT: readonly (readonly [string, string])[] = [
  [
    'own __proto__ keys holding the fields',
    '{"_id":"p","created":1,"timestamp":1,"__proto__":{"appName":"x","eventTypeName":"EVENT_CATEGORY_LOGIN"},' +
      '"mainInfo":{"__proto__":{"type":"failedLogin","rawOperationName":"Op"}},"user":{"__proto__":{"userName":"u"}}}',
  ],
];

function namedInputs(): [string, unknown][] {
  const inputs: [string, unknown][] = [];
  for (const name of readdirSync(FIXTURES)
    .filter((file) => file.endsWith('.json'))
    .sort()) {
    inputs.push([`fixture ${name}`, fixture(name)]);
  }
  for (const [name, input] of TRICKY) inputs.push([name, wire(input)]);
  for (const [name, text] of FROM_JSON_TEXT) inputs.push([name, JSON.parse(text)]);
  return inputs;
}

// ---- A seeded sweep: every field the mapping reads gets either a value of its type or anything else. ----

type Next = () => number;

const ANYTHING: readonly unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -1,
  42,
  1.5,
  1700005000001,
  '',
  'text',
  'ü日😀\n"\\\ud800',
  [],
  ['a', 1, null],
  [{ name: 'in-array' }],
  {},
  { name: 'n', userName: 'u', clientIP: '192.0.2.9', isSuccess: true },
];
const WORDS: readonly string[] = [
  '',
  'x',
  'Success',
  'Failure',
  'Succeeded',
  'FAILED',
  'true',
  'PartiallySucceeded',
  'failedLogin',
  'EVENT_CATEGORY_LOGIN',
  'EVENT_CATEGORY_FAILED_LOGIN',
  'ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN',
  'EVENT_DESCRIPTION_FAILED_LOGIN',
  'München',
  '見積書.xlsx',
  '😀',
  'a\u0000b',
];

/** One of `values`, which may hold undefined itself: hence the index check, not a check of the value. */
function oneOf<T>(next: Next, values: readonly T[]): T {
  const index = Math.floor(next() * values.length);
  assert.ok(index >= 0 && index < values.length);
  return values[index] as T;
}

/** Absent a quarter of the time; otherwise a value of the field's type, or anything at all. */
function field(next: Next, typed: () => unknown): unknown {
  const roll = next();
  if (roll < 0.25) return undefined;
  return roll < 0.7 ? typed() : oneOf(next, ANYTHING);
}

function word(next: Next): string {
  return next() < 0.01 ? 'ü'.repeat(16_000 + Math.floor(next() * 200)) : oneOf(next, WORDS);
}

function sweepRecord(next: Next): unknown {
  if (next() < 0.02) return oneOf(next, ANYTHING);
  const s = (): string => word(next);
  const record: Record<string, unknown> = {
    _id: next() < 0.03 ? oneOf(next, ANYTHING) : `id-${Math.floor(next() * 1e9)}`,
    created: next() < 0.03 ? oneOf(next, ANYTHING) : Math.floor(next() * 2e12),
    timestamp: next() < 0.03 ? oneOf(next, ANYTHING) : Math.floor(next() * 2e12),
    appId: field(next, () => (next() < 0.5 ? Math.floor(next() * 30_000) : String(Math.floor(next() * 30_000)))),
    appName: field(next, s),
    srcAppId: field(next, () => (next() < 0.5 ? 11161 : '11161')),
    eventType: field(next, () => Math.floor(next() * 1e7)),
    eventTypeName: field(next, s),
    eventTypeValue: field(next, s),
    genericEventType: field(next, s),
    actionType: field(next, s),
    description: field(next, s),
    description_id: field(next, s),
    description_metadata: field(next, () => ({ target_object: field(next, s) })),
    severity: field(next, s),
    user: field(next, () => ({ userName: field(next, s), id: 'u' })),
    failedUserData: field(next, () => ({ userName: field(next, s) })),
    resolvedActor: field(next, () => ({ name: field(next, s), objType: '23' })),
    device: field(next, () => ({ clientIP: field(next, s), userAgent: field(next, s), type: 'x' })),
    location: field(next, () => ({ countryCode: field(next, s), city: field(next, s), latitude: 1.5 })),
    userAgent: field(next, () => (next() < 0.5 ? s() : { browser: field(next, s), os: field(next, s) })),
    mainInfo: field(next, () => ({
      eventObjects: field(next, () =>
        Array.from({ length: Math.floor(next() * 4) }, () =>
          next() < 0.7 ? { name: field(next, s), id: 'o' } : oneOf(next, ANYTHING),
        ),
      ),
      activityResult: field(next, () => ({ isSuccess: field(next, () => next() < 0.5), message: field(next, s) })),
      rawOperationName: field(next, s),
      prettyOperationName: field(next, s),
      type: field(next, s),
    })),
    entityData: field(next, () => (next() < 0.5 ? { 0: field(next, s), 1: null } : [null, field(next, s)])),
    rawDataJson: field(next, () => ({
      LoginStatus: field(next, s),
      ResultStatus: field(next, s),
      Level: 'x',
      level: 'y',
    })),
    unknownField: field(next, s),
  };
  return wire(record);
}

const SWEEP_SEED = 20_260_301;
const SWEEP_COUNT = 1_000;

function sweepInputs(): unknown[] {
  const next = createRng(SWEEP_SEED);
  return Array.from({ length: SWEEP_COUNT }, () => sweepRecord(next));
}

// ---- The rows file ----

interface RowsFile {
  about: string;
  /** Per named input: its outcome (parsed, readable), or `{ sha256 }` of its text when long. */
  cases: Record<string, unknown>;
  sweep: { seed: number; count: number; sha256: string[] };
}

function recorded(text: string): unknown {
  return text.length <= READABLE_CHARS ? JSON.parse(text) : { sha256: digest(text) };
}

function matchesRecorded(text: string, stored: unknown): boolean {
  return text.length <= READABLE_CHARS
    ? text === JSON.stringify(stored)
    : digest(text) === (stored as { sha256?: string }).sha256;
}

function writeRows(): void {
  const cases: Record<string, unknown> = {};
  for (const [name, input] of namedInputs()) cases[name] = recorded(outcome(mapActivity(input)));
  const file: RowsFile = {
    about:
      'mapActivity outcomes recorded by test/mapping/toLogRecordRows.test.ts (WRITE_ACTIVITY_ROWS=1); sha256 = first 16 hex',
    cases,
    sweep: {
      seed: SWEEP_SEED,
      count: SWEEP_COUNT,
      sha256: sweepInputs().map((input) => digest(outcome(mapActivity(input)))),
    },
  };
  writeFileSync(ROWS_FILE, `${JSON.stringify(file, null, 1)}\n`);
}

describe('mapActivity rows, byte for byte', () => {
  if (WRITE) writeRows();
  const rows = JSON.parse(readFileSync(ROWS_FILE, 'utf8')) as RowsFile;

  it('gives the recorded outcome for every fixture and tricky input, and records no others', () => {
    const inputs = namedInputs();
    assert.deepEqual(inputs.map(([name]) => name).sort(), Object.keys(rows.cases).sort());
    for (const [name, input] of inputs) {
      const text = outcome(mapActivity(input));
      assert.ok(matchesRecorded(text, rows.cases[name]), `${name}: ${text.slice(0, READABLE_CHARS)}`);
    }
  });

  it('gives the recorded outcome for every record of the seeded sweep', () => {
    assert.equal(rows.sweep.seed, SWEEP_SEED);
    assert.equal(rows.sweep.count, SWEEP_COUNT);
    const inputs = sweepInputs();
    let flagged = 0;
    inputs.forEach((input, i) => {
      const result = mapActivity(input);
      if (result.flagged) flagged++;
      const text = outcome(result);
      if (digest(text) !== rows.sweep.sha256[i]) assert.fail(`sweep record ${i}: ${text.slice(0, 1_000)}`);
    });
    assert.ok(flagged > 30 && flagged < 200, `${flagged} flagged`);
  });

  it("maps every record as it maps zod's lenient reading of it, and flags with zod's issues", () => {
    const inputs = [...namedInputs().map(([, input]) => input), ...sweepInputs()];
    for (const input of inputs) {
      const result = mapActivity(input);
      const lenientReading = LENIENT_ACTIVITY.safeParse(input);
      if (lenientReading.success) {
        assert.equal(outcome(result), outcome(mapActivity(lenientReading.data)));
      } else {
        const issues = lenientReading.error.issues.map(
          (issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
        );
        assert.equal(result.flagged, true);
        assert.deepEqual(result.issues, issues);
      }
    }
  });
});
