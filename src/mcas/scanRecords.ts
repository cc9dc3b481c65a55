// Scan mode: up to 5,000 records a request (50x fewer requests than normal listing), following the server's
// `nextQueryFilters` inside one closed cursor window. The order inside a scan is the server's affair, so a scan
// gives no resumable position until its window is complete; the run checkpoints per window, not per page.
import type { ActivitiesQuery } from './McasClient.js';
import { recordKey } from './KeysetPosition.js';
import type { PagedRecord, PageSource, PageWindow, RecordPage } from './pageRecords.js';
import { checkPageRecords } from './pageChecks.js';

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
 *
 * Every page is checked before it is yielded: its records must lie inside the scan's window (their order inside a scan
 * is the server's), else UntrustedPageError. Records after MCAS's own now - settle (PageWindow.sourceEndMs) are left
 * for a later run. Unlike keyset paging, a full last page is taken at its word: MCAS's own continuation
 * (`nextQueryFilters`) ends the scan, and asking again would cost a request on every sub-window that ends on a full
 * page.
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
  let endMs = window.endMs;
  const { maxTotal, ...requestOptions } = options;
  for (let pageNumber = 1; ; pageNumber++) {
    const query: ActivitiesQuery = {
      filters,
      sortField: source.cursorField,
      sortDirection: 'asc',
      skip: 0,
      limit: window.pageSize,
      isScan: true,
    };
    const page = await source.list(query, requestOptions);
    if (pageNumber === 1 && maxTotal !== undefined && page.total !== undefined && page.total > maxTotal) {
      throw new ScanTooLargeError(page.total, maxTotal);
    }
    checkPageRecords(page.data, {
      pageNumber,
      timeKey: source.timeKey,
      fromMs: window.start.cursorMs,
      toMs: window.endMs,
      ascending: false,
    });
    endMs = Math.min(endMs, window.sourceEndMs?.() ?? endMs);
    const records: PagedRecord[] = [];
    for (const raw of page.data) {
      const { createdMs, id } = recordKey(raw, window.start.cursorMs, source.timeKey);
      if (createdMs > endMs) continue; // later than MCAS's own now - settle: left for a later run
      if (createdMs === window.start.cursorMs && delivered.has(id)) continue;
      records.push({ raw, createdMs, id });
    }
    const cutAtMs = endMs < window.endMs ? endMs : undefined;
    yield { records, returnedCount: page.data.length, hasNext: page.hasNext, total: page.total, cutAtMs };
    if (!page.hasNext || page.data.length === 0) return;
    if (!page.nextQueryFilters) {
      throw new Error('MCAS scan page said hasNext but gave no nextQueryFilters; cannot continue the scan safely.');
    }
    filters = page.nextQueryFilters;
  }
}
