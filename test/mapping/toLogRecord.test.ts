// Tests of the activity -> Log Analytics row mapping: exact values from realistic fixtures, truncation in UTF-8
// bytes, flagged rows for records failing the core schema, and a seeded random sweep that nothing throws.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import { LOG_RECORD_COLUMNS, LogRecordSchema, type LogRecord } from '../../src/mapping/LogRecord.js';
import { deriveIsSuccess, mapActivity, toFlaggedRecord, toLogRecord } from '../../src/mapping/toLogRecord.js';
import {
  MAX_FIELD_BYTES,
  MAX_SERIALIZED_FIELD_BYTES,
  fitsUtf8,
  truncateUtf8,
  utf8ByteLength,
} from '../../src/mapping/truncate.js';
import { type CheckedActivity, McasActivityCoreSchema } from '../../src/mcas/schema.js';
import { createRng } from '../../emulators/activityGenerator.js';

const FIXTURES = new URL('../../../test/fixtures/activities/', import.meta.url);
const FIXTURE_NAMES = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
}

/** Maps a record that must pass the core schema, and checks the output shape. */
function mapValid(raw: unknown): LogRecord {
  const result = mapActivity(raw);
  assert.equal(result.flagged, false, `unexpectedly flagged: ${JSON.stringify(result.issues)}`);
  LogRecordSchema.parse(result.record);
  return result.record;
}

/** The row as it will be sent: undefined columns dropped. */
function sent(record: LogRecord): Record<string, unknown> {
  return JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
}

function withField(name: string, patch: Record<string, unknown>): Record<string, unknown> {
  return { ...fixture(name), ...patch };
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

describe('toLogRecord', () => {
  it('maps a failed Entra ID logon to exactly these columns', () => {
    const raw = fixture('login-failed-aad.json');
    const record = mapValid(raw);
    assert.deepEqual(sent(record), {
      ActivityId: '0d5c3a7e9b1f46c28a4e7b3d2f1c0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a',
      ActivityTime: '2021-07-13T17:26:24.418Z',
      CreatedTime: '2021-07-13T17:30:22.850Z',
      AppId: '20893',
      AppName: 'Microsoft Exchange Online',
      SourceAppId: '11161',
      EventType: 'EVENT_CATEGORY_FAILED_LOGIN',
      EventTypeValue: 'EVENT_AAD_LOGIN_FAILED',
      ActionType: 'OAuth2:Token',
      Description: 'Failed log on (Failure message: Error validating credentials due to invalid username or password.)',
      Severity: 'INFO',
      UserName: 'megan.bowen@contoso.com',
      ActorName: 'Megan Bowen',
      IpAddress: '203.0.113.24',
      CountryCode: 'DE',
      City: 'frankfurt am main',
      UserAgent: ';;Python Requests 2.25;',
      ObjectName: 'Office 365 Exchange Online',
      IsSuccess: false,
      ResultMessage: 'Error validating credentials due to invalid username or password.',
      RawDataJson: JSON.stringify(raw['rawDataJson']),
      EventObjectsJson: JSON.stringify((raw['mainInfo'] as Record<string, unknown>)['eventObjects']),
      LocationJson: JSON.stringify(raw['location']),
      UserAgentJson: JSON.stringify(raw['userAgent']),
      DescriptionMetadataJson: JSON.stringify(raw['description_metadata']),
      EntityDataJson: JSON.stringify(raw['entityData']),
    });
  });

  it('maps a successful logon with the user name, success and non-ASCII location', () => {
    const record = mapValid(fixture('login-success-aad.json'));
    assert.equal(record.UserName, 'juergen.mueller@contoso.com');
    assert.equal(record.ActorName, 'Jürgen Müller');
    assert.equal(record.City, 'München');
    assert.equal(record.IsSuccess, true);
    assert.equal(record.ResultMessage, undefined);
    assert.equal(record.EventType, 'EVENT_CATEGORY_LOGIN');
    assert.equal(record.ActivityTime, '2023-11-14T22:13:20.000Z');
    assert.equal(record.CreatedTime, '2023-11-14T22:15:23.456Z');
  });

  it('maps a OneDrive record whose entityData is an object with nulls', () => {
    const raw = fixture('onedrive-file-previewed.json');
    const record = mapValid(raw);
    assert.equal(record.AppId, '15600');
    assert.equal(record.AppName, 'Microsoft OneDrive for Business');
    assert.equal(record.ActionType, 'FilePreviewed');
    assert.equal(record.ObjectName, 'https://contoso-my.sharepoint.com/personal/alex_wilber_contoso_com/');
    assert.equal(record.UserAgent, 'OneDriveMpc-Transform_Thumbnail/1.0');
    assert.equal(record.IsSuccess, undefined);
    assert.equal(record.ActivityTime, '2020-07-18T18:18:33.000Z');
    assert.equal(record.CreatedTime, '2020-07-18T18:23:06.840Z');
    assert.ok(record.EntityDataJson !== undefined);
    assert.deepEqual(JSON.parse(record.EntityDataJson), raw['entityData']);
    assert.match(record.EntityDataJson, /"1":null/);
  });

  it('maps a SharePoint download with Japanese names and the file as ObjectName', () => {
    const record = mapValid(fixture('sharepoint-file-downloaded.json'));
    assert.equal(record.ObjectName, '見積書_2024.xlsx');
    assert.equal(record.ActorName, '佐藤 花子');
    assert.equal(record.City, '東京');
    assert.equal(record.Description, 'Download file: file 見積書_2024.xlsx');
    assert.equal(record.EventType, 'EVENT_CATEGORY_DOWNLOAD_FILE');
    assert.ok(record.RawDataJson !== undefined);
    assert.equal((JSON.parse(record.RawDataJson) as { SourceFileName?: unknown }).SourceFileName, '見積書_2024.xlsx');
  });

  it('maps an Exchange admin command and reads its result from rawDataJson.ResultStatus', () => {
    const record = mapValid(fixture('exchange-admin-set-mailbox.json'));
    assert.equal(record.ActionType, 'Set-Mailbox');
    assert.equal(record.UserName, 'admin@contoso.onmicrosoft.com');
    assert.equal(record.ObjectName, 'Adele Vance');
    assert.equal(record.IsSuccess, true);
    assert.ok(record.RawDataJson !== undefined);
    assert.deepEqual((JSON.parse(record.RawDataJson) as { Parameters: unknown[] }).Parameters[1], {
      Name: 'ForwardingSmtpAddress',
      Value: 'smtp:archive@fabrikam.example',
    });
  });

  it('keeps rawDataJson keys that differ only by case, inside the JSON string', () => {
    const record = mapValid(fixture('azure-vm-write-case-keys.json'));
    assert.ok(record.RawDataJson !== undefined);
    const raw = JSON.parse(record.RawDataJson) as Record<string, unknown>;
    assert.equal(raw['Level'], 'Informational');
    assert.equal(raw['level'], 'Information');
    assert.equal(raw['EventName'], 'EndRequest');
    assert.deepEqual(raw['eventName'], { value: 'EndRequest', localizedValue: 'End request' });
    assert.equal(record.AppName, 'Microsoft Azure');
    assert.equal(record.ObjectName, 'vm-build-01');
    assert.equal(record.IsSuccess, undefined);
  });

  it('maps an AWS activity with a CloudTrail record in rawDataJson', () => {
    const record = mapValid(fixture('aws-iam-create-user.json'));
    assert.equal(record.AppId, '11599');
    assert.equal(record.ActionType, 'CreateUser');
    assert.equal(record.UserName, 'arn:aws:iam::123456789012:user/ops-admin');
    assert.equal(record.UserAgent, 'aws-cli/2.13.0 Python/3.11.4 Linux/6.2.0');
    assert.ok(record.RawDataJson !== undefined);
    assert.equal((JSON.parse(record.RawDataJson) as { eventName?: unknown }).eventName, 'CreateUser');
  });

  it('maps a record with only the core fields to the three core columns', () => {
    assert.deepEqual(sent(mapValid(fixture('minimal-core-only.json'))), {
      ActivityId: '5e1f0c2d3b4a596877665544',
      ActivityTime: '2023-11-14T23:36:39.999Z',
      CreatedTime: '2023-11-14T23:36:40.001Z',
    });
  });

  it('leaves out every optional column whose input has the wrong type', () => {
    assert.deepEqual(sent(mapValid(fixture('wrong-types-optional.json'))), {
      ActivityId: 'wrong-types-0001',
      ActivityTime: '2023-11-14T23:53:10.000Z',
      CreatedTime: '2023-11-14T23:53:20.000Z',
    });
  });

  it('falls back to failedUserData.userName when user.userName is empty', () => {
    const record = mapValid(
      withField('minimal-core-only.json', { user: { userName: '' }, failedUserData: { userName: 'x@contoso.com' } }),
    );
    assert.equal(record.UserName, 'x@contoso.com');
  });

  it('uses a string top-level userAgent when device.userAgent is missing', () => {
    const record = mapValid(withField('minimal-core-only.json', { userAgent: 'curl/8.0' }));
    assert.equal(record.UserAgent, 'curl/8.0');
    assert.equal(record.UserAgentJson, undefined);
  });

  it('takes ActionType from actionType when present, else from mainInfo.rawOperationName', () => {
    const both = { actionType: 'FileDownloaded', mainInfo: { rawOperationName: 'Other' } };
    assert.equal(mapValid(withField('minimal-core-only.json', both)).ActionType, 'FileDownloaded');
    const only = { mainInfo: { rawOperationName: 'FileUploaded' } };
    assert.equal(mapValid(withField('minimal-core-only.json', only)).ActionType, 'FileUploaded');
  });

  it('names the first event object that has a non-empty name', () => {
    const mainInfo = { eventObjects: [null, 'x', { id: 'a' }, { name: '' }, { name: 'report.pdf' }, { name: 'b' }] };
    assert.equal(mapValid(withField('minimal-core-only.json', { mainInfo })).ObjectName, 'report.pdf');
  });

  it('keeps non-ASCII text and lone surrogates, and the serialized row is valid UTF-8', () => {
    const record = mapValid(fixture('edge-non-ascii-lone-surrogate.json'));
    assert.equal(record.Description, 'Größe geändert: 日本語のファイル 📄✅ — broken \ud800 surrogate');
    assert.equal(record.UserName, 'zoë.ångström@contoso.com');
    assert.equal(record.City, '大阪');
    const json = JSON.stringify(record);
    assert.ok(json.includes('\\ud800'), 'a lone high surrogate is escaped');
    assert.ok(json.includes('\\udc00'), 'a lone low surrogate is escaped');
    assert.ok(json.includes('😀'), 'a surrogate pair is written as the character');
    const bytes = Buffer.from(json, 'utf8');
    assert.equal(STRICT_UTF8.decode(bytes), json);
    assert.deepEqual(JSON.parse(bytes.toString('utf8')), sent(record));
  });

  it('passes LogRecordSchema on every fixture and uses only listed columns', () => {
    const names = new Set<string>(LOG_RECORD_COLUMNS.map((column) => column.name));
    for (const name of FIXTURE_NAMES) {
      const record = mapValid(fixture(name));
      for (const key of Object.keys(sent(record))) assert.ok(names.has(key), `${name}: unlisted column ${key}`);
    }
  });

  it('maps a checked record directly, as mapActivity does', () => {
    const raw = fixture('login-success-aad.json');
    assert.equal(McasActivityCoreSchema.safeParse(raw).success, true);
    assert.deepEqual(toLogRecord(raw as CheckedActivity), mapActivity(raw).record);
  });

  it('keeps entityData whole as an array too, and leaves out one that is neither object nor array', () => {
    const raw = fixture('sharepoint-file-downloaded.json');
    assert.ok(Array.isArray(raw['entityData']));
    assert.equal(mapValid(raw).EntityDataJson, JSON.stringify(raw['entityData']));
    assert.equal(mapValid(withField('minimal-core-only.json', { entityData: 'none' })).EntityDataJson, undefined);
  });

  it('reads appId and srcAppId as numbers or strings', () => {
    const record = mapValid(withField('minimal-core-only.json', { appId: '11161', srcAppId: 20893 }));
    assert.equal(record.AppId, '11161');
    assert.equal(record.SourceAppId, '20893');
  });

  it('keeps a userAgent object as JSON and only a string one as UserAgent', () => {
    const asObject = mapValid(withField('minimal-core-only.json', { userAgent: { os: 'OTHER' } }));
    assert.equal(asObject.UserAgent, undefined);
    assert.equal(asObject.UserAgentJson, '{"os":"OTHER"}');
    const asArray = mapValid(withField('minimal-core-only.json', { userAgent: ['curl/8.0'] }));
    assert.equal(asArray.UserAgent, undefined);
    assert.equal(asArray.UserAgentJson, undefined);
  });

  it('reads nested fields only inside objects of the documented type', () => {
    const record = mapValid(
      withField('minimal-core-only.json', {
        user: [{ userName: 'in-an-array' }],
        failedUserData: { userName: 7 },
        resolvedActor: 'Megan',
        device: { clientIP: ['192.0.2.1'], userAgent: null },
        mainInfo: {
          activityResult: [{ message: 'in-an-array' }],
          eventObjects: { 0: { name: 'keyed' } },
          rawOperationName: 5,
        },
        location: [{ countryCode: 'DE' }],
      }),
    );
    assert.deepEqual(sent(record), {
      ActivityId: '5e1f0c2d3b4a596877665544',
      ActivityTime: '2023-11-14T23:36:39.999Z',
      CreatedTime: '2023-11-14T23:36:40.001Z',
    });
  });

  it('takes ActionType from rawOperationName when actionType has the wrong type', () => {
    const record = mapValid(
      withField('minimal-core-only.json', { actionType: 5, mainInfo: { rawOperationName: 'Op' } }),
    );
    assert.equal(record.ActionType, 'Op');
  });

  it('keeps the source objects in the JSON columns with every key, in their order', () => {
    const raw = fixture('azure-vm-write-case-keys.json');
    const record = mapValid(raw);
    assert.equal(record.RawDataJson, JSON.stringify(raw['rawDataJson']));
    assert.equal(record.LocationJson, JSON.stringify(raw['location']));
    const keys = Object.keys(JSON.parse(record.RawDataJson) as Record<string, unknown>);
    assert.deepEqual(keys.slice(0, 4), ['Level', 'level', 'EventName', 'eventName']);
  });
});

describe('toLogRecord truncation', () => {
  const HUNDRED_KB = 100 * 1024;

  it('cuts a 100 KB ASCII description to exactly MAX_FIELD_BYTES and names the column', () => {
    const long = 'a'.repeat(HUNDRED_KB);
    const record = mapValid(withField('login-failed-aad.json', { description: long }));
    assert.equal(MAX_FIELD_BYTES, 32_000);
    assert.equal(record.Description, long.slice(0, MAX_FIELD_BYTES));
    assert.equal(record.TruncatedFields, 'Description');
  });

  it('counts bytes, not characters, and never splits a multi-byte character', () => {
    const record = mapValid(withField('minimal-core-only.json', { description: '日'.repeat(HUNDRED_KB) }));
    assert.ok(record.Description !== undefined);
    assert.equal(record.Description.length, Math.floor(MAX_FIELD_BYTES / 3));
    assert.equal(utf8ByteLength(record.Description), 31_998);
    assert.equal(record.TruncatedFields, 'Description');
  });

  it('never splits a surrogate pair', () => {
    const record = mapValid(withField('minimal-core-only.json', { description: `a${'😀'.repeat(20_000)}` }));
    const cut = record.Description;
    assert.ok(cut !== undefined);
    assert.equal(utf8ByteLength(cut), 1 + 7_999 * 4);
    assert.equal(cut.at(-1), '\ude00', 'ends on the low half of a pair');
    assert.equal(cut.at(-2), '\ud83d');
    assert.equal(STRICT_UTF8.decode(Buffer.from(cut, 'utf8')), cut);
  });

  it('cuts a JSON column, which then no longer parses, and lists every cut column in column order', () => {
    const raw = withField('login-failed-aad.json', {
      rawDataJson: { Level: 'x', level: 'y', Body: 'ü'.repeat(HUNDRED_KB) },
      description: 'd'.repeat(HUNDRED_KB),
    });
    const record = mapValid(raw);
    const rawDataJson = record.RawDataJson;
    assert.ok(rawDataJson !== undefined);
    assert.ok(rawDataJson.startsWith('{"Level":"x","level":"y","Body":"üü'));
    assert.ok(utf8ByteLength(rawDataJson) <= MAX_FIELD_BYTES);
    assert.ok(utf8ByteLength(rawDataJson) >= MAX_FIELD_BYTES - 1);
    assert.throws(() => JSON.parse(rawDataJson), SyntaxError);
    assert.equal(record.TruncatedFields, 'Description,RawDataJson');
  });

  it('leaves values of exactly MAX_FIELD_BYTES alone', () => {
    const exact = 'é'.repeat(MAX_FIELD_BYTES / 2);
    const record = mapValid(withField('minimal-core-only.json', { description: exact }));
    assert.equal(record.Description, exact);
    assert.equal(record.TruncatedFields, undefined);
  });

  it('cuts an over-long _id too', () => {
    const record = mapValid(withField('minimal-core-only.json', { _id: 'i'.repeat(40_000) }));
    assert.equal(record.ActivityId?.length, MAX_FIELD_BYTES);
    assert.equal(record.TruncatedFields, 'ActivityId');
  });
});

describe('truncateUtf8', () => {
  it('returns the same string when it fits', () => {
    const value = 'ü'.repeat(10);
    assert.equal(truncateUtf8(value, 20), value);
    assert.equal(truncateUtf8('', 0), '');
  });

  it('cuts at the last whole character within the byte budget', () => {
    assert.equal(truncateUtf8('aüb', 2), 'a');
    assert.equal(truncateUtf8('aüb', 3), 'aü');
    assert.equal(truncateUtf8('日本語', 8), '日本');
    assert.equal(truncateUtf8('x😀y', 4), 'x');
    assert.equal(truncateUtf8('x😀y', 5), 'x😀');
  });

  it('counts a lone surrogate as the three bytes it is encoded as', () => {
    assert.equal(utf8ByteLength('\ud800'), 3);
    assert.equal(truncateUtf8('\ud800ab', 4), '\ud800a');
    assert.equal(truncateUtf8('a\udc00\ud800', 4), 'a\udc00');
  });

  it('agrees with Buffer.byteLength on the fast path and the slow path', () => {
    assert.equal(fitsUtf8('a'.repeat(10), 30), true);
    assert.equal(fitsUtf8('日'.repeat(10), 30), true);
    assert.equal(fitsUtf8('日'.repeat(11), 32), false);
    assert.equal(fitsUtf8('a'.repeat(32), 32), true);
  });
});

describe('deriveIsSuccess', () => {
  const base = { _id: 'x', created: 1, timestamp: 1 };
  const cases: [string, Record<string, unknown>, boolean | undefined][] = [
    ['activityResult.isSuccess true', { mainInfo: { activityResult: { isSuccess: true } } }, true],
    ['activityResult.isSuccess false', { mainInfo: { activityResult: { isSuccess: false } } }, false],
    ['failed-logon category', { eventTypeName: 'EVENT_CATEGORY_FAILED_LOGIN' }, false],
    ['failed-logon generic type', { genericEventType: 'ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN' }, false],
    ['failed-logon description id', { description_id: 'EVENT_DESCRIPTION_FAILED_LOGIN' }, false],
    ['failedLogin main type', { mainInfo: { type: 'failedLogin' } }, false],
    ['LoginStatus Failure', { rawDataJson: { LoginStatus: 'Failure' } }, false],
    ['LoginStatus Success', { rawDataJson: { LoginStatus: 'Success' } }, true],
    ['ResultStatus Succeeded', { rawDataJson: { ResultStatus: 'Succeeded' } }, true],
    ['ResultStatus False', { rawDataJson: { ResultStatus: 'False' } }, false],
    ['ResultStatus PartiallySucceeded', { rawDataJson: { ResultStatus: 'PartiallySucceeded' } }, undefined],
    ['logon category', { eventTypeName: 'EVENT_CATEGORY_LOGIN' }, true],
    [
      'logon category with a failed status',
      { eventTypeName: 'EVENT_CATEGORY_LOGIN', rawDataJson: { LoginStatus: 'Failure' } },
      false,
    ],
    [
      'a description saying failed',
      { description: 'Failed to sync', eventTypeName: 'EVENT_CATEGORY_UNSPECIFIED' },
      undefined,
    ],
    ['nothing known', {}, undefined],
    [
      'an isSuccess that is not a boolean',
      { eventTypeName: 'EVENT_CATEGORY_LOGIN', mainInfo: { activityResult: { isSuccess: 'false' } } },
      true,
    ],
    ['an activityResult that is an array', { mainInfo: { activityResult: [{ isSuccess: false }] } }, undefined],
    ['a failed-logon category in an array', { eventTypeName: ['EVENT_CATEGORY_FAILED_LOGIN'] }, undefined],
    ['a mainInfo type that is not a string', { mainInfo: { type: ['failedLogin'] } }, undefined],
    ['a rawDataJson that is an array', { rawDataJson: [{ LoginStatus: 'Failure' }] }, undefined],
    ['a LoginStatus that is not a string', { rawDataJson: { LoginStatus: false, ResultStatus: 'Failed' } }, false],
  ];
  for (const [name, patch, expected] of cases) {
    it(`gives ${String(expected)} for ${name}`, () => {
      const activity: CheckedActivity = { ...base, ...patch };
      assert.equal(deriveIsSuccess(activity), expected);
    });
  }
});

describe('mapActivity on records that fail the core schema', () => {
  const core = { _id: 'bad-0001', created: 1700005000001, timestamp: 1700004999999 };
  const ACTIVITY_TIME = '2023-11-14T23:36:39.999Z';
  const CREATED_TIME = '2023-11-14T23:36:40.001Z';
  interface FlaggedCase {
    name: string;
    input: unknown;
    id?: string;
    issue: RegExp;
    activityTime?: string;
    createdTime?: string;
  }
  const cases: FlaggedCase[] = [
    {
      name: 'no _id',
      input: { created: core.created, timestamp: core.timestamp },
      issue: /^_id: /,
      activityTime: ACTIVITY_TIME,
      createdTime: CREATED_TIME,
    },
    {
      name: 'created as a digit string',
      input: { ...core, created: '1700005000001' },
      id: 'bad-0001',
      issue: /^created: .*string/,
      activityTime: ACTIVITY_TIME,
      createdTime: CREATED_TIME,
    },
    {
      name: 'a negative timestamp',
      input: { ...core, timestamp: -5 },
      id: 'bad-0001',
      issue: /^timestamp: /,
      createdTime: CREATED_TIME,
    },
    {
      name: 'created as an ISO string',
      input: { ...core, created: '2023-11-14T23:36:40Z' },
      id: 'bad-0001',
      issue: /^created: /,
      activityTime: ACTIVITY_TIME,
    },
    { name: 'null', input: null, issue: /^\(root\): .*null/ },
    { name: 'an array', input: [core], issue: /^\(root\): .*array/ },
    { name: 'a number', input: 42, issue: /^\(root\): .*number/ },
    { name: 'a string', input: 'oops', issue: /^\(root\): / },
    {
      name: 'an empty _id',
      input: { ...core, _id: '' },
      issue: /^_id: /,
      activityTime: ACTIVITY_TIME,
      createdTime: CREATED_TIME,
    },
  ];

  for (const { name, input, id, issue, activityTime, createdTime } of cases) {
    it(`flags ${name} with its id, issues and raw JSON`, () => {
      const result = mapActivity(input);
      assert.equal(result.flagged, true);
      assert.equal(result.id, id);
      assert.ok(result.issues && result.issues.length > 0);
      assert.match(result.issues[0] ?? '', issue);
      LogRecordSchema.parse(result.record);
      assert.deepEqual(
        sent(result.record),
        JSON.parse(
          JSON.stringify({
            ActivityId: id,
            ActivityTime: activityTime,
            CreatedTime: createdTime,
            IsFlagged: true,
            ValidationIssues: result.issues.join('; '),
            RawRecordJson: JSON.stringify(input),
          }),
        ),
      );
    });
  }

  it('flags undefined with the text "undefined" as its raw record', () => {
    const result = mapActivity(undefined);
    assert.equal(result.flagged, true);
    assert.equal(result.record.RawRecordJson, 'undefined');
    assert.equal(result.record.IsFlagged, true);
  });

  it('truncates the raw JSON of a huge flagged record and says so', () => {
    const input = { created: 'never', blob: '日'.repeat(50_000) };
    const result = mapActivity(input);
    assert.equal(result.flagged, true);
    const rawRecordJson = result.record.RawRecordJson;
    assert.ok(rawRecordJson !== undefined);
    assert.ok(utf8ByteLength(rawRecordJson) <= MAX_FIELD_BYTES);
    assert.ok(rawRecordJson.startsWith('{"created":"never","blob":"日日'));
    assert.equal(result.record.TruncatedFields, 'RawRecordJson');
    LogRecordSchema.parse(result.record);
  });

  it('builds a flagged row directly from issues', () => {
    const record = toFlaggedRecord({ _id: 'abc', timestamp: 'x' }, ['timestamp: bad', 'created: missing']);
    assert.deepEqual(sent(record), {
      ActivityId: 'abc',
      IsFlagged: true,
      ValidationIssues: 'timestamp: bad; created: missing',
      RawRecordJson: '{"_id":"abc","timestamp":"x"}',
    });
  });
});

describe('LOG_RECORD_COLUMNS', () => {
  // Reserved for custom tables; Log Analytics compares column names ignoring case.
  const RESERVED = ['id', 'tenantid', 'type', 'title', 'uniqueid', '_resourceid', '_subscriptionid', 'timegenerated'];

  it('has legal, unique, unreserved names that stay within 45 characters with a type suffix', () => {
    const lower = LOG_RECORD_COLUMNS.map((column) => column.name.toLowerCase());
    assert.equal(new Set(lower).size, lower.length);
    for (const { name, type, description } of LOG_RECORD_COLUMNS) {
      assert.match(name, /^[A-Za-z][A-Za-z0-9_]*$/);
      assert.ok(name.length + '_s'.length <= 45, name);
      assert.ok(!RESERVED.includes(name.toLowerCase()), name);
      assert.ok(['string', 'datetime', 'boolean'].includes(type), `${name}: ${type}`);
      assert.ok(description.length > 0);
    }
    assert.ok(lower.length < 500, 'a custom table has at most 500 columns');
  });

  it('backs a strict LogRecordSchema', () => {
    assert.equal(LogRecordSchema.safeParse({ ActivityId: 'x', Id: 'x' }).success, false);
    assert.equal(LogRecordSchema.safeParse({ ActivityTime: '2023-11-14 23:36:40' }).success, false);
    assert.equal(LogRecordSchema.safeParse({ IsSuccess: 'true' }).success, false);
    assert.equal(LogRecordSchema.safeParse({ Description: 'a'.repeat(MAX_FIELD_BYTES + 1) }).success, false);
    const valid = { ActivityTime: '2023-11-14T23:36:40.001Z', IsFlagged: true };
    assert.equal(LogRecordSchema.safeParse(valid).success, true);
  });
});

describe('mapActivity on random input', () => {
  /** A small seeded PRNG, so every run sees the same records. */
  const prng = createRng;

  const KEYS = [
    '_id',
    'created',
    'timestamp',
    'appId',
    'appName',
    'srcAppId',
    'eventType',
    'eventTypeName',
    'eventTypeValue',
    'genericEventType',
    'actionType',
    'description',
    'description_id',
    'description_metadata',
    'severity',
    'user',
    'failedUserData',
    'resolvedActor',
    'device',
    'location',
    'userAgent',
    'mainInfo',
    'entityData',
    'rawDataJson',
    'userName',
    'name',
    'clientIP',
    'countryCode',
    'city',
    'eventObjects',
    'activityResult',
    'isSuccess',
    'message',
    'rawOperationName',
    'type',
    'LoginStatus',
    'ResultStatus',
    'Level',
    'level',
    '__proto__',
    'constructor',
    '0',
    '1',
  ];
  const PIECES = ['a', 'ü', '日', '😀', '\ud800', '\udc00', '"', '\\', '\n', '\u0000', ' ', 'EVENT_CATEGORY_LOGIN'];

  /** One of `items`, chosen with one draw of `next`. */
  function pick<T>(items: readonly T[], next: () => number): T {
    const item = items[Math.floor(next() * items.length)];
    assert.ok(item !== undefined);
    return item;
  }

  function randomString(next: () => number): string {
    const long = next() < 0.03;
    const count = long ? 8_000 + Math.floor(next() * 12_000) : Math.floor(next() * 12);
    let out = '';
    for (let i = 0; i < count; i++) out += pick(PIECES, next);
    return out;
  }

  function randomValue(next: () => number, depth: number): unknown {
    const roll = next();
    if (depth > 3 || roll < 0.1) return null;
    if (roll < 0.2) return next() < 0.5;
    if (roll < 0.35) return next() < 0.5 ? Math.floor(next() * 2e12) - 1e11 : next() * 1e6;
    if (roll < 0.6) return randomString(next);
    if (roll < 0.75) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
    return randomObject(next, depth + 1);
  }

  function randomObject(next: () => number, depth: number): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    const size = Math.floor(next() * 6);
    for (let i = 0; i < size; i++) {
      const key = pick(KEYS, next);
      // defineProperty, so that "__proto__" becomes an own key as JSON.parse would make it.
      const value = randomValue(next, depth);
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return object;
  }

  function randomRecord(next: () => number): unknown {
    const roll = next();
    if (roll < 0.05) return randomValue(next, 4);
    const record = randomObject(next, 0);
    // Most records get a valid core so the mapping itself is exercised, not only the flagged path.
    if (roll < 0.8) {
      record['_id'] = randomString(next) || 'id';
      record['created'] = Math.floor(next() * 2e12);
      record['timestamp'] = Math.floor(next() * 2e12);
    }
    // Round-trip through JSON text: the mapping only ever sees what JSON.parse makes.
    return JSON.parse(JSON.stringify(record));
  }

  /** The id column is the id, or its longest prefix within both field limits (UTF-8 bytes, and escaped JSON bytes). */
  function assertIdKept(id: string, column: string | undefined): void {
    assert.ok(column !== undefined && id.startsWith(column));
    assert.ok(Buffer.byteLength(JSON.stringify(column)) - 2 <= MAX_SERIALIZED_FIELD_BYTES);
    if (
      id === truncateUtf8(id, MAX_FIELD_BYTES) &&
      Buffer.byteLength(JSON.stringify(id)) - 2 <= MAX_SERIALIZED_FIELD_BYTES
    ) {
      assert.equal(column, id);
    }
  }

  it('never throws, always yields a row that parses, and flags with id, issues and raw JSON', () => {
    const next = prng(20_240_611);
    let flagged = 0;
    let mapped = 0;
    for (let i = 0; i < 400; i++) {
      const input = randomRecord(next);
      const result = mapActivity(input);
      const parsedRow = LogRecordSchema.safeParse(result.record);
      assert.equal(parsedRow.success, true, `record ${i}: ${JSON.stringify(parsedRow.error?.issues)}`);
      const body = Buffer.from(JSON.stringify(result.record), 'utf8');
      STRICT_UTF8.decode(body);
      if (result.flagged) {
        flagged++;
        assert.equal(result.record.IsFlagged, true);
        assert.ok(result.issues && result.issues.length > 0);
        assert.equal(typeof result.record.ValidationIssues, 'string');
        assert.equal(typeof result.record.RawRecordJson, 'string');
        if (result.id !== undefined) assertIdKept(result.id, result.record.ActivityId);
      } else {
        mapped++;
        assert.equal(result.record.IsFlagged, undefined);
        assert.ok(result.id !== undefined);
        assertIdKept(result.id, result.record.ActivityId);
        assert.match(result.record.ActivityTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    }
    assert.ok(flagged > 20, `only ${flagged} flagged`);
    assert.ok(mapped > 200, `only ${mapped} mapped`);
  });
});
