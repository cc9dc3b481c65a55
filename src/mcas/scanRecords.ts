// Scan mode: up to 5,000 records a request (50x fewer requests than normal listing), following the server's
// `nextQueryFilters` inside one closed cursor window. The order inside a scan is the server's affair, so a scan
// gives no resumable position until its window is complete; the run checkpoints per window, not per page.
import type { ActivitiesQuery } from './McasClient.js';
import { recordKey } from './KeysetPosition.js';
import type { PagedRecord, PageSource, PageWindow, RecordPage } from './pageRecords.js';

/** Records of a scan page handed on at a time (a RecordPage each, `continued` after the first). */
export const SCAN_PART_RECORDS = 100;

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
      page.data.release?.();
      throw new ScanTooLargeError(page.total, maxTotal);
    }
    // A page of 5,000 is handed on in parts of SCAN_PART_RECORDS, each parsed as it is reached (the client parses a
    // scan page's records lazily), so that its records are never all objects at once.
    let records: PagedRecord[] = [];
    let returned = 0;
    let part = 0;
    for (const raw of page.data) {
      returned++;
      const { createdMs, id } = recordKey(raw, window.start.cursorMs, source.timeKey);
      if (!(createdMs === window.start.cursorMs && delivered.has(id))) records.push({ raw, createdMs, id });
      if (returned % SCAN_PART_RECORDS === 0 && returned < page.data.length) {
        yield { records, returnedCount: SCAN_PART_RECORDS, hasNext: true, total: page.total, continued: part++ > 0 };
        records = [];
      }
    }
    const rest = returned % SCAN_PART_RECORDS || Math.min(returned, SCAN_PART_RECORDS);
    yield { records, returnedCount: rest, hasNext: page.hasNext, total: page.total, continued: part > 0 };
    if (!page.hasNext || page.data.length === 0) return;
    if (!page.nextQueryFilters) {
      throw new Error('MCAS scan page said hasNext but gave no nextQueryFilters; cannot continue the scan safely.');
    }
    filters = page.nextQueryFilters;
  }
}
