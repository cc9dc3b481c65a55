import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ActivitiesQuery } from '../../src/mcas/McasClient.js';
import { KeysetPosition, recordKey } from '../../src/mcas/KeysetPosition.js';
import { pageRecords, type PageSource, type PageWindow } from '../../src/mcas/pageRecords.js';
import type { McasPage } from '../../src/mcas/schema.js';

type Raw = { _id: string; created: number };

/**
 * An in-memory Activities API with the real semantics the pager relies on: filter created gte/lte, sort by created
 * with a stable tie order that is NOT the ids' order, skip and limit.
 */
function fakeApi(records: Raw[]) {
  const sorted = [...records].sort((a, b) => a.created - b.created || hash(a._id) - hash(b._id));
  const queries: ActivitiesQuery[] = [];
  const source: PageSource & { queries: ActivitiesQuery[] } = {
    queries,
    cursorField: 'created',
    timeKey: 'created',
    list(query: ActivitiesQuery): Promise<McasPage> {
      queries.push(structuredClone(query));
      const created = query.filters['created'] as { gte: number; lte: number };
      const matching = sorted.filter((r) => r.created >= created.gte && r.created <= created.lte);
      const data = matching.slice(query.skip, query.skip + query.limit);
      return Promise.resolve({ data, hasNext: query.skip + query.limit < matching.length, total: matching.length });
    },
  };
  return source;
}

function hash(text: string): number {
  let h = 7;
  for (const ch of text) h = (h * 31 + ch.charCodeAt(0)) % 1_000_003;
  return h;
}

function window(startMs: number, endMs = 10_000_000, pageSize = 100, ids: string[] = []): PageWindow {
  return { start: { cursorMs: startMs, idsAtCursor: ids }, endMs, extraFilters: {}, pageSize };
}

async function collect(api: ReturnType<typeof fakeApi>, w: PageWindow): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of pageRecords(api, w)) ids.push(...page.records.map((a) => a.id));
  return ids;
}

describe('pageRecords', () => {
  it('reads every record exactly once across many pages with ties at every boundary', async () => {
    // 1,000 records on 137 distinct milliseconds: every page boundary falls inside a tie.
    const records = Array.from({ length: 1_000 }, (_, i) => ({ _id: `r${i}`, created: 1_000 + Math.floor(i / 7.3) }));
    const api = fakeApi(records);
    const ids = await collect(api, window(0));
    assert.equal(ids.length, 1_000);
    assert.equal(new Set(ids).size, 1_000);
    assert.ok(api.queries.every((q) => q.sortField === 'created' && q.sortDirection === 'asc' && q.limit === 100));
  });

  it('steps with skip only inside a millisecond that holds more than a page', async () => {
    const records = [
      { _id: 'before', created: 5 },
      ...Array.from({ length: 250 }, (_, i) => ({ _id: `tie${i}`, created: 10 })),
      ...Array.from({ length: 150 }, (_, i) => ({ _id: `after${i}`, created: 11 + i })),
    ];
    const api = fakeApi(records);
    const ids = await collect(api, window(0));
    assert.equal(new Set(ids).size, 401);
    assert.equal(ids.length, 401);
    assert.ok(
      api.queries.some((q) => q.skip > 0),
      'a skip was needed inside the tie',
    );
    assert.ok(api.queries.every((q) => q.skip + q.limit <= 5000));
    assert.equal(api.queries.at(-1)?.skip, 0, 'skip resets once past the tie');
  });

  it('skips the ids already delivered at the starting cursor and asks from that cursor', async () => {
    const records = [
      { _id: 'a', created: 100 },
      { _id: 'b', created: 100 },
      { _id: 'c', created: 100 },
      { _id: 'd', created: 101 },
    ];
    const api = fakeApi(records);
    const ids = await collect(api, window(100, 10_000, 100, ['a', 'c']));
    assert.deepEqual(ids.sort(), ['b', 'd']);
    assert.deepEqual(api.queries[0]?.filters, { created: { gte: 100, lte: 10_000 } });
  });

  it('keeps the window end and ANDs the extra filters', async () => {
    const api = fakeApi([
      { _id: 'x', created: 1 },
      { _id: 'late', created: 50 },
    ]);
    const w = { ...window(0, 10), extraFilters: { service: { eq: [11161] } } };
    assert.deepEqual(await collect(api, w), ['x']);
    assert.deepEqual(api.queries[0]?.filters, { service: { eq: [11161] }, created: { gte: 0, lte: 10 } });
  });

  it('asks for the next page only when the consumer wants it', async () => {
    const api = fakeApi(Array.from({ length: 300 }, (_, i) => ({ _id: `r${i}`, created: i })));
    const pages = pageRecords(api, window(0));
    await pages.next();
    assert.equal(api.queries.length, 1);
    await pages.return(undefined);
    assert.equal(api.queries.length, 1);
  });

  it('stops on an empty page even if the API claims there is more', async () => {
    let calls = 0;
    const api: PageSource = {
      cursorField: 'created',
      timeKey: 'created',
      list(): Promise<McasPage> {
        calls++;
        return Promise.resolve({ data: [], hasNext: true, total: 5 });
      },
    };
    for await (const page of pageRecords(api, window(0))) assert.equal(page.records.length, 0);
    assert.equal(calls, 1);
  });
});

describe('KeysetPosition', () => {
  it('covers what came before it and the ids at its cursor only', () => {
    const position = new KeysetPosition({ cursorMs: 10, idsAtCursor: ['a'] });
    assert.equal(position.covers(9, 'z'), true);
    assert.equal(position.covers(10, 'a'), true);
    assert.equal(position.covers(10, 'b'), false);
    position.advance(10, 'b');
    position.advance(12, 'c');
    assert.deepEqual(position.snapshot(), { cursorMs: 12, idsAtCursor: ['c'] });
  });

  it('reads paging keys leniently and identifies id-less records by content', () => {
    assert.deepEqual(recordKey({ _id: 'x', created: 5 }, 0), { createdMs: 5, id: 'x' });
    assert.deepEqual(recordKey({ _id: 'x', created: '7' }, 0), { createdMs: 7, id: 'x' });
    assert.equal(recordKey({ _id: 'x', created: 'soon' }, 3).createdMs, 3);
    const a = recordKey({ created: 5, v: 1 }, 0).id;
    assert.equal(a, recordKey({ created: 5, v: 1 }, 0).id);
    assert.notEqual(a, recordKey({ created: 5, v: 2 }, 0).id);
    assert.match(a, /^sha256:[0-9a-f]{32}$/);
  });
});
