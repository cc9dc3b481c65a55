// Scan mode: up to 5,000 records a request (50x fewer requests than normal listing), following the server's
// `nextQueryFilters` inside one closed cursor window. The order inside a scan is the server's affair, so a scan
// gives no resumable position until its window is complete; the run checkpoints per window, not per page.
import type { ActivitiesQuery } from './McasClient.js';
import { recordKey } from './KeysetPosition.js';
import type { PagedRecord, PageSource, PageWindow, RecordPage } from './pageRecords.js';

/**
 * The first page of a scan counted more records than the caller allowed (`maxTotal`): nothing of the scan was
 * yielded, so the caller can scan a shorter window instead, having spent one request.
 */
export class ScanTooLargeError extends Error {
  readonly total: number;
  constructor(total: number, maxTotal: number) {
    super(`MCAS counts about ${total} records in this scan window, more than the ${maxTotal} allowed.`);
    this.name = 'ScanTooLargeError';
    this.total = total;
  }
}

/**
 * Yields the pages of one scan over `window`. Records at the starting cursor whose ids were already delivered are
 * left out; the server itself avoids repeats across the pages of a scan. With `maxTotal`, a first page whose `total`
 * (MCAS's approximate count of the whole scan) is larger throws ScanTooLargeError before anything is yielded; a page
 * without a count is read on.
 */
export async function* scanRecords(
  source: PageSource,
  window: PageWindow,
  options: { signal?: AbortSignal; deadlineMs?: number; maxTotal?: number } = {},
): AsyncGenerator<RecordPage> {
  const delivered = new Set(window.start.idsAtCursor);
  let filters: Record<string, unknown> = {
    ...window.extraFilters,
    [source.cursorField]: { gte: window.start.cursorMs, lte: window.endMs },
  };
  const { maxTotal, ...requestOptions } = options;
  for (let first = true; ; first = false) {
    const query: ActivitiesQuery = {
      filters,
      sortField: source.cursorField,
      sortDirection: 'asc',
      skip: 0,
      limit: window.pageSize,
      isScan: true,
    };
    const page = await source.list(query, requestOptions);
    if (first && maxTotal !== undefined && page.total !== undefined && page.total > maxTotal) {
      throw new ScanTooLargeError(page.total, maxTotal);
    }
    const records: PagedRecord[] = [];
    for (const raw of page.data) {
      const { createdMs, id } = recordKey(raw, window.start.cursorMs, source.timeKey);
      if (createdMs === window.start.cursorMs && delivered.has(id)) continue;
      records.push({ raw, createdMs, id });
    }
    yield { records, returnedCount: page.data.length, hasNext: page.hasNext, total: page.total };
    if (!page.hasNext || page.data.length === 0) return;
    if (!page.nextQueryFilters) {
      throw new Error('MCAS scan page said hasNext but gave no nextQueryFilters; cannot continue the scan safely.');
    }
    filters = page.nextQueryFilters;
  }
}
