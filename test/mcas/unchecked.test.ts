// Tests of the lenient readers of activity fields: each reads a field as its documented type or as undefined, as
// zod's `lenient(...)` did, and returns the record's own objects (nothing copied, nothing dropped).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import type { CheckedActivity } from '../../src/mcas/schema.js';
import { isJsonObject, readArray, readBoolean, readObject, readString } from '../../src/mcas/unchecked.js';

const FIXTURES = new URL('../../../test/fixtures/activities/', import.meta.url);

function activity(name: string): CheckedActivity {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as CheckedActivity;
}

const CORE = { _id: '5e1f0c2d3b4a596877665544', created: 1700005000001, timestamp: 1700004999999 };

describe('readers of unchecked activity fields', () => {
  it('read the typed fields of a real record', () => {
    const record = activity('login-failed-aad.json');
    const mainInfo = readObject(record, 'mainInfo');
    assert.equal(record.appId, 20893);
    assert.equal(readString(record, 'eventTypeName'), 'EVENT_CATEGORY_FAILED_LOGIN');
    assert.equal(readString(readObject(record, 'failedUserData'), 'userName'), 'megan.bowen@contoso.com');
    assert.equal(readString(readObject(record, 'user'), 'userName'), undefined);
    assert.equal(readString(readObject(record, 'device'), 'clientIP'), '203.0.113.24');
    assert.equal(readBoolean(readObject(mainInfo, 'activityResult'), 'isSuccess'), false);
    assert.equal(readArray(mainInfo, 'eventObjects')?.length, 5);
    assert.equal(readString(readObject(record, 'resolvedActor'), 'name'), 'Megan Bowen');
  });

  it("return the record's own nested objects and arrays, with every key", () => {
    const record = activity('azure-vm-write-case-keys.json');
    const rawDataJson = readObject(record, 'rawDataJson');
    assert.equal(rawDataJson, record.rawDataJson);
    assert.equal(readObject(record, 'location'), record.location);
    assert.deepEqual(Object.keys(rawDataJson ?? {}).slice(0, 4), ['Level', 'level', 'EventName', 'eventName']);
    const mainInfo = readObject(record, 'mainInfo');
    assert.equal(readArray(mainInfo, 'eventObjects'), (record.mainInfo as Record<string, unknown>)['eventObjects']);
  });

  it('read every wrongly typed field as undefined instead of failing the record', () => {
    const record = activity('wrong-types-optional.json');
    const mainInfo = readObject(record, 'mainInfo');
    assert.ok(mainInfo !== undefined, 'mainInfo itself is an object');
    assert.equal(readString(record, 'appName'), undefined);
    assert.equal(readString(record, 'eventTypeName'), undefined);
    assert.equal(readString(record, 'description'), undefined);
    assert.equal(readString(record, 'severity'), undefined);
    assert.equal(readObject(record, 'description_metadata'), undefined);
    assert.equal(readObject(record, 'user'), undefined);
    assert.equal(readString(readObject(record, 'failedUserData'), 'userName'), undefined);
    assert.equal(readObject(record, 'resolvedActor'), undefined);
    assert.equal(readString(readObject(record, 'device'), 'clientIP'), undefined);
    assert.equal(readString(readObject(record, 'device'), 'userAgent'), undefined);
    assert.equal(readObject(record, 'location'), undefined);
    assert.equal(readArray(mainInfo, 'eventObjects'), undefined);
    assert.equal(readBoolean(readObject(mainInfo, 'activityResult'), 'isSuccess'), undefined);
    assert.equal(readString(mainInfo, 'rawOperationName'), undefined);
    assert.equal(readObject(record, 'rawDataJson'), undefined, 'an array is not an object');
  });

  it('read null, arrays and absent fields as undefined, and an absent parent too', () => {
    const record: CheckedActivity = {
      ...CORE,
      appName: null,
      user: [{ userName: 'u' }],
      mainInfo: { eventObjects: {} },
    };
    assert.equal(readString(record, 'appName'), undefined);
    assert.equal(readObject(record, 'user'), undefined);
    assert.equal(readArray(readObject(record, 'mainInfo'), 'eventObjects'), undefined);
    assert.equal(readString(record, 'severity'), undefined);
    assert.equal(readString(readObject(record, 'device'), 'clientIP'), undefined);
  });

  it('keep empty strings and false, which are values of the right type', () => {
    const record: CheckedActivity = { ...CORE, appName: '', mainInfo: { activityResult: { isSuccess: false } } };
    assert.equal(readString(record, 'appName'), '');
    assert.equal(readBoolean(readObject(readObject(record, 'mainInfo'), 'activityResult'), 'isSuccess'), false);
  });

  it('do not read fields out of an own "__proto__" key, as JSON.parse makes it', () => {
    const record = JSON.parse('{"_id":"p","created":1,"timestamp":1,"__proto__":{"appName":"x"}}') as CheckedActivity;
    assert.equal(readString(record, 'appName'), undefined);
  });

  it('isJsonObject accepts plain objects only', () => {
    assert.equal(isJsonObject({}), true);
    for (const value of [null, undefined, [], 'x', 1, true]) assert.equal(isJsonObject(value), false);
  });
});
