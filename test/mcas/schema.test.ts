// Tests of the MCAS wire schemas: an activity's core (_id/created/timestamp) checked strictly and nothing else, the
// page envelope. How the other activity fields are read: test/mcas/unchecked.test.ts and test/mapping/.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';

import { MAX_EPOCH_MS, McasActivityCoreSchema, McasPageSchema } from '../../src/mcas/schema.js';

const FIXTURES = new URL('../../../test/fixtures/activities/', import.meta.url);

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as Record<string, unknown>;
}

const CORE = { _id: '5e1f0c2d3b4a596877665544', created: 1700005000001, timestamp: 1700004999999 };

function issuePaths(input: unknown): string[] {
  const result = McasActivityCoreSchema.safeParse(input);
  assert.equal(result.success, false, 'expected the record to fail the core schema');
  return result.error.issues.map((issue) => issue.path.join('.'));
}

describe('McasActivityCoreSchema', () => {
  it('accepts every fixture record', () => {
    const names = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
    assert.ok(names.length >= 10);
    for (const name of names) {
      const result = McasActivityCoreSchema.safeParse(fixture(name));
      assert.equal(result.success, true, `${name}: ${JSON.stringify(result.error?.issues)}`);
    }
  });

  it('accepts a record with only _id, created and timestamp', () => {
    assert.deepEqual(McasActivityCoreSchema.parse(CORE), CORE);
  });

  it('returns only the core fields, so that no record is copied, and never fails on the others', () => {
    for (const name of ['login-failed-aad.json', 'wrong-types-optional.json', 'onedrive-file-previewed.json']) {
      const raw = fixture(name);
      const parsed = McasActivityCoreSchema.parse(raw);
      assert.deepEqual(Object.keys(parsed), ['_id', 'created', 'timestamp'], name);
      assert.equal(parsed._id, raw['_id']);
      assert.equal(parsed.created, raw['created']);
      assert.equal(parsed.timestamp, raw['timestamp']);
    }
    assert.deepEqual(McasActivityCoreSchema.parse({ ...CORE, newFieldFromTheApi: { kept: true }, appId: {} }), CORE);
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
    const parsed = McasActivityCoreSchema.parse({ ...CORE, timestamp: MAX_EPOCH_MS });
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
