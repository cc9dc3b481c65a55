import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Delivery } from '../src/Delivery.js';
import { PartialSendError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import type { Position, ResumeMark } from '../src/mcas/KeysetPosition.js';
import type { PagedRecord } from '../src/mcas/pageRecords.js';
import type { Batch, LogSink } from '../src/sink/LogSink.js';
import { ACTIVITIES, type StreamSpec } from '../src/streams.js';

/** A stream whose rows are the raw records themselves: `{"n":<n>}`, 7 to 9 bytes each. */
const PLAIN: StreamSpec = { ...ACTIVITIES, map: (raw) => ({ record: raw as object, flagged: false }) };

const at =
  (cursorMs: number): ResumeMark =>
  () => ({ cursorMs, idsAtCursor: [] });

function record(n: number, marked: boolean): PagedRecord {
  return { raw: { n }, createdMs: n, id: `id-${n}`, ...(marked ? { mark: at(n + 1) } : {}) };
}

/**
 * A sink whose posts wait until released, in order; `refuse` makes the post numbered so (1-based) fail. It records
 * what happened in `events`, so a test can see the order of posts, answers and saves.
 */
function heldSink(refuse = 0) {
  const events: string[] = [];
  const waiting: (() => void)[] = [];
  let posts = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const sink: LogSink = {
    send: async (batch: Batch) => {
      const number = ++posts;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const rows = (JSON.parse(batch.body.toString('utf8')) as { n: number }[]).map((row) => row.n);
      events.push(`post ${rows.join(',')}`);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight--;
      if (number === refuse) {
        events.push(`refused ${number}`);
        throw new Error(`post ${number} refused`);
      }
      events.push(`accepted ${number}`);
    },
  };
  const release = async (): Promise<void> => {
    for (let i = 0; i < 20 && waiting.length === 0; i++) await new Promise((resolve) => setImmediate(resolve));
    waiting.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { sink, events, release, stats: () => ({ posts, maxInFlight }) };
}

function delivery(sink: LogSink, events: string[], failSaveAt = -1) {
  const saved: Position[] = [];
  const log = new RecordingLogger();
  const d = new Delivery({
    sink,
    save: (position) => {
      if (saved.length === failSaveAt) return Promise.reject(new Error('save failed'));
      saved.push(position);
      events.push(`save ${position.cursorMs}`);
      return Promise.resolve();
    },
    stream: PLAIN,
    // Two-digit rows `{"n":10}` are 8 bytes: three fit in 2 + 3 x 8 + 2 = 28 bytes.
    maxBatchBytes: 28,
    deadlineMs: Number.MAX_SAFE_INTEGER,
    log,
  });
  return { d, saved, log };
}

describe('Delivery', () => {
  it('posts a full batch while the next one fills, and saves its last mark only once it is accepted', async () => {
    const { sink, events, release, stats } = heldSink();
    const { d, saved } = delivery(sink, events);
    for (let n = 10; n < 14; n++) await d.add(record(n, true)); // the fourth row closes the first batch
    assert.deepEqual(events, ['post 10,11,12']);
    await d.add(record(14, true));
    await d.add(record(15, true)); // the second batch fills meanwhile
    assert.deepEqual(saved, []);
    const adding = d.add(record(16, true)); // closes the second batch: waits for the first post and its save
    await release();
    await adding;
    assert.deepEqual(events, ['post 10,11,12', 'accepted 1', 'save 13', 'post 13,14,15']);
    const finishing = d.finish();
    await release();
    await release();
    const delivered = await finishing;
    assert.deepEqual(events.slice(4), ['accepted 2', 'save 16', 'post 16', 'accepted 3', 'save 17']);
    assert.deepEqual(delivered, { sent: 7, batches: 3, flagged: 0, saved: { cursorMs: 17, idsAtCursor: [] } });
    assert.equal(stats().maxInFlight, 1);
  });

  it('keeps the last mark added before a batch closed: a batch without one saves nothing', async () => {
    const { sink, events, release } = heldSink();
    const { d } = delivery(sink, events);
    await d.add(record(10, false));
    await d.add(record(11, false));
    await d.mark(at(100)); // the end of a scan sub-window, with its rows queued
    await d.add(record(12, false));
    await d.add(record(13, false)); // closes [10, 11, 12]: mark 100
    const adding = d.add(record(14, false));
    await d.add(record(15, false));
    await release();
    await adding;
    const closing = d.add(record(16, false)); // closes [13, 14, 15], which holds no mark
    await release();
    await closing;
    await d.mark(at(200));
    const finishing = d.finish();
    await release();
    await finishing;
    assert.deepEqual(events, [
      'post 10,11,12',
      'accepted 1',
      'save 100',
      'post 13,14,15',
      'accepted 2',
      'post 16',
      'accepted 3',
      'save 200',
    ]);
  });

  it('at the end sends the queued rows up to the last mark and drops the rest', async () => {
    const { sink, events, release } = heldSink();
    const { d, log } = delivery(sink, events);
    await d.add(record(10, false));
    await d.mark(at(50));
    await d.add(record(11, false));
    await d.add(record(12, false));
    assert.equal(d.deliverableRows, 1);
    const finishing = d.finish();
    await release();
    const delivered = await finishing;
    assert.deepEqual(events, ['post 10', 'accepted 1', 'save 50']);
    assert.equal(delivered.sent, 1);
    assert.match(log.text(), /Left 2 rows unsent/);
  });

  it('saves a mark at once when nothing is queued, and sends nothing at the end when no mark was added', async () => {
    const { sink, events } = heldSink();
    const { d, saved } = delivery(sink, events);
    await d.mark(at(7));
    assert.deepEqual(saved, [{ cursorMs: 7, idsAtCursor: [] }]);
    await d.add(record(10, false));
    assert.deepEqual(await d.finish(), {
      sent: 0,
      batches: 0,
      flagged: 0,
      saved: { cursorMs: 7, idsAtCursor: [] },
    });
    assert.deepEqual(events, ['save 7']);
  });

  it('after a refused post, refuses more rows, posts nothing more and throws it from finish', async () => {
    const { sink, events, release, stats } = heldSink(2);
    const { d, saved } = delivery(sink, events);
    for (let n = 10; n < 17; n++) {
      const adding = d.add(record(n, true));
      if (n === 16) await release();
      await adding;
    }
    await release(); // the second post is refused
    await assert.rejects(d.add(record(17, true)), (error: unknown) => {
      assert.ok(error instanceof PartialSendError);
      assert.equal(error.batchesSent, 1);
      assert.equal(error.recordsSent, 3);
      return true;
    });
    await assert.rejects(d.finish(), PartialSendError);
    assert.equal(stats().posts, 2);
    assert.deepEqual(saved, [{ cursorMs: 13, idsAtCursor: [] }]);
    assert.equal(d.failed, true);
  });

  it('throws the first refusal as it came when nothing was accepted before it, and stops after a failed save', async () => {
    const refused = heldSink(1);
    const first = delivery(refused.sink, refused.events);
    await first.d.add(record(10, true));
    const finishing = assert.rejects(first.d.finish(), /post 1 refused/);
    await refused.release();
    await finishing;

    const accepted = heldSink();
    const second = delivery(accepted.sink, accepted.events, 0);
    await second.d.add(record(10, true));
    const ending = assert.rejects(second.d.finish(), /save failed/);
    await accepted.release();
    await ending;
    await assert.rejects(second.d.add(record(11, true)), /save failed/);
  });
});
