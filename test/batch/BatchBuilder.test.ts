import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BatchBuilder, splitIntoBatches } from '../../src/batch/BatchBuilder.js';
import { RecordTooLargeError } from '../../src/errors.js';

function row(i: number, text = 'x'): { json: string; id: string } {
  return { json: JSON.stringify({ Id: `id-${i}`, Text: text }), id: `id-${i}` };
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
    assert.deepEqual(ids, rows.map((r) => r.id));
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

  it('refuses a single row larger than a batch instead of looping or sending it', () => {
    const builder = new BatchBuilder(100);
    assert.throws(() => builder.add(row(1, 'z'.repeat(200)).json, 'id-1'), RecordTooLargeError);
  });
});
