import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { generateActivities, type RawActivity } from '../emulators/activityGenerator.js';
import { type LocalStack, startLocalStack } from '../emulators/localStack.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { CheckpointConflictError, HttpStatusError, PartialSendError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import { isCovered, receivedIds, runAgainst } from './helpers/pipeline.js';

const HOUR = 3600_000;

function dataset(count: number, seed: number): RawActivity[] {
  // Saved over the last few hours, with many ties and one tie group larger than a page.
  return generateActivities({ count, startCreatedMs: Date.now() - 6 * HOUR, seed, tiesEvery: 6, maxTie: 150, spanMs: 5 * HOUR });
}

describe('runIngestion end to end', () => {
  describe('on a healthy tenant', () => {
    const activities = dataset(1_234, 1);
    let stack: LocalStack;
    const checkpoints = new MemoryCheckpointStore('activities');
    before(async () => {
      stack = await startLocalStack({ activities });
    });
    after(() => stack.close());

    it('delivers every activity exactly once across many pages and batches', async () => {
      const summary = await runAgainst(stack, checkpoints);
      const ids = receivedIds(stack);
      assert.equal(summary.fetched, 1_234);
      assert.equal(summary.sent, 1_234);
      assert.equal(summary.flagged, 0);
      assert.ok(summary.pages >= 13, `pages: ${summary.pages}`);
      assert.ok(summary.batches > 1, `batches: ${summary.batches}`);
      assert.equal(ids.length, 1_234);
      assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
      assert.equal(summary.moreToDo, false);
    });

    it('sends every row with ActivityTime as the time-generated field under the configured Log-Type', () => {
      for (const batch of stack.logAnalytics.batches) {
        assert.equal(batch.logType, 'MCAS_Activity_Log');
        assert.equal(batch.timeGeneratedField, 'ActivityTime');
      }
      assert.equal(stack.logAnalytics.timeGeneratedFallbacks, 0);
    });

    it('moves the checkpoint forward only, ending just after the closed window', () => {
      const cursors = checkpoints.history.map((c) => c.cursor);
      assert.deepEqual(cursors, [...cursors].sort((a, b) => a - b));
      const last = checkpoints.history.at(-1);
      assert.ok(last);
      assert.equal(last.cursor, last.windowEnd + 1);
    });

    it('re-sends nothing on the next run', async () => {
      const before = stack.logAnalytics.rows().length;
      const summary = await runAgainst(stack, checkpoints);
      assert.equal(summary.sent, 0);
      assert.equal(stack.logAnalytics.rows().length, before);
    });

    it('picks up activities saved after the last run, even when they happened long before', async () => {
      // Saved just now (after the last window closed), though they happened five hours ago.
      const late = generateActivities({ count: 5, startCreatedMs: Date.now() + 1, seed: 9, spanMs: 500 }).map((a, i) => ({
        ...a,
        _id: `late-${i}`,
        timestamp: Date.now() - 5 * HOUR,
      }));
      stack.mcas.addActivities(late);
      const summary = await runAgainst(stack, checkpoints, { clock: { nowMs: () => Date.now() + 10_000 } });
      assert.equal(summary.sent, 5);
      assert.deepEqual(receivedIds(stack).slice(-5).sort(), late.map((a) => a['_id']).sort());
    });
  });

  it('does not advance the checkpoint past a rejected batch, and the next run resumes without a gap', async (t) => {
    const activities = dataset(900, 2);
    let rejectAt = 3;
    const stack = await startLocalStack({
      activities,
      logAnalytics: { faults: (i) => (i === rejectAt ? { status: 400, body: { Error: 'InvalidDataFormat', Message: 'scripted' } } : undefined) },
    });
    t.after(() => stack.close());
    const checkpoints = new MemoryCheckpointStore('activities');

    await assert.rejects(runAgainst(stack, checkpoints), (error: unknown) => {
      assert.ok(error instanceof PartialSendError);
      assert.ok(error.cause instanceof HttpStatusError && error.cause.status === 400);
      return true;
    });
    const accepted = new Set(receivedIds(stack));
    assert.ok(accepted.size > 0 && accepted.size < 900);
    for (const checkpoint of checkpoints.history) {
      for (const activity of activities) {
        if (isCovered(checkpoint, activity)) assert.ok(accepted.has(activity['_id'] as string), `checkpoint passed ${activity['_id']}`);
      }
    }

    rejectAt = -1;
    await runAgainst(stack, checkpoints);
    const ids = receivedIds(stack);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    const batchSizes = stack.logAnalytics.batches.map((b) => b.records.length);
    assert.ok(ids.length - 900 <= Math.max(...batchSizes), `duplicates: ${ids.length - 900}`);
  });

  it('keeps the checkpoint at the last accepted batch when MCAS fails, after delivering what it had fetched', async (t) => {
    const activities = dataset(700, 3);
    const stack = await startLocalStack({
      activities,
      mcas: { faults: (i) => (i >= 4 ? { status: 401, body: { detail: 'Invalid token.' } } : undefined) },
    });
    t.after(() => stack.close());
    const checkpoints = new MemoryCheckpointStore('activities');
    await assert.rejects(runAgainst(stack, checkpoints), (error: unknown) => error instanceof HttpStatusError && error.service === 'MCAS' && error.status === 401);
    const accepted = new Set(receivedIds(stack));
    assert.ok(accepted.size >= 100, 'the pages fetched before the failure were delivered');
    const last = checkpoints.history.at(-1);
    assert.ok(last);
    const covered = activities.filter((a) => isCovered(last, a)).map((a) => a['_id']);
    assert.deepEqual(new Set(covered), accepted);
  });

  it('stops between pages at the time budget, reports more to do, and the next run continues', async (t) => {
    const activities = dataset(1_000, 4);
    let offsetMs = 0;
    // Every MCAS request "takes" 10 s of the run's clock.
    const stack = await startLocalStack({ activities, mcas: { faults: () => ((offsetMs += 10_000), undefined) } });
    t.after(() => stack.close());
    const clock = { nowMs: () => Date.now() + offsetMs };
    const checkpoints = new MemoryCheckpointStore('activities');
    const log = new RecordingLogger();
    const first = await runAgainst(stack, checkpoints, { clock, timeBudgetMs: 60_000, log });
    assert.equal(first.moreToDo, true);
    assert.ok(first.pages >= 4 && first.pages <= 6, `pages: ${first.pages}`);
    assert.equal(first.sent, first.fetched);
    assert.match(log.text(), /Stopping at the time budget/);
    let runs = 1;
    for (let more = true; more && runs < 10; runs++) more = (await runAgainst(stack, checkpoints, { clock, timeBudgetMs: 60_000 })).moreToDo;
    assert.deepEqual(new Set(receivedIds(stack)), new Set(activities.map((a) => a['_id'])));
    assert.equal(receivedIds(stack).length, 1_000);
  });

  it('sends records that fail the schema as flagged rows and counts them', async (t) => {
    const activities = dataset(300, 5);
    const bad1 = activities[10] as RawActivity;
    delete bad1['_id'];
    const bad2 = activities[200] as RawActivity;
    bad2['timestamp'] = 'yesterday';
    const stack = await startLocalStack({ activities });
    t.after(() => stack.close());
    const log = new RecordingLogger();
    const summary = await runAgainst(stack, new MemoryCheckpointStore('activities'), { log });
    assert.equal(summary.flagged, 2);
    assert.equal(summary.sent, 300);
    const flagged = stack.logAnalytics.rows().filter((row) => row['IsFlagged'] === true);
    assert.equal(flagged.length, 2);
    assert.ok(flagged.some((row) => row['ActivityId'] === bad2['_id']));
    assert.equal(log.lines.filter((l) => l.level === 'warn' && /failed the schema/.test(l.message)).length, 2);
  });

  it('stops with CheckpointConflictError when another run advanced the checkpoint first', async (t) => {
    const stack = await startLocalStack({ activities: dataset(250, 6) });
    t.after(() => stack.close());
    const store = new MemoryCheckpointStore('activities');
    // A second writer saves right after this run has read the checkpoint.
    const racing = Object.assign(Object.create(store) as MemoryCheckpointStore, {
      load: async () => {
        const loaded = await store.load();
        await store.save({ version: 1, cursor: Date.now(), idsAtCursor: [], windowEnd: Date.now(), updatedAt: new Date().toISOString() }, loaded?.etag);
        return loaded;
      },
      save: store.save.bind(store),
      describe: store.describe.bind(store),
    });
    await assert.rejects(runAgainst(stack, racing, { maxBatchBytes: 1024 * 1024 }), CheckpointConflictError);
    assert.equal(store.history.length, 1, 'only the other writer\'s checkpoint was stored');
  });

  describe('in scan mode', () => {
    const scan = { mode: 'scan', pageSize: 5_000, windowMs: HOUR } as const;

    it('reads everything with pages of up to 5,000 and checkpoints only at sub-window ends', async (t) => {
      const activities = dataset(12_000, 8);
      const stack = await startLocalStack({ activities });
      t.after(() => stack.close());
      const checkpoints = new MemoryCheckpointStore('activities');
      const summary = await runAgainst(stack, checkpoints, { paging: scan, maxBatchBytes: 1024 * 1024 });
      const ids = receivedIds(stack);
      assert.equal(ids.length, 12_000);
      assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
      const requests = stack.mcas.requests.filter((r) => r.status === 200);
      assert.ok(requests.every((r) => (r.body as { isScan?: boolean }).isScan === true && (r.body as { limit: number }).limit === 5_000));
      assert.ok(requests.length < 20, `requests: ${requests.length}`);
      const cursors = checkpoints.history.map((c) => c.cursor);
      assert.deepEqual(cursors, [...cursors].sort((a, b) => a - b));
      assert.ok(checkpoints.history.every((c) => c.idsAtCursor.length === 0));
      assert.ok(cursors.length >= 3, 'several sub-windows');
      assert.equal(checkpoints.history.at(-1)?.cursor, (checkpoints.history.at(-1)?.windowEnd ?? 0) + 1);
      assert.equal(summary.moreToDo, false);
    });

    it('after a failed post mid-window, the next run re-sends at most that sub-window', async (t) => {
      const activities = dataset(6_000, 9);
      let failAt = 4;
      const stack = await startLocalStack({ activities, logAnalytics: { faults: (i) => (i === failAt ? { status: 403 } : undefined) } });
      t.after(() => stack.close());
      const checkpoints = new MemoryCheckpointStore('activities');
      const options = { paging: scan, maxBatchBytes: 256 * 1024 };
      await assert.rejects(runAgainst(stack, checkpoints, options), PartialSendError);
      const saved = checkpoints.history.at(-1);
      assert.ok(saved, 'at least one sub-window completed first');
      const accepted = new Set(receivedIds(stack));
      for (const activity of activities) if (isCovered(saved, activity)) assert.ok(accepted.has(activity['_id'] as string));

      failAt = -1;
      await runAgainst(stack, checkpoints, options);
      const ids = receivedIds(stack);
      assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
      // Duplicates stay within the sub-window that failed: at most the activities between two saved cursors.
      const cursors = checkpoints.history.map((c) => c.cursor);
      const between = cursors.slice(1).map((end, i) => activities.filter((a) => (a['created'] as number) >= (cursors[i] ?? 0) && (a['created'] as number) < end).length);
      assert.ok(ids.length - activities.length <= Math.max(...between), `duplicates: ${ids.length - activities.length}`);
      assert.ok(ids.length > activities.length, 'the failed sub-window was partly sent, so some rows came twice');
    });
  });
});

