import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { type RawActivity } from '../emulators/activityGenerator.js';
import { startLocalStack } from '../emulators/localStack.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { HttpStatusError, PartialSendError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import { FakeClock } from './helpers/fakeTime.js';
import { isCovered, receivedIds, runAgainst } from './helpers/pipeline.js';
import { createdOf, dataset, HOUR, hourly, rowsPerSubWindow, subWindowEnds } from './helpers/runScenarios.js';

// The scan-mode half of the end-to-end run tests (runIngestion over the loopback stack with pages of 500 to 5,000).
describe('runIngestion end to end in scan mode', () => {
  const scan = { mode: 'scan', pageSize: 5_000, windowMs: HOUR } as const;

  it('logs each scan page once, with all its records, though it is handed on in parts of 100', async (t) => {
    const activities = dataset(1_200, 21);
    const stack = await startLocalStack({ activities });
    t.after(() => stack.close());
    const log = new RecordingLogger();
    const paging = { mode: 'scan', pageSize: 500, windowMs: 0 } as const;
    const window = { startMs: createdOf(activities[0] as RawActivity) };
    await runAgainst(stack, new MemoryCheckpointStore('activities'), { paging, window, log });
    const pageLines = log.lines.map((line) => line.message).filter((message) => message.startsWith('Page '));
    assert.deepEqual(
      pageLines.map((line) => /^Page (\d+): (\d+) records/.exec(line)?.slice(1, 3)),
      [
        ['1', '500'],
        ['2', '500'],
        ['3', '200'],
      ],
    );
  });

  it('reads everything with pages of up to 5,000 and checkpoints only at sub-window ends', async (t) => {
    const activities = dataset(12_000, 8);
    const stack = await startLocalStack({ activities });
    t.after(() => stack.close());
    const checkpoints = new MemoryCheckpointStore('activities');
    // The rows lie within about 21 min. From the first, a first sub-window of 5 min and the next ones sized for one page
    // each: several of them hold rows.
    const startMs = createdOf(activities[0] as RawActivity);
    const paging = { ...scan, windowMs: 5 * 60_000, targetPages: 1 };
    const summary = await runAgainst(stack, checkpoints, { paging, maxBatchBytes: 1024 * 1024, window: { startMs } });
    const ids = receivedIds(stack);
    assert.equal(ids.length, 12_000);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    const requests = stack.mcas.requests.filter((r) => r.status === 200);
    assert.ok(
      requests.every(
        (r) => (r.body as { isScan?: boolean }).isScan === true && (r.body as { limit: number }).limit === 5_000,
      ),
    );
    const ends = subWindowEnds(stack);
    assert.ok(
      rowsPerSubWindow(activities, startMs, ends).filter((rows) => rows > 0).length >= 3,
      'several sub-windows with rows',
    );
    // Each sub-window costs at most one request more than its rows need (its last page may be partial).
    assert.ok(
      requests.length <= Math.ceil(12_000 / 5_000) + ends.length,
      `requests: ${requests.length}, sub-windows ${ends.length}`,
    );
    const cursors = checkpoints.history.map((c) => c.cursor);
    assert.deepEqual(
      cursors,
      [...cursors].sort((a, b) => a - b),
    );
    assert.ok(checkpoints.history.every((c) => c.idsAtCursor.length === 0));
    assert.ok(
      cursors.every((cursor) => ends.includes(cursor)),
      'every checkpoint is a sub-window end',
    );
    assert.ok(cursors.length >= 3, 'several sub-windows');
    assert.equal(checkpoints.history.at(-1)?.cursor, (checkpoints.history.at(-1)?.windowEnd ?? 0) + 1);
    assert.equal(summary.moreToDo, false);
  });

  it('after a failed post mid-window, the next run re-sends at most that sub-window', async (t) => {
    const activities = dataset(6_000, 9);
    let failAt = 4;
    const stack = await startLocalStack({
      activities,
      logAnalytics: { faults: (i) => (i === failAt ? { status: 403 } : undefined) },
    });
    t.after(() => stack.close());
    const checkpoints = new MemoryCheckpointStore('activities');
    const options = { paging: scan, maxBatchBytes: 256 * 1024 };
    await assert.rejects(runAgainst(stack, checkpoints, options), PartialSendError);
    const saved = checkpoints.history.at(-1);
    assert.ok(saved, 'at least one sub-window completed first');
    const accepted = new Set(receivedIds(stack));
    for (const activity of activities)
      if (isCovered(saved, activity)) assert.ok(accepted.has(activity['_id'] as string));

    failAt = -1;
    await runAgainst(stack, checkpoints, options);
    const ids = receivedIds(stack);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    // Duplicates stay within the sub-window that failed: at most the activities between two saved cursors.
    const cursors = checkpoints.history.map((c) => c.cursor);
    const between = cursors
      .slice(1)
      .map(
        (end, i) =>
          activities.filter((a) => (a['created'] as number) >= (cursors[i] ?? 0) && (a['created'] as number) < end)
            .length,
      );
    assert.ok(ids.length - activities.length <= Math.max(...between), `duplicates: ${ids.length - activities.length}`);
    assert.ok(ids.length > activities.length, 'the failed sub-window was partly sent, so some rows came twice');
  });

  describe('cut short (pages of 500; a first sub-window of up to one page, then one of 1,200 rows taking three pages)', () => {
    // 300 rows in the first hour would size the next sub-window at 16 h (the most it may grow): it is the rest of the
    // 3-hour window.
    const scan500 = { mode: 'scan', pageSize: 500, windowMs: HOUR } as const;
    const startMs = Date.now() - 12 * HOUR;
    const firstHour = (activities: readonly RawActivity[]): string[] =>
      activities
        .filter((a) => createdOf(a) < startMs + HOUR)
        .map((a) => a['_id'] as string)
        .sort();
    // The connector's pacer allows one MCAS request a minute, and its sleeps move a fake clock: request n goes at
    // (n - 1) minutes, so the time budget decides which request would have to wait past it.
    const paced = (
      clock: FakeClock,
    ): { clock: FakeClock; sleep: FakeClock['sleep']; settings: Record<string, string> } => ({
      clock,
      sleep: clock.sleep,
      settings: { MCAS_MAX_REQUESTS_PER_MINUTE: '1' },
    });

    it('at the hard deadline mid-scan, sends the queued rows of completed sub-windows, saves their end, drops the rest', async (t) => {
      const activities = hourly([300, 600, 600], startMs, 15);
      const stack = await startLocalStack({ activities });
      t.after(() => stack.close());
      const memory = new MemoryCheckpointStore('activities');
      const clock = new FakeClock(Date.now());
      const log = new RecordingLogger();
      // Requests at 0, 1 and 2 minutes; the fourth (page 3 of the second sub-window) would wait past 2.5 minutes.
      const options = {
        ...paced(clock),
        paging: scan500,
        maxBatchBytes: 8 * 1024 * 1024,
        window: { startMs, endMs: startMs + 3 * HOUR - 1 },
      };
      const summary = await runAgainst(stack, memory, { ...options, timeBudgetMs: 150_000, log });
      assert.equal(summary.moreToDo, true);
      assert.equal(summary.fetched, 1_300);
      assert.equal(summary.sent, 300);
      assert.equal(stack.logAnalytics.batches.length, 1);
      assert.deepEqual(receivedIds(stack).sort(), firstHour(activities));
      assert.deepEqual(
        memory.history.map((c) => c.cursor),
        [startMs + HOUR],
      );
      assert.deepEqual(subWindowEnds(stack), [startMs + HOUR, startMs + 3 * HOUR]);
      assert.match(log.text(), /Left 1000 rows unsent/);

      for (let runs = 0, more = true; more; runs++) {
        assert.ok(runs < 5, 'the backlog is done within a few runs');
        more = (await runAgainst(stack, memory, { ...options, timeBudgetMs: 150_000 })).moreToDo;
      }
      const ids = receivedIds(stack);
      assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
      assert.equal(
        ids.length,
        activities.length,
        'nothing of an unfinished sub-window was sent, so nothing came twice',
      );
    });

    it('at the soft deadline between sub-windows, sends the carried batch and saves the last sub-window end', async (t) => {
      // Here the first sub-window holds one page (500 rows), which sizes the next at 2 h for two pages (1,000 rows) at
      // that rate: it holds 1,200 and takes three, and leaves the fourth hour for later.
      const activities = hourly([500, 600, 600, 300], startMs, 16);
      const stack = await startLocalStack({ activities });
      t.after(() => stack.close());
      const memory = new MemoryCheckpointStore('activities');
      const clock = new FakeClock(Date.now());
      // The second sub-window ends at 3 minutes, past the soft deadline (3/4 of 200 s); its last request was in time.
      const paging = { ...scan500, targetPages: 2 };
      const options = {
        ...paced(clock),
        paging,
        maxBatchBytes: 8 * 1024 * 1024,
        window: { startMs, endMs: startMs + 4 * HOUR - 1 },
      };
      const summary = await runAgainst(stack, memory, { ...options, timeBudgetMs: 200_000 });
      assert.equal(summary.moreToDo, true);
      assert.equal(summary.sent, 1_700);
      assert.deepEqual(subWindowEnds(stack), [startMs + HOUR, startMs + 3 * HOUR]);
      assert.deepEqual(
        stack.logAnalytics.batches.map((b) => b.records.length),
        [1_700],
        'one post for both sub-windows',
      );
      assert.deepEqual(
        memory.history.map((c) => c.cursor),
        [startMs + 3 * HOUR],
      );
      const rest = await runAgainst(stack, memory, { ...options, timeBudgetMs: 200_000 });
      assert.equal(rest.moreToDo, false);
      assert.deepEqual(receivedIds(stack).sort(), activities.map((a) => a['_id'] as string).sort());
    });

    it('when MCAS fails mid-scan, delivers the queued rows of completed sub-windows and saves their end before failing', async (t) => {
      const activities = hourly([300, 600, 600], startMs, 17);
      const stack = await startLocalStack({
        activities,
        mcas: { faults: (i) => (i === 3 ? { status: 401, body: { detail: 'Invalid token.' } } : undefined) },
      });
      t.after(() => stack.close());
      const memory = new MemoryCheckpointStore('activities');
      const options = {
        paging: scan500,
        maxBatchBytes: 8 * 1024 * 1024,
        window: { startMs, endMs: startMs + 3 * HOUR - 1 },
      };
      await assert.rejects(
        runAgainst(stack, memory, options),
        (error: unknown) => error instanceof HttpStatusError && error.status === 401,
      );
      assert.deepEqual(receivedIds(stack).sort(), firstHour(activities));
      assert.deepEqual(
        memory.history.map((c) => c.cursor),
        [startMs + HOUR],
      );
      await runAgainst(stack, memory, options);
      assert.deepEqual(receivedIds(stack).sort(), activities.map((a) => a['_id'] as string).sort());
    });

    it('when MCAS fails and delivering the completed sub-windows fails too, throws the MCAS error and saves nothing', async (t) => {
      const activities = hourly([300, 600, 600], startMs, 18);
      const stack = await startLocalStack({
        activities,
        mcas: { faults: (i) => (i === 3 ? { status: 401, body: { detail: 'Invalid token.' } } : undefined) },
        logAnalytics: { faults: () => ({ status: 403 }) },
      });
      t.after(() => stack.close());
      const memory = new MemoryCheckpointStore('activities');
      const log = new RecordingLogger();
      const options = {
        paging: scan500,
        maxBatchBytes: 8 * 1024 * 1024,
        window: { startMs, endMs: startMs + 3 * HOUR - 1 },
        log,
      };
      await assert.rejects(
        runAgainst(stack, memory, options),
        (error: unknown) => error instanceof HttpStatusError && error.service === 'MCAS',
      );
      assert.equal(stack.logAnalytics.requests.length, 1, 'one attempt at the 300 rows of the completed sub-window');
      assert.equal(memory.history.length, 0);
      assert.match(log.text(), /Could not deliver the 300 rows fetched before the failure/);
    });
  });
});
