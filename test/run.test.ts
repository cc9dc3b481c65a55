import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';

import { generateActivities, type RawActivity } from '../emulators/activityGenerator.js';
import { type LocalStack, startLocalStack } from '../emulators/localStack.js';
import type { CheckpointStore } from '../src/checkpoint/CheckpointStore.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { CheckpointConflictError, HttpStatusError, PartialSendError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import type { LogSink } from '../src/sink/LogSink.js';
import { isCovered, receivedIds, runAgainst } from './helpers/pipeline.js';
import { dataset, HOUR, withMcasRefusingFrom } from './helpers/runScenarios.js';

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
      assert.deepEqual(
        cursors,
        [...cursors].sort((a, b) => a - b),
      );
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
      const cursor = (await checkpoints.load())?.checkpoint.cursor ?? Date.now();
      const late = generateActivities({ count: 5, startCreatedMs: cursor, seed: 9, spanMs: 5 }).map((a, i) => ({
        ...a,
        _id: `late-${i}`,
        timestamp: Date.now() - 5 * HOUR,
      }));
      stack.mcas.addActivities(late);
      // MCAS's clock (its Date header) must have passed them too: a window never ends in MCAS's future.
      const lastCreated = Math.max(...late.map((a) => Number((a as Record<string, unknown>)['created'])));
      while (Date.now() <= lastCreated) await delay(2);
      const summary = await runAgainst(stack, checkpoints);
      assert.equal(summary.sent, 5);
      assert.deepEqual(receivedIds(stack).slice(-5).sort(), late.map((a) => a['_id']).sort());
    });
  });

  it('does not advance the checkpoint past a rejected batch, and the next run resumes without a gap', async (t) => {
    const activities = dataset(900, 2);
    let rejectAt = 3;
    const stack = await startLocalStack({
      activities,
      logAnalytics: {
        faults: (i) =>
          i === rejectAt ? { status: 400, body: { Error: 'InvalidDataFormat', Message: 'scripted' } } : undefined,
      },
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
        const id = activity['_id'] as string;
        if (isCovered(checkpoint, activity)) assert.ok(accepted.has(id), `checkpoint passed ${id}`);
      }
    }

    assert.equal(stack.logAnalytics.requests.length, rejectAt + 1, 'no post after the refused one');

    rejectAt = -1;
    await runAgainst(stack, checkpoints);
    const ids = receivedIds(stack);
    assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
    const batchSizes = stack.logAnalytics.batches.map((b) => b.records.length);
    assert.ok(ids.length - 900 <= Math.max(...batchSizes), `duplicates: ${ids.length - 900}`);
  });

  for (const paging of [{ mode: 'keyset' }, { mode: 'scan', pageSize: 500, windowMs: HOUR, targetPages: 1 }] as const) {
    it(`leaves each batch's bytes alone until its post is answered, while the next one fills (${paging.mode})`, async (t) => {
      const activities = dataset(900, 4);
      const stack = await startLocalStack({ activities });
      t.after(() => stack.close());
      const bodies: string[] = [];
      const summary = await runAgainst(stack, new MemoryCheckpointStore('activities'), {
        paging,
        wrapSink: (sink) => ({
          send: async (batch, options) => {
            await sink.send(batch, options);
            bodies.push(batch.body.toString('utf8')); // still this batch's bytes once accepted
          },
        }),
      });
      assert.ok(summary.batches >= 5, `batches: ${summary.batches}`);
      assert.deepEqual(new Set(receivedIds(stack)), new Set(activities.map((a) => a['_id'])));
      assert.equal(receivedIds(stack).length, 900);
      assert.deepEqual(
        bodies.map((body) => (JSON.parse(body) as { ActivityId: string }[]).map((row) => row.ActivityId)),
        stack.logAnalytics.batches.map((b) => b.records.map((r) => r['ActivityId'])),
        'each body was whole when its send resolved',
      );
    });
  }

  describe('while a batch is posted', () => {
    /** A sink that holds each post until `release(postNumber)` says so, and counts the posts in flight. */
    function heldSink(release: (postNumber: number) => Promise<void>): {
      wrapSink: (sink: LogSink) => LogSink;
      stats: { started: number; finished: number; maxInFlight: number };
    } {
      const stats = { started: 0, finished: 0, maxInFlight: 0 };
      const wrapSink = (sink: LogSink): LogSink => ({
        send: async (batch, options) => {
          const postNumber = ++stats.started;
          stats.maxInFlight = Math.max(stats.maxInFlight, stats.started - stats.finished);
          try {
            await release(postNumber);
            await sink.send(batch, options);
          } finally {
            stats.finished++;
          }
        },
      });
      return { wrapSink, stats };
    }

    /** Resolves once `condition` holds, polling between turns of the event loop; rejects after `limitMs`. */
    async function until(condition: () => boolean, limitMs = 5_000): Promise<void> {
      const giveUpAt = Date.now() + limitMs;
      while (!condition()) {
        if (Date.now() > giveUpAt) throw new Error('the condition never held');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }

    it('keeps reading MCAS into the next batch, with never two posts in flight and checkpoints in order', async (t) => {
      const activities = dataset(900, 5);
      const stack = await startLocalStack({ activities });
      t.after(() => stack.close());
      const checkpoints = new MemoryCheckpointStore('activities');
      let requestsWhileHeld = 0;
      const { wrapSink, stats } = heldSink(async (postNumber) => {
        if (postNumber !== 1) return;
        const before = stack.mcas.requests.length;
        // The first post is answered only once the run has read two more pages: it must not wait for this answer.
        await until(() => stack.mcas.requests.length >= before + 2);
        requestsWhileHeld = stack.mcas.requests.length - before;
      });
      // Batches of about two and a half pages, so that the next batch can take two more pages.
      const summary = await runAgainst(stack, checkpoints, { wrapSink, maxBatchBytes: 1024 * 1024 });
      assert.ok(requestsWhileHeld >= 2, `MCAS requests while the first post was held: ${requestsWhileHeld}`);
      assert.equal(stats.maxInFlight, 1, 'one post in flight at most');
      assert.equal(stats.started, summary.batches);
      assert.equal(receivedIds(stack).length, 900);
      const cursors = checkpoints.history.map((checkpoint) => checkpoint.cursor);
      assert.deepEqual(
        cursors,
        [...cursors].sort((a, b) => a - b),
        'checkpoints move forward only',
      );
      assert.equal(checkpoints.history.length, summary.batches, 'one checkpoint after each accepted batch');
    });

    it('stops reading MCAS as soon as the post in flight is refused, and sends nothing after it', async (t) => {
      const activities = dataset(3000, 6);
      const stack = await startLocalStack({
        activities,
        logAnalytics: {
          faults: (i) =>
            i === 0 ? { status: 400, body: { Error: 'InvalidDataFormat', Message: 'scripted' } } : undefined,
        },
      });
      t.after(() => stack.close());
      const checkpoints = new MemoryCheckpointStore('activities');
      let requestsAtRefusal = 0;
      const { wrapSink, stats } = heldSink(() => Promise.resolve());
      const refusals: LogSink = {
        send: async (batch, options) => {
          try {
            await wrapSink(inner).send(batch, options);
          } catch (error) {
            requestsAtRefusal = stack.mcas.requests.length;
            throw error;
          }
        },
      };
      let inner: LogSink = refusals;
      // Batches of about ten pages: reading on until the next one is full would take about ten more requests.
      await assert.rejects(
        runAgainst(stack, checkpoints, {
          maxBatchBytes: 2 * 1024 * 1024,
          wrapSink: (sink) => {
            inner = sink;
            return refusals;
          },
        }),
        (error: unknown) => error instanceof HttpStatusError && error.status === 400,
      );
      assert.equal(stats.started, 1, 'no post after the refused one');
      assert.equal(checkpoints.history.length, 0, 'the checkpoint did not move');
      assert.ok(
        stack.mcas.requests.length <= requestsAtRefusal + 2,
        `MCAS requests: ${requestsAtRefusal} at the refusal, ${stack.mcas.requests.length} in all`,
      );
    });

    it('when MCAS fails, waits for the post in flight and its checkpoint before delivering the rest and failing', async (t) => {
      const activities = dataset(900, 7);
      const { stack, checkpoints } = await withMcasRefusingFrom(t, activities, 6);
      const { wrapSink, stats } = heldSink(async () => {
        // Each post is held until MCAS has answered one more request; the one in flight when MCAS refuses a request is held
        // a while longer, so that the run meets the failure with it in flight.
        const failed = (): boolean => stack.mcas.requests.some((request) => request.status === 401);
        if (failed()) return;
        const before = stack.mcas.requests.length;
        await until(
          () => stack.mcas.requests.length > before && stack.mcas.requests.every((request) => request.status !== 0),
        );
        if (failed()) await new Promise((resolve) => setTimeout(resolve, 200));
      });
      const log = new RecordingLogger();
      await assert.rejects(
        runAgainst(stack, checkpoints, { wrapSink, log, maxBatchBytes: 512 * 1024 }),
        (error: unknown) => {
          assert.ok(error instanceof HttpStatusError && error.service === 'MCAS' && error.status === 401);
          assert.equal(stats.finished, stats.started, 'no post outlives the run');
          assert.equal(stats.maxInFlight, 1, 'the rest was sent after the post in flight was accepted');
          return true;
        },
      );
      assert.ok(stats.started >= 3, `posts: ${stats.started}`);
      const accepted = new Set(receivedIds(stack));
      const last = checkpoints.history.at(-1);
      assert.ok(last);
      assert.deepEqual(new Set(activities.filter((a) => isCovered(last, a)).map((a) => a['_id'])), accepted);
      const read = log.lines
        .map((line) => /^Page \d+: (\d+) records/.exec(line.message))
        .reduce((sum, match) => sum + Number(match?.[1] ?? 0), 0);
      assert.equal(stack.mcas.requests.filter((request) => request.status === 200).length, 6);
      assert.equal(accepted.size, read, 'every record of the six pages read was delivered');
    });
  });

  it('keeps the checkpoint at the last accepted batch when MCAS fails, after delivering what it had fetched', async (t) => {
    const activities = dataset(700, 3);
    const { stack, checkpoints } = await withMcasRefusingFrom(t, activities, 4);
    await assert.rejects(
      runAgainst(stack, checkpoints),
      (error: unknown) => error instanceof HttpStatusError && error.service === 'MCAS' && error.status === 401,
    );
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
    for (let more = true; more && runs < 10; runs++)
      more = (await runAgainst(stack, checkpoints, { clock, timeBudgetMs: 60_000 })).moreToDo;
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
    const racing: CheckpointStore = {
      load: async () => {
        const loaded = await store.load();
        await store.save(
          {
            version: 1,
            cursor: Date.now(),
            idsAtCursor: [],
            windowEnd: Date.now(),
            updatedAt: new Date().toISOString(),
          },
          loaded?.etag,
        );
        return loaded;
      },
      save: (checkpoint, etag) => store.save(checkpoint, etag),
      prepare: (stored) => store.prepare(stored),
      describe: () => store.describe(),
      loadReport: () => store.loadReport(),
      saveReport: (report) => store.saveReport(report),
    };
    await assert.rejects(runAgainst(stack, racing, { maxBatchBytes: 1024 * 1024 }), CheckpointConflictError);
    assert.equal(store.history.length, 1, "only the other writer's checkpoint was stored");
  });
});
