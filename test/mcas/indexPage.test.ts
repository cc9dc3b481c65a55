import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ResponseShapeError, PageSyntaxError } from '../../src/errors.js';
import { indexPage } from '../../src/mcas/indexPage.js';
import { parsePage } from '../../src/mcas/McasClient.js';

const RECORDS = [
  { _id: 'a', created: 1, text: 'brackets } ] { [ and "quotes" and a backslash \\', nested: { list: [1, [2, {}]] } },
  { _id: 'b', created: 2, names: ['Jürgen Groß', '山田 太郎', '🤖', '\ud800'], empty: [], none: null },
  { _id: 'c', created: 3, escaped: '\\"', n: -1.5e3, t: true, f: false },
];

function elements(body: Buffer): unknown[] {
  const index = indexPage(body);
  return (index.starts ?? []).map((start, i) => JSON.parse(body.toString('utf8', start, index.ends[i])) as unknown);
}

describe('indexPage', () => {
  it('finds every record of data and parses the other members, in any order and spacing', () => {
    const compact = Buffer.from(
      JSON.stringify({ hasNext: true, data: RECORDS, total: 3, nextQueryFilters: { x: [1] } }),
    );
    const spaced = Buffer.from(
      JSON.stringify({ data: RECORDS, total: 3, hasNext: true, nextQueryFilters: { x: [1] } }, null, 2),
    );
    for (const body of [compact, spaced]) {
      assert.deepEqual(elements(body), RECORDS);
      assert.deepEqual(indexPage(body).envelope, { hasNext: true, total: 3, nextQueryFilters: { x: [1] } });
    }
  });

  it('indexes an empty data array, scalar elements, and a page without data', () => {
    assert.deepEqual(elements(Buffer.from(' { "data" : [ ] , "hasNext" : false } ')), []);
    assert.deepEqual(elements(Buffer.from('{"data":[1,"x",null,[]],"hasNext":false}')), [1, 'x', null, []]);
    const index = indexPage(Buffer.from('{"error":true,"filters":[{"error":"bad"}]}'));
    assert.equal(index.starts, undefined);
    assert.deepEqual(index.envelope, { error: true, filters: [{ error: 'bad' }] });
  });

  it('refuses a body cut anywhere, before handing on any record', () => {
    const body = Buffer.from(JSON.stringify({ data: RECORDS, hasNext: false }));
    for (let cut = 0; cut < body.length; cut++) {
      assert.throws(() => indexPage(body.subarray(0, cut)), PageSyntaxError, `cut at ${cut}`);
    }
  });

  it('refuses what is not a JSON object: HTML, an array, trailing bytes, a member without a value', () => {
    for (const text of [
      '<html><body>Service Unavailable</body></html>',
      '[{"_id":"a"}]',
      '{"data":[],"hasNext":false} x',
      '{"data":[],"hasNext":}',
      '{"data":[{"a":1}}],"hasNext":false}',
      '{"data":[{"a":1} {"b":2}],"hasNext":false}',
      '{"hasNext":tru}',
      '',
    ]) {
      assert.throws(() => indexPage(Buffer.from(text)), PageSyntaxError, text);
    }
  });
});

describe('parsePage', () => {
  const body = Buffer.from(JSON.stringify({ data: RECORDS, hasNext: true, total: 3 }));

  it('gives the same records parsed at once or lazily, and frees a lazy page after its last record', () => {
    assert.deepEqual([...parsePage(body).data], RECORDS);
    let released = 0;
    const page = parsePage(body, { lazy: true, release: () => released++ });
    assert.equal(page.data.length, 3);
    assert.equal(page.hasNext, true);
    assert.equal(page.total, 3);
    const seen: unknown[] = [];
    for (const record of page.data) {
      assert.equal(released, 0, 'the bytes are held while records are read');
      seen.push(record);
    }
    assert.deepEqual(seen, RECORDS);
    assert.equal(released, 1);
    page.data.release?.();
    assert.equal(released, 1, 'freed once');
  });

  it('frees a lazy page that is dropped unread, or left after an error', () => {
    let released = 0;
    parsePage(body, { lazy: true, release: () => released++ }).data.release?.();
    assert.equal(released, 1);
    const page = parsePage(body, { lazy: true, release: () => released++ });
    for (const record of page.data) {
      assert.ok(record);
      break;
    }
    assert.equal(released, 2);
  });

  it('fails with ResponseShapeError for a cut page, and for a record that is not JSON when it is reached', () => {
    assert.throws(() => parsePage(body.subarray(0, body.length - 5), { lazy: true }), ResponseShapeError);
    const bad = Buffer.from('{"data":[{"_id":"a","created":1},{"_id":"b","created":tru},{"_id":"c"}],"hasNext":false}');
    assert.throws(() => parsePage(bad), ResponseShapeError, 'parsed at once: nothing is handed on');
    const lazy = parsePage(bad, { lazy: true });
    const seen: unknown[] = [];
    assert.throws(() => {
      for (const record of lazy.data) seen.push(record);
    }, /record 2 is not JSON/);
    assert.deepEqual(seen, [{ _id: 'a', created: 1 }]);
  });

  it('checks the envelope as before: data must be an array and hasNext a boolean', () => {
    for (const text of [
      '{"hasNext":false}',
      '{"data":{},"hasNext":false}',
      '{"data":[],"hasNext":"false"}',
      'null',
      '[{"_id":"a"}]',
      '"OK"',
      '5',
    ]) {
      assert.throws(() => parsePage(Buffer.from(text)), /envelope did not match/);
    }
  });
});
