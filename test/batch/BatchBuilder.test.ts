import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BatchBuilder, splitBatchInHalf } from '../../src/batch/BatchBuilder.js';
import { RecordTooLargeError } from '../../src/errors.js';
import type { Batch } from '../../src/sink/LogSink.js';

function row(i: number, text = 'x'): { json: string; id: string } {
  return { json: JSON.stringify({ Id: `id-${i}`, Text: text }), id: `id-${i}` };
}

/**
 * Cuts `rows` into batches as the run does: a row that does not fit closes the open batch first. Each batch closed is
 * given to `take` before the row that did not fit is added (a sink that accepted it hands it back there).
 */
function cut(
  builder: BatchBuilder,
  rows: readonly { json: string; id: string }[],
  take: (batch: Batch) => void = () => undefined,
): Batch[] {
  const batches: Batch[] = [];
  const close = (): void => {
    const batch = builder.flush();
    if (!batch) return;
    batches.push(batch);
    take(batch);
  };
  for (const r of rows) {
    if (!builder.fits(r.json, r.id)) close();
    builder.add(r.json, r.id);
  }
  close();
  return batches;
}

const idsOf = (batch: Batch | undefined): string[] =>
  (JSON.parse(batch?.body.toString('utf8') ?? '[]') as { Id: string }[]).map((r) => r.Id);

describe('BatchBuilder', () => {
  it('produces JSON arrays whose byte length never exceeds the limit and keeps every row in order', () => {
    const rows = Array.from({ length: 500 }, (_, i) => row(i, 'ü山🚀'.repeat(i % 17)));
    const limit = 2_000;
    const batches = cut(new BatchBuilder(limit), rows);
    assert.ok(batches.length > 1);
    const ids: string[] = [];
    for (const batch of batches) {
      assert.ok(batch.body.length <= limit, `batch of ${batch.body.length} bytes`);
      assert.equal(idsOf(batch).length, batch.recordCount);
      ids.push(...idsOf(batch));
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
    assert.equal(cut(new BatchBuilder(exact), [a, b]).length, 1);
    assert.equal(cut(new BatchBuilder(exact - 1), [a, b]).length, 2);
  });

  it('says when a row does not fit the open batch, and refuses to add it there', () => {
    const builder = new BatchBuilder(60);
    assert.equal(builder.fits(row(1).json, 'id-1'), true);
    builder.add(row(1).json, 'id-1');
    const wide = row(2, 'y'.repeat(20));
    assert.equal(builder.fits(wide.json, wide.id), false);
    assert.throws(() => builder.add(wide.json, wide.id), RangeError);
    assert.equal(builder.recordCount, 1, 'a refused row changes nothing');
    assert.deepEqual(idsOf(builder.flush()), ['id-1']);
    builder.add(wide.json, wide.id);
    assert.deepEqual(idsOf(builder.flush()), ['id-2']);
    assert.equal(builder.flush(), undefined);
  });

  it('flushFirst sends only the oldest rows, drops the rest, and leaves the builder empty for the next batch', () => {
    const builder = new BatchBuilder(10_000);
    for (let i = 0; i < 5; i++) builder.add(row(i, 'ü'.repeat(i)).json, `id-${i}`);
    const first = builder.flushFirst(3);
    assert.ok(first);
    assert.equal(first.recordCount, 3);
    assert.deepEqual(idsOf(first), ['id-0', 'id-1', 'id-2']);
    assert.equal(
      first.body.length,
      cut(
        new BatchBuilder(10_000),
        [0, 1, 2].map((i) => row(i, 'ü'.repeat(i))),
      )[0]?.body.length,
    );
    assert.equal(builder.recordCount, 0);
    assert.equal(builder.flush(), undefined);
    // The byte count starts afresh: a row that fits an empty batch is not refused for the dropped rows' bytes.
    const big = row(9, 'z'.repeat(9_900));
    assert.equal(builder.fits(big.json, big.id), true);
    builder.add(big.json, big.id);
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
    assert.deepEqual(builder.flushFirst(2), cut(new BatchBuilder(1_000), [row(3), row(4)])[0]);
  });

  it('refuses a single row larger than a batch instead of looping or sending it', () => {
    const builder = new BatchBuilder(100);
    assert.throws(() => builder.fits(row(1, 'z'.repeat(200)).json, 'id-1'), RecordTooLargeError);
    assert.throws(() => builder.add(row(1, 'z'.repeat(200)).json, 'id-1'), RecordTooLargeError);
  });

  it('writes the next batch over a recycled one, and only over memory it lent out and got back once', () => {
    const rows = Array.from({ length: 40 }, (_, i) => row(i, 'ü山🚀'.repeat(i % 5)));
    const limit = 400;
    const expected = cut(new BatchBuilder(limit), rows).map((batch) => batch.body.toString('utf8'));
    const bodies: string[] = [];
    const memories = new Set<ArrayBufferLike>();
    const builder = new BatchBuilder(limit);
    cut(builder, rows, (batch) => {
      bodies.push(batch.body.toString('utf8'));
      memories.add(batch.body.buffer);
      // A second hand-back must not put the same memory in use twice.
      builder.recycle(batch);
      builder.recycle(batch);
    });
    assert.deepEqual(bodies, expected, 'recycling changes no byte of any batch');
    assert.ok(expected.length > 3);
    assert.equal(memories.size, 1, 'each batch given back before the next is written reuses the same memory');
  });

  it('never writes over a batch that was not given back', () => {
    const builder = new BatchBuilder(100);
    const kept = cut(builder, [row(1, 'a'.repeat(40)), row(2, 'b'.repeat(40))]);
    const first = kept[0];
    assert.ok(first);
    const before = first.body.toString('utf8');
    builder.recycle({ body: Buffer.from(before), recordCount: 1 }); // a copy: not memory the builder lent out
    cut(builder, [row(3, 'c'.repeat(40)), row(4, 'd'.repeat(40))]);
    assert.equal(first.body.toString('utf8'), before);
    assert.deepEqual(idsOf(first), ['id-1']);
  });
});

describe('splitBatchInHalf', () => {
  it('cuts a batch at a row boundary into two valid bodies with the same row bytes, strings with brackets included', () => {
    const tricky = ['a,b', '{"x":[1,2]}', 'quote \\" and ] }', 'ü山🚀,', ''];
    const rows = tricky.map((text, i) => row(i, text));
    const [batch] = cut(new BatchBuilder(10_000), rows);
    assert.ok(batch);
    const [first, second] = splitBatchInHalf(batch);
    assert.deepEqual(idsOf(first), ['id-0', 'id-1', 'id-2']);
    assert.deepEqual(idsOf(second), ['id-3', 'id-4']);
    assert.equal(first.recordCount + second.recordCount, 5);
    assert.equal(first.body.length + second.body.length, batch.body.length + 1, 'one comma out, a bracket each in');
    assert.deepEqual(
      [
        ...(JSON.parse(first.body.toString('utf8')) as unknown[]),
        ...(JSON.parse(second.body.toString('utf8')) as unknown[]),
      ],
      JSON.parse(batch.body.toString('utf8')),
    );
  });

  it('refuses a batch of one row', () => {
    const [batch] = cut(new BatchBuilder(1_000), [row(1)]);
    assert.ok(batch);
    assert.throws(() => splitBatchInHalf(batch), RangeError);
  });
});
