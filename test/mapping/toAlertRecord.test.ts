// Tests of the alert schema and the alert -> Log Analytics row mapping: exact values from documented and realistic
// fixtures, the code tables, entity lists, truncation, flagged rows, and a mutation sweep that nothing throws.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import { createRng } from '../../emulators/activityGenerator.js';
import { generateAlerts } from '../../emulators/alertGenerator.js';
import { ALERT_RECORD_COLUMNS, AlertRecordSchema, type AlertRecord } from '../../src/mapping/AlertRecord.js';
import { LOG_RECORD_COLUMNS } from '../../src/mapping/LogRecord.js';
import { mapAlert, toAlertRecord, toFlaggedAlertRecord } from '../../src/mapping/toAlertRecord.js';
import { MAX_FIELD_BYTES, truncateUtf8, utf8ByteLength } from '../../src/mapping/truncate.js';
import {
  ALERT_INTENTS,
  ALERT_RESOLUTION_STATUSES,
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  ALERT_STORIES,
  McasAlertSchema,
} from '../../src/mcas/alertSchema.js';
import { MAX_EPOCH_MS } from '../../src/mcas/schema.js';

const FIXTURES = new URL('../../../test/fixtures/alerts/', import.meta.url);
const FIXTURE_NAMES = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
}

function withFields(name: string, patch: Record<string, unknown>): Record<string, unknown> {
  return { ...fixture(name), ...patch };
}

/** Maps an alert that must pass the core schema, and checks the output shape. */
function mapValid(raw: unknown): AlertRecord {
  const result = mapAlert(raw);
  assert.equal(result.flagged, false, `unexpectedly flagged: ${JSON.stringify(result.issues)}`);
  AlertRecordSchema.parse(result.record);
  return result.record;
}

/** The row as it will be sent: undefined columns dropped. */
function sent(record: AlertRecord): Record<string, unknown> {
  return JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const CORE = { _id: '65a1c2d3e4f5061728394a5e', timestamp: 1705065600000 };

describe('McasAlertSchema', () => {
  it('accepts every fixture alert', () => {
    assert.ok(FIXTURE_NAMES.length >= 8);
    for (const name of FIXTURE_NAMES) {
      const result = McasAlertSchema.safeParse(fixture(name));
      assert.equal(result.success, true, `${name}: ${JSON.stringify(result.error?.issues)}`);
    }
  });

  it('keeps fields it does not know about', () => {
    const parsed = McasAlertSchema.parse(fixture('honeytoken-activity-docs.json'));
    assert.equal(parsed['idValue'], 15795464);
    assert.equal(parsed['resolveTime'], '2021-05-13T14:02:34.904Z');
  });

  it('turns a wrong type in any optional field into undefined instead of failing the alert', () => {
    const result = McasAlertSchema.safeParse(fixture('wrong-types-optional.json'));
    assert.equal(result.success, true, JSON.stringify(result.error?.issues));
    const parsed = result.data;
    for (const key of [
      'title',
      'description',
      'severityValue',
      'statusValue',
      'resolutionStatusValue',
      'entities',
      'stories',
      'evidence',
      'intent',
      'isPreview',
      'threatScore',
      'URL',
      'policy',
    ] as const) {
      assert.equal(parsed[key], undefined, key);
    }
    assert.deepEqual(parsed['newFieldFromTheApi'], { kept: true });
  });

  it('rejects an alert without a non-empty string _id', () => {
    for (const _id of [undefined, '', 42, null]) {
      const result = McasAlertSchema.safeParse({ ...CORE, _id });
      assert.deepEqual(
        result.error?.issues.map((issue) => issue.path.join('.')),
        ['_id'],
        String(_id),
      );
    }
  });

  it('rejects a timestamp that is not epoch milliseconds with a four-digit-year ISO form', () => {
    for (const timestamp of [undefined, '1705065600000', -1, 1.5, MAX_EPOCH_MS + 1, '2024-01-12T13:20:00Z']) {
      const result = McasAlertSchema.safeParse({ ...CORE, timestamp });
      assert.deepEqual(
        result.error?.issues.map((issue) => issue.path.join('.')),
        ['timestamp'],
        String(timestamp),
      );
    }
    assert.equal(McasAlertSchema.safeParse({ ...CORE, timestamp: MAX_EPOCH_MS }).success, true);
  });
});

describe('the documented alert codes', () => {
  it('match the api-alerts properties table', () => {
    assert.deepEqual(Object.entries(ALERT_SEVERITIES), [
      ['0', 'Low'],
      ['1', 'Medium'],
      ['2', 'High'],
      ['3', 'Informational'],
    ]);
    assert.deepEqual(Object.values(ALERT_STATUSES), ['Unread', 'Read', 'Archived']);
    assert.deepEqual(Object.values(ALERT_RESOLUTION_STATUSES), [
      'Open',
      'Dismissed',
      'Resolved',
      'FalsePositive',
      'Benign',
      'TruePositive',
    ]);
    assert.deepEqual(Object.keys(ALERT_STORIES), ['0', '1', '2', '3', '4', '5', '7', '8']);
    assert.equal(Object.keys(ALERT_INTENTS).length, 14);
    assert.equal(ALERT_INTENTS[2], 'INITIAL_ACCESS');
    assert.equal(ALERT_INTENTS[13], 'IMPACT');
  });
});

describe('ALERT_RECORD_COLUMNS', () => {
  // Reserved for custom tables, and the standard columns of Data Collector and DCR tables (test/sentinel/kusto.ts).
  const TAKEN = [
    'id',
    'TenantId',
    'Type',
    'Title',
    'UniqueId',
    '_ResourceId',
    '_SubscriptionId',
    'TimeGenerated',
    'SourceSystem',
    'MG',
    'ManagementGroupName',
    'Computer',
    'RawData',
    '_BilledSize',
    '_IsBillable',
    '_TimeReceived',
    '_ItemId',
  ].map((name) => name.toLowerCase());

  it('has legal names, unique ignoring case, none reserved or standard', () => {
    const lower = ALERT_RECORD_COLUMNS.map((column) => column.name.toLowerCase());
    assert.equal(new Set(lower).size, lower.length);
    for (const column of ALERT_RECORD_COLUMNS) {
      assert.match(column.name, /^[A-Za-z][A-Za-z0-9_]{0,44}$/, column.name);
      assert.ok(!TAKEN.includes(column.name.toLowerCase()), `${column.name} is taken`);
      assert.ok(column.description.length > 0, column.name);
    }
  });

  it('ends with the same truncation and flagged-row columns as the activity table', () => {
    assert.deepEqual(ALERT_RECORD_COLUMNS.slice(-4), LOG_RECORD_COLUMNS.slice(-4));
    assert.deepEqual(
      LOG_RECORD_COLUMNS.slice(-4).map((column) => column.name),
      ['TruncatedFields', 'IsFlagged', 'ValidationIssues', 'RawRecordJson'],
    );
  });

  it('is used in full: the fixtures and a flagged row fill every column', () => {
    const filled = new Set<string>();
    for (const name of FIXTURE_NAMES) for (const key of Object.keys(sent(mapValid(fixture(name))))) filled.add(key);
    for (const key of Object.keys(sent(mapAlert({ timestamp: 1 }).record))) filled.add(key);
    filled.add('TruncatedFields'); // filled by the truncation tests
    assert.deepEqual([...filled].sort(), ALERT_RECORD_COLUMNS.map((column) => column.name).sort());
  });

  it('has a strict row schema: an unknown column, a wrong type or a non-ISO time fails', () => {
    assert.equal(AlertRecordSchema.safeParse({ AlertId: 'a', AlertTime: '2024-01-12T13:20:00.000Z' }).success, true);
    assert.equal(AlertRecordSchema.safeParse({ AlertId: 'a', Title: 'x' }).success, false);
    assert.equal(AlertRecordSchema.safeParse({ IsPreview: 'false' }).success, false);
    assert.equal(AlertRecordSchema.safeParse({ ThreatScore: 81 }).success, false);
    assert.equal(AlertRecordSchema.safeParse({ AlertTime: '2024-01-12T13:20:00Z' }).success, false);
    assert.equal(AlertRecordSchema.safeParse({ Description: 'x'.repeat(MAX_FIELD_BYTES + 1) }).success, false);
  });
});

describe('toAlertRecord', () => {
  it('maps the documented list example to exactly these columns', () => {
    const raw = fixture('honeytoken-activity-docs.json');
    assert.deepEqual(sent(mapValid(raw)), {
      AlertId: '603f704aaf7417985bbf3b22',
      AlertTime: '2021-05-25T11:25:16.475Z',
      AlertTitle: 'Honeytoken activity',
      Description:
        'Contoso user performed 11 suspicious activities MITRE Technique used Account Discovery (T1087) and ' +
        'subtechnique used Domain Account (T1087.002)',
      Severity: 'Medium',
      Status: 'Read',
      ResolutionStatus: 'Open',
      ThreatScore: '34',
      AlertUrl: 'https://contoso.portal.cloudappsecurity.com/#/alerts/603f704aaf7417985bbf3b22',
      UserNames: 'user1@contoso.com',
      AppNames: 'Active Directory',
      PolicyName: 'Honeytoken activity',
      EntitiesJson: JSON.stringify(raw['entities']),
      StoriesJson: '["THREAT_DETECTION"]',
    });
  });

  it('maps a file policy alert: one name for an account and a user with the same address, the file, the app', () => {
    const record = mapValid(fixture('file-policy-onedrive.json'));
    assert.equal(record.UserNames, 'alex.wilber@contoso.example');
    assert.equal(record.FileNames, 'image (2).png');
    assert.equal(record.AppNames, 'Microsoft OneDrive for Business');
    assert.equal(record.PolicyName, 'block png files');
    assert.equal(record.Severity, 'Low');
    assert.equal(record.Status, 'Read');
    assert.equal(record.ResolutionStatus, undefined);
    assert.equal(record.Description, "File policy 'block png files' __siteIcon__ was matched by 'image (2).png'");
    assert.equal(record.AlertTime, '2020-07-09T08:36:42.753Z');
  });

  it('maps impossible travel: the account by its principal address, both IPs, tactics, evidence, HTML kept', () => {
    const raw = fixture('impossible-travel.json');
    const record = mapValid(raw);
    assert.equal(record.UserNames, 'juergen.gross@contoso.example');
    assert.equal(record.IpAddresses, '203.0.113.24,198.51.100.7');
    assert.equal(record.AppNames, 'Office 365,Microsoft Exchange Online');
    assert.equal(record.PolicyName, 'Impossible travel');
    assert.equal(record.Severity, 'High');
    assert.equal(record.Status, 'Unread');
    assert.equal(record.IsPreview, false);
    assert.equal(record.IntentJson, '["INITIAL_ACCESS"]');
    assert.ok(record.EvidenceJson !== undefined);
    assert.deepEqual(JSON.parse(record.EvidenceJson), raw['evidence']);
    assert.match(record.Description ?? '', /^The user <b>Jürgen Groß<\/b>/);
    assert.equal(record.FileNames, undefined);
  });

  it('keeps a Japanese and emoji title, IPv6 and two file names, and the serialized row is valid UTF-8', () => {
    const record = mapValid(fixture('mass-download-non-ascii.json'));
    assert.equal(record.AlertTitle, '大量ダウンロード: 佐藤 花子 📥');
    assert.equal(record.UserNames, 'hanako.sato@contoso.example');
    assert.equal(record.IpAddresses, '2001:db8::7a1f');
    assert.equal(record.FileNames, '見積書_2024.xlsx,Quartalsbericht Q3 – Übersicht.xlsx');
    assert.equal(record.ResolutionStatus, 'TruePositive');
    assert.equal(record.StoriesJson, '["THREAT_DETECTION","DLP"]');
    assert.equal(record.IntentJson, '["COLLECTION","EXFILTRATION"]');
    const bytes = Buffer.from(JSON.stringify(record), 'utf8');
    assert.equal(STRICT_UTF8.decode(bytes), JSON.stringify(record));
  });

  it('reads Cloud Discovery user and IP entities', () => {
    const record = mapValid(fixture('cloud-discovery-anomaly.json'));
    assert.equal(record.UserNames, 'ana.nunez@contoso.example');
    assert.equal(record.IpAddresses, '192.0.2.44');
    assert.equal(record.AppNames, 'Dropbox');
    assert.equal(record.StoriesJson, '["DISCOVERY"]');
  });

  it('names Informational and Archived, keeps undocumented codes as numbers, and skips junk entities', () => {
    const raw = fixture('undocumented-codes.json');
    const record = mapValid(raw);
    assert.equal(record.Severity, 'Informational');
    assert.equal(record.Status, 'Archived');
    assert.equal(record.ResolutionStatus, '9');
    assert.equal(record.StoriesJson, '["ACCESS_CONTROL",6]');
    assert.equal(record.IntentJson, '["PERSISTENCE",42,"LATERAL_MOVEMENT",null]');
    assert.equal(record.IsPreview, true);
    assert.equal(record.ThreatScore, '12.5');
    // An empty pa falls back to the label, a user with only an id uses it; empty and numeric labels do not count.
    assert.equal(record.UserNames, 'Zoë Lefèvre,zoe.lefevre@contoso.example');
    assert.equal(record.AppNames, undefined);
    assert.equal(record.IpAddresses, undefined);
    assert.equal(record.PolicyName, undefined);
    assert.equal(record.EntitiesJson, JSON.stringify(raw['entities']));
  });

  it('maps an alert with only the core fields to the two core columns', () => {
    assert.deepEqual(sent(mapValid(fixture('minimal-core-only.json'))), {
      AlertId: '65a1c2d3e4f5061728394a5e',
      AlertTime: '2024-01-12T13:20:00.000Z',
    });
  });

  it('leaves out every optional column whose input has the wrong type', () => {
    assert.deepEqual(sent(mapValid(fixture('wrong-types-optional.json'))), {
      AlertId: 'wrong-types-alert-0001',
      AlertTime: '2024-01-12T14:20:00.000Z',
    });
  });

  it('takes the policy name from the top-level policy when no policy entity has a label', () => {
    const record = mapValid({ ...CORE, entities: [{ type: 'policyRule', id: 'x' }], policy: { label: 'From policy' } });
    assert.equal(record.PolicyName, 'From policy');
    const first = mapValid({
      ...CORE,
      entities: [
        { type: 'policy', label: 'First, with a comma' },
        { type: 'policyRule', label: 'Second' },
      ],
      policy: { label: 'Top' },
    });
    assert.equal(first.PolicyName, 'First, with a comma');
  });

  it('sends an empty entity list as [] and leaves the name columns out', () => {
    const record = mapValid({ ...CORE, entities: [], intent: [] });
    assert.equal(record.EntitiesJson, '[]');
    assert.equal(record.IntentJson, '[]');
    assert.equal(record.UserNames, undefined);
  });

  it('maps a parsed alert directly, as mapAlert does', () => {
    const alert = McasAlertSchema.parse(fixture('impossible-travel.json'));
    assert.deepEqual(toAlertRecord(alert), mapAlert(fixture('impossible-travel.json')).record);
  });

  it('maps every generated alert without flagging it, and fills the entity columns', () => {
    const alerts = generateAlerts({ count: 300, startMs: 1_705_000_000_000, seed: 4 });
    for (const alert of alerts) {
      const record = mapValid(alert);
      assert.equal(record.AlertId, alert['_id']);
      assert.ok(record.UserNames?.includes('@contoso.example'), record.UserNames);
      assert.ok(record.IpAddresses, 'an ip entity');
      assert.ok(record.PolicyName, 'a policy entity');
      assert.ok(record.Severity && Object.values(ALERT_SEVERITIES).includes(record.Severity));
    }
  });
});

describe('toAlertRecord truncation', () => {
  const HUNDRED_KB = 100 * 1024;

  it('cuts a 100 KB description to exactly MAX_FIELD_BYTES and names the column', () => {
    const long = 'a'.repeat(HUNDRED_KB);
    const record = mapValid(withFields('impossible-travel.json', { description: long }));
    assert.equal(record.Description, long.slice(0, MAX_FIELD_BYTES));
    assert.equal(record.TruncatedFields, 'Description');
  });

  it('cuts a long entity list in the name column and in the JSON column, named in column order', () => {
    const entities = Array.from({ length: 3000 }, (_, i) => ({ type: 'account', pa: `ユーザー${i}@contoso.example` }));
    const record = mapValid({ ...CORE, title: '日'.repeat(HUNDRED_KB), entities });
    const { UserNames: userNames, AlertTitle: title, EntitiesJson: entitiesJson } = record;
    assert.ok(userNames !== undefined && title !== undefined && entitiesJson !== undefined);
    assert.ok(utf8ByteLength(userNames) <= MAX_FIELD_BYTES);
    assert.ok(userNames.startsWith('ユーザー0@contoso.example,ユーザー1@'));
    assert.equal(utf8ByteLength(title), 31_998);
    assert.throws(() => JSON.parse(entitiesJson), SyntaxError);
    assert.equal(record.TruncatedFields, 'AlertTitle,UserNames,EntitiesJson');
  });

  it('leaves values of exactly MAX_FIELD_BYTES alone', () => {
    const exact = 'é'.repeat(MAX_FIELD_BYTES / 2);
    const record = mapValid({ ...CORE, description: exact });
    assert.equal(record.Description, exact);
    assert.equal(record.TruncatedFields, undefined);
  });
});

describe('mapAlert on alerts that fail the core schema', () => {
  const ALERT_TIME = '2024-01-12T13:20:00.000Z';
  const cases: { name: string; input: unknown; id?: string; issue: RegExp; alertTime?: string }[] = [
    { name: 'no _id', input: { timestamp: CORE.timestamp }, issue: /^_id: /, alertTime: ALERT_TIME },
    {
      name: 'a numeric _id (as the properties table types it)',
      input: { ...CORE, _id: 5 },
      issue: /^_id: /,
      alertTime: ALERT_TIME,
    },
    { name: 'an empty _id', input: { ...CORE, _id: '' }, issue: /^_id: /, alertTime: ALERT_TIME },
    {
      name: 'timestamp as a digit string',
      input: { ...CORE, timestamp: '1705065600000' },
      id: CORE._id,
      issue: /^timestamp: .*string/,
      alertTime: ALERT_TIME,
    },
    { name: 'an ISO timestamp', input: { ...CORE, timestamp: ALERT_TIME }, id: CORE._id, issue: /^timestamp: / },
    { name: 'a negative timestamp', input: { ...CORE, timestamp: -5 }, id: CORE._id, issue: /^timestamp: / },
    { name: 'null', input: null, issue: /^\(root\): .*null/ },
    { name: 'an array', input: [CORE], issue: /^\(root\): .*array/ },
    { name: 'a number', input: 42, issue: /^\(root\): .*number/ },
  ];

  for (const { name, input, id, issue, alertTime } of cases) {
    it(`flags ${name} with its id, issues and raw JSON`, () => {
      const result = mapAlert(input);
      assert.equal(result.flagged, true);
      assert.equal(result.id, id);
      assert.ok(result.issues);
      assert.match(result.issues[0] ?? '', issue);
      AlertRecordSchema.parse(result.record);
      const issues = result.issues.join('; ');
      const expected = { AlertId: id, AlertTime: alertTime, IsFlagged: true, ValidationIssues: issues };
      assert.deepEqual(sent(result.record), sent({ ...expected, RawRecordJson: JSON.stringify(input) }));
    });
  }

  it('flags undefined with the text "undefined" as its raw record', () => {
    const result = mapAlert(undefined);
    assert.equal(result.record.RawRecordJson, 'undefined');
    assert.equal(result.record.IsFlagged, true);
  });

  it('truncates the raw JSON and an over-long id of a huge flagged alert and says so', () => {
    const input = { _id: 'i'.repeat(40_000), timestamp: 'never', blob: '日'.repeat(50_000) };
    const result = mapAlert(input);
    assert.equal(result.flagged, true);
    assert.equal(result.id, input._id, 'the id returned for logs stays whole');
    assert.equal(result.record.AlertId, input._id.slice(0, MAX_FIELD_BYTES));
    assert.ok(result.record.RawRecordJson !== undefined);
    assert.ok(utf8ByteLength(result.record.RawRecordJson) <= MAX_FIELD_BYTES);
    assert.equal(result.record.TruncatedFields, 'AlertId,RawRecordJson');
  });

  it('builds the same row through toFlaggedAlertRecord', () => {
    const result = mapAlert({ timestamp: 7 });
    assert.ok(result.issues);
    assert.deepEqual(toFlaggedAlertRecord({ timestamp: 7 }, result.issues), result.record);
  });
});

describe('mapAlert mutation sweep', () => {
  const KEYS = [
    '_id',
    'timestamp',
    'title',
    'description',
    'severityValue',
    'statusValue',
    'resolutionStatusValue',
    'entities',
    'stories',
    'evidence',
    'intent',
    'isPreview',
    'threatScore',
    'URL',
    'policy',
  ];
  const VALUES: unknown[] = [
    null,
    true,
    0,
    -1,
    3.5,
    1e300,
    '',
    'x',
    '日😀',
    [],
    [null],
    {},
    { label: 7 },
    [{ type: 'ip' }],
    [{ type: 'account', pa: 42 }],
    'ü'.repeat(20_000),
  ];

  /** One of `items`, chosen with one draw of `next`. */
  function pick<T>(items: readonly T[], next: () => number): T {
    const item = items[Math.floor(next() * items.length)];
    assert.ok(item !== undefined);
    return item;
  }

  it('never throws and always yields a row that passes the schema, flagged exactly when the core is broken', () => {
    const next = createRng(20_240_112);
    const alerts = generateAlerts({ count: 400, startMs: 1_705_000_000_000, seed: 9 });
    let flagged = 0;
    for (const [i, alert] of alerts.entries()) {
      const mutated = new Map<string, unknown>(Object.entries(alert));
      for (let n = Math.floor(next() * 4); n > 0; n--) {
        const key = pick(KEYS, next);
        if (next() < 0.2) mutated.delete(key);
        else mutated.set(key, VALUES[Math.floor(next() * VALUES.length)]);
      }
      const input = JSON.parse(JSON.stringify(Object.fromEntries(mutated))) as Record<string, unknown>;
      const result = mapAlert(input);
      const row = AlertRecordSchema.safeParse(result.record);
      assert.equal(row.success, true, `alert ${i}: ${JSON.stringify(row.error?.issues)}`);
      const coreIsValid = McasAlertSchema.pick({ _id: true, timestamp: true }).safeParse(input).success;
      assert.equal(result.flagged, !coreIsValid, `alert ${i}`);
      if (result.flagged) {
        flagged++;
        assert.equal(typeof result.record.RawRecordJson, 'string');
      } else {
        assert.ok(result.id !== undefined);
        assert.equal(result.record.AlertId, truncateUtf8(result.id, MAX_FIELD_BYTES));
      }
    }
    assert.ok(flagged > 20 && flagged < 300, `${flagged} flagged`);
  });
});
