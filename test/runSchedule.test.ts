// Consecutive timer runs on the default schedule, on a simulated clock: the real run loop, pacer and deadlines against
// an in-memory MCAS whose every answer takes 300 ms, under a backlog larger than an hour can read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { RecordingLogger } from '../src/logger.js';
import type { ActivitiesQuery } from '../src/mcas/McasClient.js';
import { sharedPacer } from '../src/mcas/RequestPacer.js';
import type { McasPage } from '../src/mcas/schema.js';
import { type RunDeps, runIngestion } from '../src/run.js';
import { FakeClock } from './helpers/fakeTime.js';
import { TEST_RUN_OPTIONS } from './helpers/pipeline.js';

const MINUTE = 60_000;
const TICK = 5 * MINUTE;
const FUNCTION_TIMEOUT = 10 * MINUTE;
const ANSWER_MS = 300;

/** An MCAS that answers keyset queries over `created` from a sorted list, each answer after ANSWER_MS. */
function inMemoryMcas(clock: FakeClock, created: readonly number[], sent: number[]): RunDeps['mcas'] {
  const pacer = sharedPacer('https://contoso.portal.cloudappsecurity.com', {
    maxRequests: 30,
    clock,
    sleep: clock.sleep,
  });
  const firstAtOrAfter = (ms: number): number => {
    let low = 0;
    let high = created.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((created[mid] as number) < ms) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  return {
    list: async (_resource, query: ActivitiesQuery, options): Promise<McasPage> => {
      const release = await pacer.acquire(options);
      sent.push(clock.nowMs());
      clock.advance(ANSWER_MS);
      release();
      const range = query.filters['created'] as { gte: number; lte: number };
      const from = firstAtOrAfter(range.gte);
      const to = firstAtOrAfter(range.lte + 1);
      const start = from + query.skip;
      const end = Math.min(to, start + query.limit);
      const data = [];
      for (let i = start; i < end; i++) data.push({ _id: `a${i}`, created: created[i], timestamp: created[i] });
      return { data, hasNext: end < to, total: to - from };
    },
  };
}

describe('timer runs on the default schedule (every 5 minutes, RUN_TIME_BUDGET_SECONDS=480)', () => {
  it('under a backlog, use at least 95 % of 30 requests a minute over an hour, never overlap, and stop cleanly', async () => {
    const t0 = Date.UTC(2026, 11, 3, 12, 0, 0);
    const clock = new FakeClock(t0);
    // 30,000 activities saved over the day before, read in pages of 10 (to keep the test light): more than an hour of
    // requests (1,800) can read.
    const created = Array.from({ length: 30_000 }, (_, i) => t0 - 26 * 60 * MINUTE + Math.floor(i / 2) * 5_000);
    const sent: number[] = [];
    const mcas = inMemoryMcas(clock, created, sent);
    const checkpoints = new MemoryCheckpointStore('activities');
    const deps: RunDeps = {
      mcas,
      sink: {
        send: () => {
          clock.advance(50);
          return Promise.resolve();
        },
      },
      checkpoints,
      clock,
      sleep: clock.sleep,
      log: new RecordingLogger(),
    };
    const runs: { tick: number; started: number; ended: number }[] = [];
    for (let tick = t0; tick < t0 + 60 * MINUTE; tick += TICK) {
      assert.ok(clock.nowMs() <= tick, 'the run before ended before this tick, so the host runs this one');
      clock.advance(tick + 2_000 - clock.nowMs());
      const started = clock.nowMs();
      const summary = await runIngestion(deps, {
        ...TEST_RUN_OPTIONS,
        initialLookbackMs: 27 * 60 * MINUTE,
        settleMs: 120_000,
        timeBudgetMs: 480_000,
        pageSize: 10,
        maxBatchBytes: 64 * 1024,
        paging: { mode: 'keyset' },
        schedule: { nextTickMs: tick + TICK, lastTickMs: tick },
      });
      runs.push({ tick, started, ended: clock.nowMs() });
      assert.equal(summary.moreToDo, true, 'each run stops at its deadline with more to do');
      assert.ok(summary.sent > 0 && summary.sent === summary.fetched, 'and delivers what it read');
    }
    for (const run of runs) {
      assert.ok(run.ended < run.tick + TICK, `a run ended ${run.ended - run.tick} ms after its tick`);
      assert.ok(run.ended - run.started < FUNCTION_TIMEOUT);
    }
    const inHour = sent.filter((ms) => ms >= t0 && ms < t0 + 60 * MINUTE).length;
    assert.ok(inHour >= 0.95 * 30 * 60, `requests in the hour: ${inHour} of ${30 * 60}`);
    // Across run boundaries too, no minute holds more than 30 requests: MCAS would throttle.
    for (let i = 30; i < sent.length; i++) assert.ok((sent[i] as number) - (sent[i - 30] as number) >= MINUTE);
    // The checkpoint moved forward through every run, and what it covers was sent.
    const cursors = checkpoints.history.map((c) => c.cursor);
    assert.deepEqual(
      cursors,
      [...cursors].sort((a, b) => a - b),
    );
  });
});
