import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  checkCursorNotAhead,
  minutesAheadOfSource,
  SourceClock,
  sourceWindowEndMs,
} from '../../src/mcas/sourceClock.js';
import { CursorAheadOfSourceError } from '../../src/errors.js';

const T = Date.UTC(2026, 10, 23, 12, 0, 0);
const HOUR = 3_600_000;

describe('SourceClock', () => {
  it('knows nothing before an answer, and ignores a missing or unreadable Date', () => {
    const clock = new SourceClock();
    clock.observe(undefined, T);
    clock.observe('not a date', T);
    assert.equal(clock.nowMs(T), undefined);
    assert.equal(clock.offsetMs, undefined);
  });

  it("follows MCAS's time from its latest Date header as the host's clock moves on", () => {
    const clock = new SourceClock();
    clock.observe(new Date(T).toUTCString(), T + HOUR); // the host runs an hour fast
    assert.equal(clock.offsetMs, -HOUR);
    assert.equal(clock.nowMs(T + HOUR + 5_000), T + 5_000);
    clock.observe(new Date(T + 2 * HOUR).toUTCString(), T + HOUR); // now an hour slow
    assert.equal(clock.nowMs(T + HOUR), T + 2 * HOUR);
  });
});

describe('sourceWindowEndMs', () => {
  it("is MCAS's now less the settle margin, giving back the Date header's rounding", () => {
    assert.equal(sourceWindowEndMs(T, 120_000), T + 1_000 - 120_000);
    assert.equal(sourceWindowEndMs(T, 0), T + 1_000);
  });
});

describe('checkCursorNotAhead', () => {
  it("refuses a cursor past MCAS's time by more than the Date header's resolution", () => {
    checkCursorNotAhead('The checkpoint', T + 1_000, T);
    checkCursorNotAhead('The checkpoint', T + 365 * 24 * HOUR, undefined);
    assert.throws(
      () => checkCursorNotAhead('The checkpoint', T + HOUR, T),
      (error: unknown) =>
        error instanceof CursorAheadOfSourceError &&
        /The checkpoint \(2026-11-23T13:00:00.000Z\) is 60 min ahead of MCAS's clock \(2026-11-23T12:00:00.000Z/.test(
          error.message,
        ),
    );
  });

  it('gives the minutes ahead, or undefined', () => {
    assert.equal(minutesAheadOfSource(T + 90_000, T), 1.5);
    assert.equal(minutesAheadOfSource(T, T), undefined);
    assert.equal(minutesAheadOfSource(T + HOUR, undefined), undefined);
  });
});
