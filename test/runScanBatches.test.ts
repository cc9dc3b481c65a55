import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { startLocalStack } from '../emulators/localStack.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { PartialSendError } from '../src/errors.js';
import type { RunProgress } from '../src/run.js';
import { receivedIds, runAgainst } from './helpers/pipeline.js';
import {
  assertSavesFollowAcceptedRows,
  createdOf,
  HOUR,
  hourly,
  rowsPerSubWindow,
  subWindowEnds,
  watchSaves,
} from './helpers/runScenarios.js';

// Scan mode end to end: the batch left open at a sub-window's end is carried into the next, and every checkpoint is
// the last sub-window end whose rows Log Analytics has all accepted.
describe('runIngestion end to end in scan mode, carrying the open batch across sub-windows', () => {
  // Pages of 50 (MCAS's own minimum is 500; the emulator is told to take 50), so that the few hundred rows here span
  // as many pages and sub-windows as thousands would at pages of 500, and batches of a tenth of the usual size.
  const scan50 = { mode: 'scan', pageSize: 50, windowMs: HOUR, targetPages: 2 } as const;
  const mcas = { minScanLimit: 50 };
  // Rows per hour. The first sub-window is 1 h (80 rows); each next one is sized for 2 pages (100 rows) at the
  // rate the one before showed: 1.25 h (159 rows, so the next shrinks), 47 min (33, so the next grows), 2.4 h (397),
  // and the rest of the window, about 35 min (51).
  const COUNTS = [80, 150, 30, 250, 120, 90];
  const SUB_WINDOW_ROWS = [80, 159, 33, 397, 51];
  const startMs = Date.now() - 12 * HOUR;
  const window = { startMs, endMs: startMs + COUNTS.length * HOUR - 1 };

  it('posts only full batches, and checkpoints after each the last sub-window its rows complete', async (t) => {
    const activities = hourly(COUNTS, startMs, 11);
    const stack = await startLocalStack({ activities, mcas });
    t.after(() => stack.close());
    const maxBatchBytes = 200 * 1024;
    const { store, saves } = watchSaves(new MemoryCheckpointStore('activities'), stack);
    const summary = await runAgainst(stack, store, { paging: scan50, maxBatchBytes, window });

    const ids = receivedIds(stack);
    assert.equal(ids.length, activities.length);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    assert.deepEqual(rowsPerSubWindow(activities, startMs, subWindowEnds(stack)), SUB_WINDOW_ROWS);
    const posts = stack.logAnalytics.requests.filter((r) => r.status === 200);
    const floor = Math.ceil(posts.reduce((sum, r) => sum + r.bodyBytes, 0) / maxBatchBytes);
    assert.ok(posts.length <= floor + 1, `posts: ${posts.length}, floor ${floor}`);
    // No post was cut short at a sub-window end: the row that opened the next one would not have fitted.
    stack.logAnalytics.batches.slice(1).forEach((next, i) => {
      const nextRowBytes = Buffer.byteLength(JSON.stringify(next.records[0]));
      assert.ok((posts[i]?.bodyBytes ?? 0) + 1 + nextRowBytes > maxBatchBytes, `post ${i} was not full`);
    });
    assertSavesFollowAcceptedRows(saves, activities);
    assert.ok(saves.length >= 3 && saves.length <= posts.length, `saves: ${saves.length}, posts ${posts.length}`);
    assert.equal(saves.at(-1)?.cursor, window.endMs + 1);
    assert.equal(summary.checkpoint, new Date(window.endMs + 1).toISOString());
    assert.equal(summary.moreToDo, false);
  });

  it('after a refused post, keeps the checkpoint at the last sub-window all accepted and re-sends only within the next', async (t) => {
    const activities = hourly(COUNTS, startMs, 12);
    let failAt = 9;
    const stack = await startLocalStack({
      activities,
      mcas,
      logAnalytics: { faults: (i) => (i === failAt ? { status: 403 } : undefined) },
    });
    t.after(() => stack.close());
    const memory = new MemoryCheckpointStore('activities');
    const { store, saves } = watchSaves(memory, stack);
    const options = { paging: scan50, maxBatchBytes: 50 * 1024, window };
    await assert.rejects(runAgainst(stack, store, options), PartialSendError);
    assertSavesFollowAcceptedRows(saves, activities);
    const accepted = new Set(receivedIds(stack));
    const checkpoint = memory.history.at(-1);
    assert.ok(checkpoint);
    const ends = subWindowEnds(stack);
    const allAccepted = (end: number): boolean =>
      activities.every((a) => createdOf(a) >= end || accepted.has(a['_id'] as string));
    assert.equal(checkpoint.cursor, ends.filter(allAccepted).at(-1), 'the last mark whose rows were all accepted');

    // What was accepted past the checkpoint all lies in the one sub-window after it, and is all the next run repeats.
    const nextEnd = ends.find((end) => end > checkpoint.cursor) ?? Infinity;
    const past = activities.filter((a) => accepted.has(a['_id'] as string) && createdOf(a) >= checkpoint.cursor);
    assert.ok(past.length > 0 && past.every((a) => createdOf(a) < nextEnd), `${past.length} rows past the checkpoint`);
    failAt = -1;
    await runAgainst(stack, memory, options);
    const ids = receivedIds(stack);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    assert.equal(ids.length - activities.length, past.length);
  });

  it('after a crash between an accepted post and its checkpoint, re-sends at most one sub-window plus that post', async (t) => {
    const activities = hourly(COUNTS, startMs, 13);
    const stack = await startLocalStack({ activities, mcas });
    t.after(() => stack.close());
    const memory = new MemoryCheckpointStore('activities');
    const { store } = watchSaves(memory, stack, 1);
    const options = { paging: scan50, maxBatchBytes: 50 * 1024, window };
    await assert.rejects(runAgainst(stack, store, options), /scripted crash/);
    const checkpoint = memory.history.at(-1);
    assert.ok(checkpoint);
    // The post whose checkpoint write "crashed" was stored: it is the batch in flight of the bound.
    const inFlight = new Set(stack.logAnalytics.batches.at(-1)?.records.map((row) => row['ActivityId'] as string));
    const created = new Map(activities.map((a) => [a['_id'] as string, createdOf(a)]));
    const nextEnd = subWindowEnds(stack).find((end) => end > checkpoint.cursor) ?? Infinity;
    const past = receivedIds(stack).filter((id) => (created.get(id) ?? 0) >= checkpoint.cursor);
    for (const id of past)
      assert.ok(
        (created.get(id) ?? 0) < nextEnd || inFlight.has(id),
        `${id}: past the sub-window and not in the last post`,
      );
    // Both parts of the bound are there: earlier posts of the sub-window after the checkpoint, and a last post that
    // reached into the sub-window after that (what carrying the batch adds to the bound).
    assert.ok(past.some((id) => !inFlight.has(id)));
    assert.ok(past.some((id) => (created.get(id) ?? 0) >= nextEnd));

    await runAgainst(stack, memory, options);
    const ids = receivedIds(stack);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    assert.equal(ids.length - activities.length, past.length);
  });

  it('leaves the checkpoint alone in a dry run and sends nothing', async (t) => {
    const activities = hourly(COUNTS, startMs, 14);
    const stack = await startLocalStack({ activities, mcas });
    t.after(() => stack.close());
    const memory = new MemoryCheckpointStore('activities');
    const progress: RunProgress[] = [];
    const summary = await runAgainst(stack, memory, {
      paging: scan50,
      maxBatchBytes: 200 * 1024,
      window,
      dryRun: true,
      onProgress: (p) => progress.push(p),
    });
    assert.equal(summary.fetched, activities.length);
    assert.equal(summary.sent, 0);
    assert.ok(progress.length > 3 && progress.every((p) => p.sent === 0), 'progress counts nothing as sent');
    assert.equal(summary.batches, 0);
    assert.equal(stack.logAnalytics.requests.length, 0);
    assert.equal(memory.history.length, 0);
    assert.equal(summary.moreToDo, false);
  });
});
