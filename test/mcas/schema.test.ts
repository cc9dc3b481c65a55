// Tests of the MCAS wire schemas: strict on _id/created/timestamp, lenient and passthrough on everything else.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import { MAX_EPOCH_MS, McasActivitySchema, McasPageSchema } from '../../src/mcas/schema.js';

const FIXTURES = new URL('../../../test/fixtures/activities/', import.meta.url);

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
}

const CORE = { _id: '5e1f0c2d3b4a596877665544', created: 1700005000001, timestamp: 1700004999999 };

function issuePaths(input: unknown): string[] {
  const result = McasActivitySchema.safeParse(input);
  assert.equal(result.success, false, 'expected the record to fail the core schema');
  return result.error!.issues.map((issue) => issue.path.join('.'));
}

describe('McasActivitySchema', () => {
  it('accepts every fixture record', () => {
    const names = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
    assert.ok(names.length >= 10);
    for (const name of names) {
      const result = McasActivitySchema.safeParse(fixture(name));
      assert.equal(result.success, true, `${name}: ${JSON.stringify(result.error?.issues)}`);
    }
  });

  it('accepts a record with only _id, created and timestamp', () => {
    assert.deepEqual(McasActivitySchema.parse(CORE), CORE);
  });

  it('keeps fields it does not know about', () => {
    const parsed = McasActivitySchema.parse({ ...CORE, newFieldFromTheApi: { kept: true }, saasId: 15600 });
    assert.deepEqual(parsed['newFieldFromTheApi'], { kept: true });
    assert.equal(parsed['saasId'], 15600);
  });

  it('reads the typed fields of a real record', () => {
    const parsed = McasActivitySchema.parse(fixture('login-failed-aad.json'));
    assert.equal(parsed.appId, 20893);
    assert.equal(parsed.eventTypeName, 'EVENT_CATEGORY_FAILED_LOGIN');
    assert.equal(parsed.failedUserData?.userName, 'megan.bowen@contoso.com');
    assert.equal(parsed.user?.userName, undefined);
    assert.equal(parsed.device?.clientIP, '203.0.113.24');
    assert.equal(parsed.mainInfo?.activityResult?.isSuccess, false);
    assert.equal(parsed.mainInfo?.eventObjects?.length, 5);
    assert.equal(parsed.resolvedActor?.name, 'Megan Bowen');
  });

  it('returns nested objects that the mapping keeps whole as the same objects, nothing dropped', () => {
    const raw = fixture('azure-vm-write-case-keys.json');
    const parsed = McasActivitySchema.parse(raw);
    assert.equal(parsed.rawDataJson, raw['rawDataJson']);
    assert.equal(parsed.location, raw['location']);
    assert.deepEqual(Object.keys(parsed.rawDataJson ?? {}).slice(0, 4), ['Level', 'level', 'EventName', 'eventName']);
  });

  it('accepts entityData as an object keyed "0","1" with nulls and as an array', () => {
    const asObject = McasActivitySchema.parse(fixture('onedrive-file-previewed.json'));
    assert.equal((asObject.entityData as Record<string, unknown>)['1'], null);
    const asArray = McasActivitySchema.parse(fixture('sharepoint-file-downloaded.json'));
    assert.ok(Array.isArray(asArray.entityData));
  });

  it('turns wrong types in optional fields into undefined instead of failing the record', () => {
    const result = McasActivitySchema.safeParse(fixture('wrong-types-optional.json'));
    assert.equal(result.success, true, JSON.stringify(result.error?.issues));
    const parsed = result.data!;
    assert.equal(parsed.appId, undefined);
    assert.equal(parsed.appName, undefined);
    assert.equal(parsed.eventType, undefined);
    assert.equal(parsed.eventTypeName, undefined);
    assert.equal(parsed.description, undefined);
    assert.equal(parsed.description_metadata, undefined);
    assert.equal(parsed.user, undefined);
    assert.equal(parsed.failedUserData?.userName, undefined);
    assert.equal(parsed.resolvedActor, undefined);
    assert.equal(parsed.device?.clientIP, undefined);
    assert.equal(parsed.location, undefined);
    assert.equal(parsed.userAgent, undefined);
    assert.equal(parsed.mainInfo?.eventObjects, undefined);
    assert.equal(parsed.mainInfo?.activityResult?.isSuccess, undefined);
    assert.equal(parsed.entityData, undefined);
    assert.equal(parsed.rawDataJson, undefined);
    assert.deepEqual(parsed['newFieldFromTheApi'], { kept: true });
  });

  it('accepts appId as a number or a string, and userAgent as an object or a string', () => {
    assert.equal(McasActivitySchema.parse({ ...CORE, appId: '11161' }).appId, '11161');
    assert.equal(McasActivitySchema.parse({ ...CORE, userAgent: 'curl/8.0' }).userAgent, 'curl/8.0');
    assert.deepEqual(McasActivitySchema.parse({ ...CORE, userAgent: { os: 'OTHER' } }).userAgent, { os: 'OTHER' });
  });

  it('rejects a record without _id or with an empty one', () => {
    assert.deepEqual(issuePaths({ created: CORE.created, timestamp: CORE.timestamp }), ['_id']);
    assert.deepEqual(issuePaths({ ...CORE, _id: '' }), ['_id']);
    assert.deepEqual(issuePaths({ ...CORE, _id: 42 }), ['_id']);
  });

  it('rejects created or timestamp that is not a non-negative integer of epoch milliseconds', () => {
    assert.deepEqual(issuePaths({ ...CORE, created: '1700005000001' }), ['created']);
    assert.deepEqual(issuePaths({ ...CORE, timestamp: -1 }), ['timestamp']);
    assert.deepEqual(issuePaths({ ...CORE, timestamp: 1.5 }), ['timestamp']);
    assert.deepEqual(issuePaths({ ...CORE, created: null }), ['created']);
    assert.deepEqual(issuePaths({ ...CORE, created: MAX_EPOCH_MS + 1 }), ['created']);
    assert.deepEqual(issuePaths({ _id: 'x' }), ['created', 'timestamp']);
  });

  it('accepts the largest time that still has a four-digit-year ISO form', () => {
    const parsed = McasActivitySchema.parse({ ...CORE, timestamp: MAX_EPOCH_MS });
    assert.equal(new Date(parsed.timestamp).toISOString(), '9999-12-31T23:59:59.999Z');
  });

  it('rejects values that are not objects at the root', () => {
    for (const input of [null, undefined, 42, 'record', [CORE], true]) {
      assert.deepEqual(issuePaths(input), [''], `input ${JSON.stringify(input)}`);
    }
  });
});

describe('McasPageSchema', () => {
  it('accepts a page without checking its records', () => {
    const page = McasPageSchema.parse({ data: [CORE, null, 42], hasNext: true, total: 3 });
    assert.deepEqual(page.data, [CORE, null, 42]);
    assert.equal(page.hasNext, true);
    assert.equal(page.total, 3);
  });

  it('accepts the scan-mode nextQueryFilters and unknown envelope fields', () => {
    const filters = { created: { gte: 1700000000000, lte: 1700003600000 } };
    const page = McasPageSchema.parse({ data: [], hasNext: false, nextQueryFilters: filters, max: 5000 });
    assert.deepEqual(page.nextQueryFilters, filters);
    assert.equal(page['max'], 5000);
  });

  it('ignores a total of a surprising type', () => {
    assert.equal(McasPageSchema.parse({ data: [], hasNext: false, total: '~100' }).total, undefined);
  });

  it('rejects a page without a data array or a boolean hasNext', () => {
    assert.equal(McasPageSchema.safeParse({ hasNext: false }).success, false);
    assert.equal(McasPageSchema.safeParse({ data: {}, hasNext: false }).success, false);
    assert.equal(McasPageSchema.safeParse({ data: [], hasNext: 'false' }).success, false);
    assert.equal(McasPageSchema.safeParse({ data: [] }).success, false);
    assert.equal(McasPageSchema.safeParse({ data: [], hasNext: true, nextQueryFilters: [] }).success, false);
    assert.equal(McasPageSchema.safeParse({ error: true, filters: [] }).success, false);
  });
});
