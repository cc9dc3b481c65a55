import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { RecordingLogger } from '../../src/logger.js';
import type { ActivitiesQuery } from '../../src/mcas/McasClient.js';
import type { PageSource, RecordPage } from '../../src/mcas/pageRecords.js';
import {
  nextSubWindowMs,
  SCAN_PART_RECORDS,
  type ScanOptions,
  scanRecords,
  TARGET_PAGES,
} from '../../src/mcas/scanRecords.js';
import type { McasPage } from '../../src/mcas/schema.js';
import { UntrustedPageError } from '../../src/errors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

type Raw = { _id: string; created: number };

/** A source that records each query and answers it with `answer` (given the query and its 0-based number). */
function recordingSource(
  answer: (query: ActivitiesQuery, n: number) => McasPage,
): PageSource & { queries: ActivitiesQuery[] } {
  const queries: ActivitiesQuery[] = [];
  return {
    queries,
    cursorField: 'created',
    timeKey: 'created',
    list: (query) => {
      queries.push(structuredClone(query));
      return Promise.resolve(answer(query, queries.length - 1));
    },
  };
}

/**
 * An in-memory Activities API in scan mode, with the semantics the scan pager relies on: a `created` gte/lte window,
 * pages of `limit` records in ascending order, the continuation in `nextQueryFilters`, hasNext while records remain,
 * and `total` counting the whole window, continuation or not (MCAS's count is approximate; this one is exact).
 */
function scanApi(createdTimes: readonly number[]): PageSource & { queries: ActivitiesQuery[] } {
  const records: Raw[] = createdTimes
    .map((created, i) => ({ _id: `id-${i}`, created }))
    .sort((a, b) => a.created - b.created);
  return recordingSource((query) => {
    assert.equal(query.isScan, true);
    const { created, after } = query.filters as { created: { gte: number; lte: number }; after?: number };
    const matching = records.filter((r) => r.created >= created.gte && r.created <= created.lte);
    const from = after ?? 0;
    const data = matching.slice(from, from + query.limit);
    const hasNext = from + query.limit < matching.length;
    return { data, hasNext, total: matching.length, nextQueryFilters: { created, after: from + data.length } };
  });
}

/** A source answering from a list of pages. */
function scripted(pages: McasPage[]): PageSource & { queries: ActivitiesQuery[] } {
  return recordingSource((_query, n) => {
    const page = pages[n];
    if (!page) throw new Error('no more pages scripted');
    return page;
  });
}

/** Created times evenly spaced over each span's [fromMs, fromMs + spanMs), ascending (spans in order). */
function spread(spans: readonly { count: number; fromMs: number; spanMs: number }[]): number[] {
  return spans.flatMap(({ count, fromMs, spanMs }) =>
    Array.from({ length: count }, (_, i) => fromMs + Math.floor((i * spanMs) / count)),
  );
}

async function collect(
  source: PageSource,
  window: { startMs: number; endMs: number; idsAtCursor?: string[] },
  scan: ScanOptions,
): Promise<RecordPage[]> {
  const pages: RecordPage[] = [];
  const start = { cursorMs: window.startMs, idsAtCursor: window.idsAtCursor ?? [] };
  const log = new RecordingLogger();
  for await (const page of scanRecords(source, { start, endMs: window.endMs, extraFilters: {} }, scan, { log }))
    pages.push(page);
  return pages;
}

/**
 * Scans [0, spanMs) and returns, relative to 0: the ends (exclusive) of the sub-windows read, the rows of each, the
 * number of requests, and the end of the window each request asked for, in order.
 */
async function layout(
  createdTimes: readonly number[],
  scan: ScanOptions,
  spanMs: number,
): Promise<{ ends: number[]; rows: number[]; requests: number; requested: number[] }> {
  const api = scanApi(createdTimes);
  const pages = await collect(api, { startMs: 0, endMs: spanMs - 1 }, scan);
  const ends: number[] = [];
  const rows: number[] = [];
  let inSubWindow = 0;
  for (const page of pages) {
    inSubWindow += page.records.length;
    if (!page.mark) continue;
    ends.push(page.mark().cursorMs);
    rows.push(inSubWindow);
    inSubWindow = 0;
  }
  assert.equal(
    rows.reduce((sum, n) => sum + n, 0),
    createdTimes.length,
    'every record once',
  );
  assert.equal(ends.at(-1), spanMs, 'the last mark is the end of the window');
  const requested = api.queries.map((q) => (q.filters['created'] as { lte: number }).lte + 1);
  return { ends, rows, requests: api.queries.length, requested };
}

describe('nextSubWindowMs', () => {
  it('sizes the next sub-window for targetPages pages at the rate seen, within bounds and Number.MAX_SAFE_INTEGER', () => {
    assert.equal(TARGET_PAGES, 10);
    assert.equal(nextSubWindowMs(HOUR, 25_000, 5_000, 10), 2 * HOUR, 'twice as long for half the target');
    assert.equal(nextSubWindowMs(HOUR, 100_000, 5_000, 10), HOUR / 2, 'half as long for twice the target');
    assert.equal(
      nextSubWindowMs(HOUR, 0, 5_000, 10),
      Number.MAX_SAFE_INTEGER,
      'an empty one reaches to the window end',
    );
    assert.equal(nextSubWindowMs(HOUR, 10_000_000, 5_000, 10), 60_000);
    assert.ok(Number.isSafeInteger(nextSubWindowMs(2 ** 40, 3, 5_000, 10)));
  });
});

describe('scanRecords', () => {
  it('marks the end of each completed sub-window on its last page, and nothing else', async () => {
    const api = scanApi(spread([{ count: 30, fromMs: 0, spanMs: 3 * HOUR }]));
    const pages = await collect(
      api,
      { startMs: 0, endMs: 3 * HOUR - 1 },
      { pageSize: 4, windowMs: HOUR, targetPages: 100 },
    );
    const marked = pages.filter((page) => page.mark);
    assert.deepEqual(
      marked.map((page) => page.mark?.()),
      [
        { cursorMs: HOUR, idsAtCursor: [] },
        { cursorMs: 3 * HOUR, idsAtCursor: [] },
      ],
    );
    assert.ok(pages.every((page) => page.records.every((record) => record.mark === undefined)));
    assert.deepEqual(
      pages.map((page) => page.hasNext),
      [...pages.slice(0, -1).map(() => true), false],
      'hasNext until the last page of the window',
    );
  });

  it('after the first sub-window, sizes each to hold about targetPages pages of evenly spread data', async () => {
    // 10,000 rows over 24 h (417 an hour); pages of 500 and 5 pages a sub-window: 2,500 rows, about 6 h.
    const { ends, rows, requests } = await layout(
      spread([{ count: 10_000, fromMs: 0, spanMs: 24 * HOUR }]),
      { pageSize: 500, windowMs: HOUR, targetPages: 5 },
      24 * HOUR,
    );
    assert.equal(ends[0], HOUR, 'the first sub-window is windowMs long');
    assert.equal(rows[0], 417);
    // All but the first and the last (cut at the window end) hold 2,500 rows, give or take one percent.
    const middle = rows.slice(1, -1);
    assert.ok(middle.length >= 2 && middle.every((count) => Math.abs(count - 2_500) <= 25), `rows: ${rows.join(', ')}`);
    assert.ok((rows.at(-1) ?? 0) <= 2_525, `rows: ${rows.join(', ')}`);
    assert.equal(ends.length, 1 + Math.ceil((10_000 - 417) / 2_500), `ends: ${ends.join(', ')}`);
    // Each sub-window costs at most one request more than its rows need (its last page may be partial).
    assert.ok(requests <= Math.ceil(10_000 / 500) + ends.length, `requests: ${requests}, sub-windows ${ends.length}`);
  });

  it('with pages of 5,000 and a first sub-window of 60 min, reads 10,000 rows over 12 h in ceil(N/5000) + 1 requests', async () => {
    // 834 rows in the first hour (one request) size the next sub-window at 16 h, which holds the other 9,166: two requests.
    const { ends, rows, requests } = await layout(
      spread([{ count: 10_000, fromMs: 0, spanMs: 12 * HOUR }]),
      { pageSize: 5_000, windowMs: HOUR },
      12 * HOUR,
    );
    assert.deepEqual(ends, [HOUR, 12 * HOUR]);
    assert.deepEqual(rows, [834, 9_166]);
    assert.ok(requests <= Math.ceil(10_000 / 5_000) + 1, `requests: ${requests}`);
  });

  it('after a quiet sub-window, reads the rest of the window in one scan when MCAS counts few enough rows there', async () => {
    // Nothing in the first hour, then 2,000 rows over the next 47 h: well under 4 x 10 pages of 500.
    const { ends, rows, requests } = await layout(
      spread([{ count: 2_000, fromMs: HOUR, spanMs: 47 * HOUR }]),
      { pageSize: 500, windowMs: HOUR },
      48 * HOUR,
    );
    assert.deepEqual(ends, [HOUR, 48 * HOUR]);
    assert.deepEqual(rows, [0, 2_000]);
    assert.equal(requests, 1 + 4, 'one request for the quiet hour, four pages for the rest');
  });

  it('gives up a sub-window whose first page counts over 4 x targetPages pages, after that request, and reads it shorter', async () => {
    // A quiet hour, then 20,000 rows over 47 h. Sized for 2 pages of 500, a sub-window may count up to 4,000 rows:
    // the rest of the window counts 20,000, so it is dropped and scanned again 47 h x 1,000 / 20,000 = 141 min long.
    const { ends, rows, requests, requested } = await layout(
      spread([{ count: 20_000, fromMs: HOUR, spanMs: 47 * HOUR }]),
      { pageSize: 500, windowMs: HOUR, targetPages: 2 },
      48 * HOUR,
    );
    assert.deepEqual(requested.slice(0, 3), [HOUR, 48 * HOUR, HOUR + 141 * MINUTE]);
    // Every sub-window read holds about two pages; none holds more than the 4,000 a sub-window may count.
    assert.ok(
      rows.slice(1, -1).every((count) => Math.abs(count - 1_000) <= 10),
      `rows: ${rows.join(', ')}`,
    );
    assert.ok(
      rows.every((count) => count <= 4_000),
      `rows: ${rows.join(', ')}`,
    );
    // One request more than the sub-windows read can cost: the one given up.
    assert.ok(
      requests <= Math.ceil(20_000 / 500) + ends.length + 1,
      `requests: ${requests}, sub-windows ${ends.length}`,
    );
  });

  it('shrinks the sub-window after a burst as far as the rate says, but not below 60 s', async () => {
    // A first sub-window of 10 min holding the burst, sized for one page (500 rows) after it; then 100 quiet rows.
    const scan = { pageSize: 500, windowMs: 10 * MINUTE, targetPages: 1 };
    const burst = (count: number): number[] =>
      spread([
        { count, fromMs: 0, spanMs: 10 * MINUTE },
        { count: 100, fromMs: 10 * MINUTE, spanMs: 50 * MINUTE },
      ]);
    // 2,000 rows in 10 min (as many as the first sub-window may count): read; then 500 take 2.5 min.
    const { ends: moderate } = await layout(burst(2_000), scan, HOUR);
    assert.deepEqual(moderate.slice(0, 2), [10 * MINUTE, 12.5 * MINUTE]);
    // 6,000 rows in 10 min: counted on the first page and given up; 500 would take 50 s, so 60 s sub-windows through
    // the burst and one more; the 2 rows of that first quiet minute size the next past the window's end.
    const { ends: steep, requested } = await layout(burst(6_000), scan, HOUR);
    assert.equal(requested[0], 10 * MINUTE);
    assert.deepEqual(steep, [...Array.from({ length: 11 }, (_, i) => (i + 1) * MINUTE), HOUR]);
  });

  it('reads on when the first page gives no count, and whatever later pages count', async () => {
    const record = (n: number): Raw => ({ _id: `id-${n}`, created: 1_000 + n });
    const pages = (firstTotal: number | undefined): McasPage[] => [
      { data: [record(1), record(2)], hasNext: true, total: firstTotal, nextQueryFilters: { next: 1 } },
      { data: [record(3)], hasNext: false, total: 50 },
    ];
    // Sized for one page of 2: a sub-window may count 4 rows.
    const scan = { pageSize: 2, windowMs: 2 * HOUR, targetPages: 1 };
    for (const total of [4, undefined]) {
      const read = await collect(scripted(pages(total)), { startMs: 1_000, endMs: 1_000 + HOUR }, scan);
      assert.deepEqual(
        read.flatMap((page) => page.records.map((r) => r.id)),
        ['id-1', 'id-2', 'id-3'],
      );
    }
  });

  it('leaves out records at the starting cursor that were delivered, and follows nextQueryFilters', async () => {
    const api = scripted([
      {
        data: [
          { _id: 'a', created: 5_000 },
          { _id: 'b', created: 5_000 },
          { _id: 'c', created: 5_001 },
        ],
        hasNext: true,
        total: 4,
        nextQueryFilters: { continuation: 'x' },
      },
      { data: [{ _id: 'd', created: 5_002 }], hasNext: false, total: 4 },
    ]);
    const pages = await collect(
      api,
      { startMs: 5_000, endMs: 9_000, idsAtCursor: ['a'] },
      { pageSize: 3, windowMs: 0 },
    );
    assert.deepEqual(
      pages.map((page) => page.records.map((r) => r.id)),
      [['b', 'c'], ['d']],
    );
    assert.deepEqual(api.queries[1]?.filters, { continuation: 'x' });
    assert.deepEqual(pages[1]?.mark?.(), { cursorMs: 9_001, idsAtCursor: [] });
  });

  it('stops without a mark at an empty page that says there is more, and fails when a page gives no continuation', async () => {
    const empty = await collect(
      scripted([{ data: [], hasNext: true, total: 9, nextQueryFilters: {} }]),
      { startMs: 0, endMs: HOUR },
      { pageSize: 500, windowMs: 0 },
    );
    assert.deepEqual(
      empty.map((page) => [page.hasNext, page.mark]),
      [[true, undefined]],
    );
    await assert.rejects(
      collect(
        scripted([{ data: [{ _id: 'a', created: 1 }], hasNext: true, total: 9 }]),
        { startMs: 0, endMs: HOUR },
        { pageSize: 500, windowMs: 0 },
      ),
      /gave no nextQueryFilters/,
    );
  });
});

describe('scanRecords on large pages', () => {
  const record = (n: number): Raw => ({ _id: `id-${n}`, created: 1_000 + n });

  it(`hands a page on in parts of ${SCAN_PART_RECORDS}, only the last carrying the page's hasNext and mark`, async () => {
    const big = Array.from({ length: 2 * SCAN_PART_RECORDS + 7 }, (_, n) => record(n + 1));
    const source = scripted([
      { data: big, hasNext: true, total: big.length + 1, nextQueryFilters: { next: 1 } },
      { data: [record(big.length + 1)], hasNext: false, total: big.length + 1 },
    ]);
    const pages = await collect(source, { startMs: 1_000, endMs: 1_000 + HOUR }, { pageSize: 5000, windowMs: 0 });
    assert.deepEqual(
      pages.map((p) => [p.records.length, p.returnedCount, p.hasNext, p.continued ?? false, p.mark !== undefined]),
      [
        [SCAN_PART_RECORDS, SCAN_PART_RECORDS, true, false, false],
        [SCAN_PART_RECORDS, SCAN_PART_RECORDS, true, true, false],
        [7, 7, true, true, false],
        [1, 1, false, false, true],
      ],
    );
    assert.deepEqual(
      pages.flatMap((p) => p.records.map((r) => r.id)),
      [...big, record(big.length + 1)].map((r) => r._id),
    );
  });

  it('frees the bytes of a page it gives up on as too large', async () => {
    let released = 0;
    const data = Object.assign([record(1), record(2), record(3)], { release: () => released++ });
    const source = scripted([
      { data, hasNext: true, total: 5, nextQueryFilters: { next: 1 } },
      { data: [record(1)], hasNext: false, total: 1 },
      { data: [record(2)], hasNext: false, total: 1 },
    ]);
    const scan = { pageSize: 1, windowMs: 2 * HOUR, targetPages: 1 };
    await collect(source, { startMs: 1_000, endMs: 1_000 + 2 * HOUR }, scan).catch(() => undefined);
    assert.equal(released, 1);
  });
});

describe('scanRecords near the end of a run', () => {
  it('shortens the next sub-window to the pages that fit before the hard deadline, then starts none', async () => {
    // One activity a minute from 0; each request takes a second of the run's clock.
    let nowMs = 0;
    const api = scanApi(spread([{ count: 240, fromMs: 0, spanMs: 4 * HOUR }]));
    const source: PageSource = {
      ...api,
      list: async (query, options) => {
        nowMs += 1_000;
        return api.list(query, options);
      },
    };
    const stops = { nowMs: () => nowMs, softDeadlineMs: 60_000, hardDeadlineMs: 9_500 };
    const scan = { pageSize: 10, windowMs: HOUR, targetPages: 4 };
    const window = { start: { cursorMs: 0, idsAtCursor: [] }, endMs: 4 * HOUR - 1, extraFilters: {} };
    const pages: RecordPage[] = [];
    for await (const page of scanRecords(source, window, scan, { log: new RecordingLogger(), stops })) pages.push(page);
    // The first hour takes 6 requests (1 s each); 40 minutes would hold 4 pages, but 3.5 s leave room for 2: 20 minutes.
    // After those, 1.5 s leave room for none, so the scan stops at a sub-window's end with the window unread.
    assert.deepEqual(
      pages.flatMap((page) => (page.mark ? [page.mark().cursorMs] : [])),
      [HOUR, HOUR + 20 * MINUTE],
    );
    assert.equal(pages.at(-1)?.hasNext, true);
    assert.equal(api.queries.length, 8);
  });

  it('ends at a completed sub-window when the caller takes over from there', async () => {
    const api = scanApi(spread([{ count: 30, fromMs: 0, spanMs: 3 * HOUR }]));
    const handedAt: number[] = [];
    const stops = {
      nowMs: () => 0,
      softDeadlineMs: HOUR,
      hardDeadlineMs: HOUR,
      handOver: (_rate: number, next: { cursorMs: number }) => handedAt.push(next.cursorMs) > 0,
    };
    const window = { start: { cursorMs: 0, idsAtCursor: [] }, endMs: 3 * HOUR - 1, extraFilters: {} };
    const pages: RecordPage[] = [];
    const options = { log: new RecordingLogger(), stops };
    for await (const page of scanRecords(api, window, { pageSize: 500, windowMs: HOUR }, options)) pages.push(page);
    assert.deepEqual(handedAt, [HOUR]);
    assert.equal(pages.flatMap((page) => page.records).length, 10);
  });
});

describe('scanRecords after a full last page', () => {
  // 20 records, the last three at one millisecond: two full pages of 10 when read in pages of 10.
  const created = [...Array.from({ length: 17 }, (_, i) => i * MINUTE), 17 * MINUTE, 17 * MINUTE, 17 * MINUTE];

  /** The scan API with MCAS's count off by `offBy` (it is approximate), so that the count alone settles nothing. */
  function approximatelyCounting(times: readonly number[], offBy: number): PageSource & { queries: ActivitiesQuery[] } {
    const api = scanApi(times);
    return {
      ...api,
      list: async (query, options) => {
        const page = await api.list(query, options);
        return { ...page, total: (page.total ?? 0) + offBy };
      },
    };
  }

  it('takes a full last page at its word when MCAS counted exactly the records read: no extra request', async () => {
    const api = scanApi(created);
    const pages = await collect(api, { startMs: 0, endMs: HOUR - 1 }, { pageSize: 10, windowMs: 0 });
    assert.equal(api.queries.length, 2);
    assert.equal(pages.flatMap((page) => page.records).length, 20);
    assert.deepEqual(pages.at(-1)?.mark?.(), { cursorMs: HOUR, idsAtCursor: [] });
  });

  it('asks once more from the latest record read, and closes the window when that brings nothing new', async () => {
    const api = approximatelyCounting(created, 3);
    const pages = await collect(api, { startMs: 0, endMs: HOUR - 1 }, { pageSize: 10, windowMs: 0 });
    assert.equal(api.queries.length, 3, 'two pages, then one request to confirm the end');
    assert.deepEqual(api.queries[2]?.filters['created'], { gte: 17 * MINUTE, lte: HOUR - 1 });
    const ids = pages.flatMap((page) => page.records.map((record) => record.id));
    assert.equal(new Set(ids).size, 20, 'every record once; the three at the latest millisecond are not news');
    assert.equal(ids.length, 20);
    assert.deepEqual(pages.at(-1)?.mark?.(), { cursorMs: HOUR, idsAtCursor: [] });
  });

  it('fails naming hasNext when MCAS closes the scan on a full page that was not its last, and hands on no mark', async () => {
    const honest = approximatelyCounting([...created, ...Array.from({ length: 5 }, (_, i) => (30 + i) * MINUTE)], 0);
    // MCAS says hasNext: false on the second page, a full page, with five records still unread (and counts all 25).
    const lying: PageSource & { queries: ActivitiesQuery[] } = {
      ...honest,
      list: async (query, options) => {
        const page = await honest.list(query, options);
        return honest.queries.length === 2 ? { ...page, hasNext: false } : page;
      },
    };
    const pages: RecordPage[] = [];
    const window = { start: { cursorMs: 0, idsAtCursor: [] }, endMs: HOUR - 1, extraFilters: {} };
    await assert.rejects(
      (async () => {
        const scan = { pageSize: 10, windowMs: 0 };
        for await (const page of scanRecords(lying, window, scan, { log: new RecordingLogger() })) pages.push(page);
      })(),
      (error: unknown) =>
        error instanceof UntrustedPageError &&
        /hasNext: false on page 2, a full page of 10, but asking once more returned 5 records/.test(error.message),
    );
    assert.equal(honest.queries.length, 3);
    assert.ok(
      pages.every((page) => page.mark === undefined),
      'no mark: the checkpoint cannot pass the unread records',
    );
  });
});
