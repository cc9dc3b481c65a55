// Tests of the shared row pieces that the mapping tests do not reach directly: isoTime against toISOString.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isoTime, looseIsoTime } from '../../src/mapping/rowBuilder.js';
import { MAX_EPOCH_MS } from '../../src/mcas/schema.js';
import { createRng } from '../../emulators/activityGenerator.js';

const DAY_MS = 86_400_000;

function assertSame(ms: number): void {
  assert.equal(isoTime(ms), new Date(ms).toISOString(), `isoTime(${ms})`);
}

describe('isoTime', () => {
  it('equals toISOString at the edges of days, years, leap days and the accepted range', () => {
    const edges = [
      0,
      1,
      999,
      1_000,
      59_999,
      60_000,
      3_599_999,
      3_600_000,
      DAY_MS - 1,
      DAY_MS,
      Date.UTC(2000, 1, 29, 23, 59, 59, 999),
      Date.UTC(2000, 2, 1),
      Date.UTC(2100, 1, 28, 12),
      Date.UTC(2100, 2, 1),
      Date.UTC(2024, 11, 31, 23, 59, 59, 999),
      Date.UTC(2025, 0, 1),
      1_700_004_999_999,
      1_700_005_000_001,
      MAX_EPOCH_MS - DAY_MS,
      MAX_EPOCH_MS - 1,
      MAX_EPOCH_MS,
    ];
    for (const ms of edges) assertSame(ms);
    assert.equal(isoTime(MAX_EPOCH_MS), '9999-12-31T23:59:59.999Z');
  });

  it('equals toISOString over a seeded sweep of the whole range, and within and across days in any order', () => {
    const next = createRng(9_999);
    for (let i = 0; i < 20_000; i++) assertSame(Math.floor(next() * (MAX_EPOCH_MS + 1)));
    // Times close together, as in a page: the cached day is reused, left and re-entered.
    let ms = Date.UTC(2023, 10, 14, 23, 58);
    for (let i = 0; i < 2_000; i++) {
      ms += Math.floor(next() * 2_000) - 500;
      assertSame(ms);
      assertSame(ms - DAY_MS);
    }
  });

  it('is what looseIsoTime gives for plausible times', () => {
    assert.equal(looseIsoTime(1_700_005_000_001), isoTime(1_700_005_000_001));
    assert.equal(looseIsoTime('1700005000001'), '2023-11-14T23:36:40.001Z');
    assert.equal(looseIsoTime(MAX_EPOCH_MS + 1), undefined);
  });
});
