import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FINISH_RESERVE_MS, runDeadlines, SOFT_DEADLINE_SHARE, TICK_MARGIN_MS } from '../src/runDeadlines.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

describe('runDeadlines', () => {
  it('without a schedule, stops fetching at three quarters of the budget and ends at the budget, as before', () => {
    assert.deepEqual(runDeadlines({ startedMs: T0, budgetMs: 480_000 }), {
      softDeadlineMs: T0 + 480_000 * SOFT_DEADLINE_SHARE,
      hardDeadlineMs: T0 + 480_000,
    });
  });

  it('on the default schedule (every 5 minutes, budget 480 s), ends before the next tick, reading until 30 s before', () => {
    const started = T0 + 1_500; // the host starts the run a moment after the tick
    const { softDeadlineMs, hardDeadlineMs } = runDeadlines({
      startedMs: started,
      budgetMs: 480_000,
      nextTickMs: T0 + 5 * MINUTE,
      lastTickMs: T0,
    });
    assert.equal(hardDeadlineMs, T0 + 5 * MINUTE - TICK_MARGIN_MS);
    assert.equal(softDeadlineMs, hardDeadlineMs - FINISH_RESERVE_MS);
    // The next run starts at the tick: MCAS idles under a minute between runs, which the pacer's window absorbs.
    assert.ok(T0 + 5 * MINUTE - softDeadlineMs < MINUTE);
  });

  it('never passes the budget, however far the next tick is', () => {
    const deadlines = runDeadlines({ startedMs: T0, budgetMs: 480_000, nextTickMs: T0 + 60 * MINUTE, lastTickMs: T0 });
    assert.equal(deadlines.hardDeadlineMs, T0 + 480_000);
    assert.equal(deadlines.softDeadlineMs, T0 + 480_000 - FINISH_RESERVE_MS);
  });

  it('a run started late, with the next tick under a minute away, reads until before the tick after', () => {
    const started = T0 + 4 * MINUTE + 30_000; // past due, the next tick at 5 minutes
    const deadlines = runDeadlines({
      startedMs: started,
      budgetMs: 480_000,
      nextTickMs: T0 + 5 * MINUTE,
      lastTickMs: T0,
    });
    assert.equal(deadlines.hardDeadlineMs, T0 + 10 * MINUTE - TICK_MARGIN_MS);
    const noInterval = runDeadlines({ startedMs: started, budgetMs: 480_000, nextTickMs: T0 + 5 * MINUTE });
    assert.equal(noInterval.hardDeadlineMs, started + 480_000, 'without the last tick, the budget alone');
  });

  it('keeps at most a quarter of a short run for finishing, and ignores a next tick in the past', () => {
    const short = runDeadlines({ startedMs: T0, budgetMs: 60_000, nextTickMs: T0 + 5 * MINUTE });
    assert.deepEqual(short, { softDeadlineMs: T0 + 60_000 - FINISH_RESERVE_MS, hardDeadlineMs: T0 + 60_000 });
    const shorter = runDeadlines({ startedMs: T0, budgetMs: 20_000, nextTickMs: T0 + 5 * MINUTE });
    assert.deepEqual(shorter, { softDeadlineMs: T0 + 15_000, hardDeadlineMs: T0 + 20_000 });
    assert.deepEqual(runDeadlines({ startedMs: T0, budgetMs: 480_000, nextTickMs: T0 - 1 }), {
      softDeadlineMs: T0 + 360_000,
      hardDeadlineMs: T0 + 480_000,
    });
  });
});
