import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it, type TestContext } from 'node:test';

import { generateActivities, type RawActivity } from '../emulators/activityGenerator.js';
import { type LocalStack, startLocalStack } from '../emulators/localStack.js';
import type { CheckpointStore } from '../src/checkpoint/CheckpointStore.js';
import { MemoryCheckpointStore } from '../src/checkpoint/MemoryCheckpointStore.js';
import { CheckpointConflictError, HttpStatusError, PartialSendError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import type { RunProgress } from '../src/run.js';
import type { LogSink } from '../src/sink/LogSink.js';
import { FakeClock } from './helpers/fakeTime.js';
import { isCovered, receivedIds, runAgainst } from './helpers/pipeline.js';

const HOUR = 3600_000;

function dataset(count: number, seed: number): RawActivity[] {
  // Saved over the last few hours, with many ties and one tie group larger than a page.
  return generateActivities({
    count,
    startCreatedMs: Date.now() - 6 * HOUR,
    seed,
    tiesEvery: 6,
    maxTie: 150,
    spanMs: 5 * HOUR,
  });
}

/** `counts[h]` activities created in hour h after `startMs`, ascending, in threes sharing a millisecond. */
function hourly(counts: readonly number[], startMs: number, seed: number): RawActivity[] {
  const activities = generateActivities({
    count: counts.reduce((sum, count) => sum + count, 0),
    startCreatedMs: startMs,
    seed,
  });
  let index = 0;
  counts.forEach((count, hour) => {
    const stepMs = Math.floor((3 * HOUR) / (count + 3));
    for (let i = 0; i < count; i++)
      (activities[index++] as RawActivity)['created'] = startMs + hour * HOUR + Math.floor(i / 3) * stepMs;
  });
  return activities;
}

function createdOf(activity: RawActivity): number {
  return activity['created'] as number;
}

/** Rows of each sub-window, given its ends (exclusive) and where the first one starts. */
function rowsPerSubWindow(activities: readonly RawActivity[], startMs: number, ends: readonly number[]): number[] {
  return ends.map(
    (end, i) => activities.filter((a) => createdOf(a) >= (ends[i - 1] ?? startMs) && createdOf(a) < end).length,
  );
}

/** The end (exclusive) of the sub-window of every scan request, in the order they were sent. */
function requestEnds(stack: LocalStack): number[] {
  return stack.mcas.requests.map((r) => (r.body as { filters: { created: { lte: number } } }).filters.created.lte + 1);
}

/** Ends (exclusive) of the sub-windows scanned so far, from the `created` filter every scan request carries. */
function subWindowEnds(stack: LocalStack): number[] {
  return [...new Set(requestEnds(stack))].sort((a, b) => a - b);
}

/** A stack whose MCAS refuses the token from its request number `from` (0-based) on, closed after the test. */
async function withMcasRefusingFrom(
  t: TestContext,
  activities: readonly RawActivity[],
  from: number,
): Promise<{ stack: LocalStack; checkpoints: MemoryCheckpointStore }> {
  const stack = await startLocalStack({
    activities,
    mcas: { faults: (i) => (i >= from ? { status: 401, body: { detail: 'Invalid token.' } } : undefined) },
  });
  t.after(() => stack.close());
  return { stack, checkpoints: new MemoryCheckpointStore('activities') };
}

interface SeenSave {
  cursor: number;
  /** Ids Log Analytics had accepted when the checkpoint was written. */
  accepted: Set<string>;
  /** Sub-window ends scanned by then. */
  ends: number[];
}

/**
 * `store`, noting at each save what Log Analytics had accepted and which sub-windows had been scanned. The save
 * numbered `crashAt` (0-based) throws instead, as a crash between an accepted post and its checkpoint would.
 */
function watchSaves(
  store: MemoryCheckpointStore,
  stack: LocalStack,
  crashAt = -1,
): { store: CheckpointStore; saves: SeenSave[] } {
  const saves: SeenSave[] = [];
  const watched: CheckpointStore = {
    load: () => store.load(),
    save: async (checkpoint, etag) => {
      if (saves.length === crashAt) throw new Error('scripted crash before the checkpoint write');
      saves.push({ cursor: checkpoint.cursor, accepted: new Set(receivedIds(stack)), ends: subWindowEnds(stack) });
      return store.save(checkpoint, etag);
    },
    prepare: (stored) => store.prepare(stored),
    describe: () => store.describe(),
    loadReport: () => store.loadReport(),
    saveReport: (report) => store.saveReport(report),
  };
  return { store: watched, saves };
}

/**
 * Each checkpoint written is the latest sub-window end scanned so far before which Log Analytics had accepted every
 * activity: never one with rows still unsent (a gap), and never one behind what the accepted batch completed.
 */
function assertSavesFollowAcceptedRows(saves: readonly SeenSave[], activities: readonly RawActivity[]): void {
  assert.ok(saves.length > 0);
  for (const save of saves) {
    const allAccepted = (end: number): boolean =>
      activities.every((a) => createdOf(a) >= end || save.accepted.has(a['_id'] as string));
    assert.equal(
      save.cursor,
      save.ends.filter(allAccepted).at(-1),
      `save at ${save.cursor} with ${save.accepted.size} rows accepted`,
    );
  }
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

  describe('in scan mode', () => {
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
      assert.ok(
        ids.length - activities.length <= Math.max(...between),
        `duplicates: ${ids.length - activities.length}`,
      );
      assert.ok(ids.length > activities.length, 'the failed sub-window was partly sent, so some rows came twice');
    });

    describe('carrying the open batch across sub-windows', () => {
      const scan500 = { mode: 'scan', pageSize: 500, windowMs: HOUR, targetPages: 2 } as const;
      // Rows per hour. The first sub-window is 1 h (800 rows); each next one is sized for 2 pages (1,000 rows) at the
      // rate the one before showed: 1.25 h (1,578 rows, so the next shrinks), 47.5 min (330, so the next grows),
      // 2.4 h (3,994), and the last 33 min (498).
      const COUNTS = [800, 1_500, 300, 2_500, 1_200, 900];
      const SUB_WINDOW_ROWS = [800, 1_578, 330, 3_994, 498];
      const startMs = Date.now() - 12 * HOUR;
      const window = { startMs, endMs: startMs + COUNTS.length * HOUR - 1 };

      it('posts only full batches, and checkpoints after each the last sub-window its rows complete', async (t) => {
        const activities = hourly(COUNTS, startMs, 11);
        const stack = await startLocalStack({ activities });
        t.after(() => stack.close());
        const maxBatchBytes = 2 * 1024 * 1024;
        const { store, saves } = watchSaves(new MemoryCheckpointStore('activities'), stack);
        const summary = await runAgainst(stack, store, { paging: scan500, maxBatchBytes, window });

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
          logAnalytics: { faults: (i) => (i === failAt ? { status: 403 } : undefined) },
        });
        t.after(() => stack.close());
        const memory = new MemoryCheckpointStore('activities');
        const { store, saves } = watchSaves(memory, stack);
        const options = { paging: scan500, maxBatchBytes: 512 * 1024, window };
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
        assert.ok(
          past.length > 0 && past.every((a) => createdOf(a) < nextEnd),
          `${past.length} rows past the checkpoint`,
        );
        failAt = -1;
        await runAgainst(stack, memory, options);
        const ids = receivedIds(stack);
        assert.deepEqual(new Set(ids), new Set(activities.map((a) => a['_id'])));
        assert.equal(ids.length - activities.length, past.length);
      });

      it('after a crash between an accepted post and its checkpoint, re-sends at most one sub-window plus that post', async (t) => {
        const activities = hourly(COUNTS, startMs, 13);
        const stack = await startLocalStack({ activities });
        t.after(() => stack.close());
        const memory = new MemoryCheckpointStore('activities');
        const { store } = watchSaves(memory, stack, 1);
        const options = { paging: scan500, maxBatchBytes: 512 * 1024, window };
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
        const stack = await startLocalStack({ activities });
        t.after(() => stack.close());
        const memory = new MemoryCheckpointStore('activities');
        const progress: RunProgress[] = [];
        const summary = await runAgainst(stack, memory, {
          paging: scan500,
          maxBatchBytes: 2 * 1024 * 1024,
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
});
