import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ActivitiesQuery } from '../../src/mcas/McasClient.js';
import type { PageSource } from '../../src/mcas/pageRecords.js';
import { SCAN_PART_RECORDS, ScanTooLargeError, scanRecords } from '../../src/mcas/scanRecords.js';
import type { McasPage } from '../../src/mcas/schema.js';

/** A source answering from a list of pages, recording the queries. */
function sourceOf(pages: McasPage[]): PageSource & { queries: ActivitiesQuery[] } {
  const queries: ActivitiesQuery[] = [];
  return {
    queries,
    cursorField: 'created',
    timeKey: 'created',
    list: async (query) => {
      queries.push(query);
      const page = pages[queries.length - 1];
      if (!page) throw new Error('no more pages scripted');
      return page;
    },
  };
}

const record = (n: number) => ({ _id: `id-${n}`, created: 1_000 + n, timestamp: 1_000 + n });
const window = { start: { cursorMs: 1_000, idsAtCursor: [] }, endMs: 9_999, extraFilters: {}, pageSize: 2 };

async function collect(source: PageSource, maxTotal?: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of scanRecords(source, window, maxTotal === undefined ? {} : { maxTotal }))
    ids.push(...page.records.map((r) => r.id));
  return ids;
}

describe('scanRecords with maxTotal', () => {
  it('gives up after the first request when MCAS counts more than maxTotal, yielding nothing', async () => {
    const source = sourceOf([{ data: [record(1), record(2)], hasNext: true, total: 5, nextQueryFilters: { next: 1 } }]);
    const yielded: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const page of scanRecords(source, window, { maxTotal: 4 }))
          yielded.push(...page.records.map((r) => r.id));
      })(),
      (error: unknown) => error instanceof ScanTooLargeError && error.total === 5,
    );
    assert.deepEqual(yielded, []);
    assert.equal(source.queries.length, 1);
  });

  it('reads on when the count is within maxTotal, when MCAS gives none, and whatever later pages count', async () => {
    const pages = (firstTotal: number | undefined): McasPage[] => [
      { data: [record(1), record(2)], hasNext: true, total: firstTotal, nextQueryFilters: { next: 1 } },
      { data: [record(3)], hasNext: false, total: 50 },
    ];
    assert.deepEqual(await collect(sourceOf(pages(4)), 4), ['id-1', 'id-2', 'id-3']);
    assert.deepEqual(await collect(sourceOf(pages(undefined)), 4), ['id-1', 'id-2', 'id-3']);
    assert.deepEqual(await collect(sourceOf(pages(50))), ['id-1', 'id-2', 'id-3'], 'no maxTotal, no check');
  });
});

describe('scanRecords on large pages', () => {
  it(`hands a page on in parts of ${SCAN_PART_RECORDS}, only the last carrying the page's hasNext`, async () => {
    const big = Array.from({ length: 2 * SCAN_PART_RECORDS + 7 }, (_, n) => record(n + 1));
    const source = sourceOf([
      { data: big, hasNext: true, total: big.length + 1, nextQueryFilters: { next: 1 } },
      { data: [record(big.length + 1)], hasNext: false },
    ]);
    const parts: { count: number; returned: number; hasNext: boolean; continued: boolean }[] = [];
    const ids: string[] = [];
    for await (const page of scanRecords(source, window)) {
      parts.push({
        count: page.records.length,
        returned: page.returnedCount,
        hasNext: page.hasNext,
        continued: page.continued ?? false,
      });
      ids.push(...page.records.map((r) => r.id));
    }
    assert.deepEqual(parts, [
      { count: SCAN_PART_RECORDS, returned: SCAN_PART_RECORDS, hasNext: true, continued: false },
      { count: SCAN_PART_RECORDS, returned: SCAN_PART_RECORDS, hasNext: true, continued: true },
      { count: 7, returned: 7, hasNext: true, continued: true },
      { count: 1, returned: 1, hasNext: false, continued: false },
    ]);
    assert.deepEqual(
      ids,
      [...big, record(big.length + 1)].map((r) => r._id),
    );
  });

  it('frees the bytes of a page it gives up on as too large', async () => {
    let released = 0;
    const data = Object.assign([record(1), record(2)], { release: () => released++ });
    const source = sourceOf([{ data, hasNext: true, total: 5, nextQueryFilters: { next: 1 } }]);
    await assert.rejects(collect(source, 4), ScanTooLargeError);
    assert.equal(released, 1);
  });
});
