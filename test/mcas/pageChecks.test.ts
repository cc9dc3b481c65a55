import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  checkPageRecords,
  cursorValueOf,
  hasNextContradicted,
  isFullLastPage,
  type PageExpectation,
} from '../../src/mcas/pageChecks.js';
import { UntrustedPageError } from '../../src/errors.js';

const window: PageExpectation = { pageNumber: 2, timeKey: 'created', fromMs: 1_000, toMs: 2_000, ascending: true };
const at = (created: unknown, id = `id-${String(created)}`): Record<string, unknown> => ({ _id: id, created });

describe('checkPageRecords', () => {
  it('accepts ascending records inside the window, ties and both ends included', () => {
    checkPageRecords([at(1_000), at(1_500), at(1_500, 'tie'), at(2_000)], window);
    checkPageRecords([], window);
  });

  it('refuses a record older than the one before it, naming the page, the record and both times', () => {
    assert.throws(
      () => checkPageRecords([at(1_200), at(1_800), at(1_700, 'late')], window),
      (error: unknown) =>
        error instanceof UntrustedPageError &&
        /out of ascending created order on page 2: record 3 \(_id late\) has 1970-01-01T00:00:01\.700Z, after a record with 1970-01-01T00:00:01\.800Z/.test(
          error.message,
        ) &&
        /checkpoint stays before it/.test(error.message),
    );
  });

  it('lets a scan page come in any order, but not outside its window', () => {
    checkPageRecords([at(1_800), at(1_200)], { ...window, ascending: false });
    assert.throws(
      () => checkPageRecords([at(1_800), at(999)], { ...window, ascending: false }),
      /outside the requested window/,
    );
  });

  it('refuses records before or after the requested window', () => {
    assert.throws(() => checkPageRecords([at(999)], window), /record 1 \(_id id-999\) has created .* asked for/);
    assert.throws(() => checkPageRecords([at(1_500), at(2_001)], window), /outside the requested window on page 2/);
  });

  it('leaves records without a usable time to the schema check', () => {
    checkPageRecords([at(1_200), at(undefined), at('x'), at('100'), at(-5), at(1.5), at(2 ** 60), at(1_400)], window);
  });

  it('checks the field it is told to: timestamp for alerts', () => {
    const alerts = { ...window, timeKey: 'timestamp' as const };
    assert.throws(() => checkPageRecords([{ _id: 'a', timestamp: 5_000, created: 1_500 }], alerts), /has timestamp/);
  });

  it('escapes control characters of an id in its message', () => {
    assert.throws(
      () => checkPageRecords([at(3_000, 'x\n[info] forged')], window),
      (error: unknown) =>
        error instanceof Error && !error.message.includes('\n') && error.message.includes('x\\n[info]'),
    );
  });
});

describe('isFullLastPage and hasNextContradicted', () => {
  it('is true only for hasNext: false on a page holding the limit', () => {
    assert.equal(isFullLastPage(100, 100, false), true);
    assert.equal(isFullLastPage(99, 100, false), false);
    assert.equal(isFullLastPage(100, 100, true), false);
    assert.equal(isFullLastPage(0, 0, false), false);
  });

  it('says what MCAS sent', () => {
    assert.match(
      hasNextContradicted(3, 100, 42).message,
      /hasNext: false on page 3, a full page of 100, but asking once more returned 42 records/,
    );
  });
});

describe('cursorValueOf', () => {
  it('reads non-negative safe integers only', () => {
    assert.equal(cursorValueOf({ created: 5 }, 'created'), 5);
    assert.equal(cursorValueOf({ created: '5' }, 'created'), undefined);
    assert.equal(cursorValueOf({ created: -5 }, 'created'), undefined);
    assert.equal(cursorValueOf({ created: 5.5 }, 'created'), undefined);
    assert.equal(cursorValueOf({ created: '-5' }, 'created'), undefined);
    assert.equal(cursorValueOf([5], 'created'), undefined);
    assert.equal(cursorValueOf(null, 'created'), undefined);
  });
});
