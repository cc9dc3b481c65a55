import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BatchBuilder, splitIntoBatches } from '../../src/batch/BatchBuilder.js';
import { RecordTooLargeError } from '../../src/errors.js';

function row(i: number, text = 'x'): { json: string; id: string } {
  return { json: JSON.stringify({ Id: `id-${i}`, Text: text }), id: `id-${i}` };
}

/** Takes each batch a builder closes as a sink would: keeps its body's text and memory, then hands it back. */
function collect(builder: BatchBuilder, handBacks: number) {
  const bodies: string[] = [];
  const memories = new Set<ArrayBufferLike>();
  const take = (batch: { body: Buffer; recordCount: number } | undefined): void => {
    if (!batch) return;
    bodies.push(batch.body.toString('utf8'));
    memories.add(batch.body.buffer);
    for (let i = 0; i < handBacks; i++) builder.recycle(batch);
  };
  return { bodies, memories, take };
}

describe('BatchBuilder', () => {
  it('produces JSON arrays whose byte length never exceeds the limit and keeps every row in order', () => {
    const rows = Array.from({ length: 500 }, (_, i) => row(i, 'ü山🚀'.repeat(i % 17)));
    const limit = 2_000;
    const batches = splitIntoBatches(rows, limit);
    assert.ok(batches.length > 1);
    const ids: string[] = [];
    for (const batch of batches) {
      assert.ok(batch.body.length <= limit, `batch of ${batch.body.length} bytes`);
      const parsed = JSON.parse(batch.body.toString('utf8')) as { Id: string }[];
      assert.equal(parsed.length, batch.recordCount);
      ids.push(...parsed.map((r) => r.Id));
    }
    assert.deepEqual(
      ids,
      rows.map((r) => r.id),
    );
  });

  it('fills a batch to exactly the limit, counting brackets and commas', () => {
    const a = row(1);
    const b = row(2);
    const exact = 2 + Buffer.byteLength(a.json) + 1 + Buffer.byteLength(b.json);
    assert.equal(splitIntoBatches([a, b], exact).length, 1);
    assert.equal(splitIntoBatches([a, b], exact - 1).length, 2);
  });

  it('returns the closed batch when a row does not fit and starts the next one with that row', () => {
    const builder = new BatchBuilder(60);
    assert.equal(builder.add(row(1).json, 'id-1'), undefined);
    const closed = builder.add(row(2, 'y'.repeat(20)).json, 'id-2');
    assert.ok(closed);
    assert.equal(closed.recordCount, 1);
    assert.equal(builder.recordCount, 1);
    assert.equal(JSON.parse(builder.flush()?.body.toString() ?? '')[0].Id, 'id-2');
    assert.equal(builder.flush(), undefined);
  });

  it('flushFirst sends only the oldest rows, drops the rest, and leaves the builder empty for the next batch', () => {
    const builder = new BatchBuilder(10_000);
    for (let i = 0; i < 5; i++) builder.add(row(i, 'ü'.repeat(i)).json, `id-${i}`);
    const first = builder.flushFirst(3);
    assert.ok(first);
    assert.equal(first.recordCount, 3);
    assert.deepEqual(
      JSON.parse(first.body.toString('utf8')).map((r: { Id: string }) => r.Id),
      ['id-0', 'id-1', 'id-2'],
    );
    assert.equal(
      first.body.length,
      splitIntoBatches(
        [0, 1, 2].map((i) => row(i, 'ü'.repeat(i))),
        10_000,
      )[0]?.body.length,
    );
    assert.equal(builder.recordCount, 0);
    assert.equal(builder.pendingBytes, 0);
    assert.equal(builder.flush(), undefined);
    // The byte count starts afresh: a row that fits an empty batch is not closed early by the dropped rows' bytes.
    const big = row(9, 'z'.repeat(9_900));
    assert.equal(builder.add(big.json, big.id), undefined);
    assert.equal(builder.flush()?.recordCount, 1);
  });

  it('flushFirst(0) drops everything and flushFirst(all) is flush; more rows than queued is refused', () => {
    const builder = new BatchBuilder(1_000);
    builder.add(row(1).json, 'id-1');
    builder.add(row(2).json, 'id-2');
    assert.throws(() => builder.flushFirst(3), RangeError);
    assert.throws(() => builder.flushFirst(-1), RangeError);
    assert.equal(builder.recordCount, 2, 'a refused call changes nothing');
    assert.equal(builder.flushFirst(0), undefined);
    assert.equal(builder.recordCount, 0);
    builder.add(row(3).json, 'id-3');
    builder.add(row(4).json, 'id-4');
    assert.deepEqual(builder.flushFirst(2), splitIntoBatches([row(3), row(4)], 1_000)[0]);
  });

  it('refuses a single row larger than a batch instead of looping or sending it', () => {
    const builder = new BatchBuilder(100);
    assert.throws(() => builder.add(row(1, 'z'.repeat(200)).json, 'id-1'), RecordTooLargeError);
  });

  it('writes the next batch over a recycled one, and only over memory it lent out and got back once', () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(i, 'ü山🚀'.repeat(i % 5)));
    const limit = 400;
    const expected = splitIntoBatches(rows, limit).map((batch) => batch.body.toString('utf8'));

    const builder = new BatchBuilder(limit);
    const { bodies, memories, take } = collect(builder, 2); // a second hand-back must not put the same memory in use twice
    for (const r of rows) take(builder.add(r.json, r.id));
    take(builder.flush());
    assert.deepEqual(bodies, expected, 'recycling changes no byte of any batch');
    assert.ok(expected.length > 3);
    assert.equal(memories.size, 2, 'one buffer filling while the other is in flight, reused from then on');
  });

  it('serves every batch from one buffer when each is closed, sent and given back before the row that did not fit', () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(i, 'ü山🚀'.repeat(i % 5)));
    const limit = 400;
    const expected = splitIntoBatches(rows, limit).map((batch) => batch.body.toString('utf8'));
    const builder = new BatchBuilder(limit);
    const { bodies, memories, take } = collect(builder, 1);
    for (const r of rows) {
      if (!builder.fits(r.json, r.id)) take(builder.flush());
      assert.equal(builder.add(r.json, r.id), undefined, 'a row that fits never closes a batch');
    }
    take(builder.flush());
    assert.deepEqual(bodies, expected, 'the same batches as add alone cuts');
    assert.equal(memories.size, 1);
    assert.throws(() => builder.fits(row(99, 'z'.repeat(limit)).json, 'id-99'), RecordTooLargeError);
  });

  it('never writes over a batch that was not given back', () => {
    const builder = new BatchBuilder(100);
    const kept = [builder.add(row(1, 'a'.repeat(40)).json, 'id-1'), builder.add(row(2, 'b'.repeat(40)).json, 'id-2')];
    const first = kept[1];
    assert.ok(first);
    const before = first.body.toString('utf8');
    builder.recycle({ body: Buffer.from(before), recordCount: 1 }); // a copy: not memory the builder lent out
    builder.add(row(3, 'c'.repeat(40)).json, 'id-3');
    builder.add(row(4, 'd'.repeat(40)).json, 'id-4');
    builder.flush();
    assert.equal(first.body.toString('utf8'), before);
    assert.equal(JSON.parse(before)[0].Id, 'id-1');
  });
});
