// Keyset paging over a time cursor (`created` for activities, `date` for alerts): ask for cursor >= position
// (ascending), skip what was already delivered at the cursor millisecond, and step with `skip` only while a whole page
// sits inside one millisecond. No record is lost or repeated at a page boundary, and `skip` stays small, so
// Microsoft's skip + limit <= 5000 rule never bites. Every record carries the position after it as its resume mark.
import type { ActivitiesQuery } from './McasClient.js';
import { KeysetPosition, type Position, recordKey, type ResumeMark } from './KeysetPosition.js';
import type { McasPage } from './schema.js';

/** What every request of a run may carry: the run's hard deadline. */
export interface RequestOptions {
  deadlineMs?: number;
}

/** Where pages come from, and which fields carry the cursor. */
export interface PageSource {
  list(query: ActivitiesQuery, options: RequestOptions): Promise<McasPage>;
  /** Filter and sort field of the cursor: `created` (activities, when saved) or `date` (alerts). */
  cursorField: 'created' | 'date';
  /** Record field holding the cursor value: `created` (activities) or `timestamp` (alerts). */
  timeKey: 'created' | 'timestamp';
}

export interface PagedRecord {
  raw: unknown;
  createdMs: number;
  id: string;
  /** Where the next run may start once this record and every one before it were accepted (keyset paging only). */
  mark?: ResumeMark | undefined;
}

export interface RecordPage {
  /** Records not delivered before, in ascending cursor order for keyset paging. */
  records: PagedRecord[];
  /** Records the API returned, including ones skipped as already delivered. */
  returnedCount: number;
  /** More pages follow in this window. The last page yielded with hasNext set means MCAS stopped short. */
  hasNext: boolean;
  /** The API's (approximate) count of matching records, when it gave one. */
  total: number | undefined;
  /** True for a later part of one MCAS page handed on in parts (scan pages); false or absent for a page's first. */
  continued?: boolean;
  /**
   * Set on the last page of a (sub-)window read to its end: where the next run may start once every record up to
   * here was accepted.
   */
  mark?: ResumeMark | undefined;
}

export interface PageWindow {
  /** Where to start: everything at or before this position was delivered. */
  start: Position;
  /** Inclusive upper bound of the cursor (epoch ms). */
  endMs: number;
  /** Extra filters ANDed with the cursor window. */
  extraFilters: Readonly<Record<string, unknown>>;
  pageSize: number;
}

/** The mark of a window read to its end: the next run starts just after it. */
export function markAfter(endMs: number): ResumeMark {
  return () => ({ cursorMs: endMs + 1, idsAtCursor: [] });
}

/**
 * Yields pages lazily: the next request goes out only when the consumer asks, so a failure downstream stops paging.
 */
export async function* pageRecords(
  source: PageSource,
  window: PageWindow,
  options: RequestOptions = {},
): AsyncGenerator<RecordPage> {
  const position = new KeysetPosition(window.start);
  let skip = 0;
  for (;;) {
    const query: ActivitiesQuery = {
      filters: { ...window.extraFilters, [source.cursorField]: { gte: position.cursorMs, lte: window.endMs } },
      sortField: source.cursorField,
      sortDirection: 'asc',
      skip,
      limit: window.pageSize,
    };
    const page = await source.list(query, options);
    const cursorBefore = position.cursorMs;
    const records: PagedRecord[] = [];
    for (const raw of page.data) {
      const { createdMs, id } = recordKey(raw, position.cursorMs, source.timeKey, window.endMs);
      if (position.covers(createdMs, id)) continue;
      position.advance(createdMs, id);
      records.push({ raw, createdMs, id, mark: position.mark() });
    }
    // A full page that never left the cursor millisecond: the next one must step past it with skip.
    skip = position.cursorMs === cursorBefore ? skip + page.data.length : 0;
    const last = !page.hasNext;
    yield {
      records,
      returnedCount: page.data.length,
      hasNext: page.hasNext,
      total: page.total,
      mark: last ? markAfter(window.endMs) : undefined,
    };
    if (last || page.data.length === 0) return;
  }
}
