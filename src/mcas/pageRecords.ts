// Keyset paging over a time cursor (`created` for activities, `date` for alerts): ask for cursor >= position
// (ascending), skip what was already delivered at the cursor millisecond, and step with `skip` only while a whole page
// sits inside one millisecond. No record is lost or repeated at a page boundary, and `skip` stays small, so
// Microsoft's skip + limit <= 5000 rule never bites.
import type { McasPage } from './schema.js';
import type { ActivitiesQuery } from './McasClient.js';
import { KeysetPosition, type Position, recordKey } from './KeysetPosition.js';

/** Where pages come from, and which fields carry the cursor. */
export interface PageSource {
  list(query: ActivitiesQuery, options: { signal?: AbortSignal; deadlineMs?: number }): Promise<McasPage>;
  /** Filter and sort field of the cursor: `created` (activities, when saved) or `date` (alerts). */
  cursorField: 'created' | 'date';
  /** Record field holding the cursor value: `created` (activities) or `timestamp` (alerts). */
  timeKey: 'created' | 'timestamp';
}

export interface PagedRecord {
  raw: unknown;
  createdMs: number;
  id: string;
}

export interface RecordPage {
  /** Records not delivered before, in ascending cursor order. */
  records: PagedRecord[];
  /** Records the API returned, including ones skipped as already delivered. */
  returnedCount: number;
  hasNext: boolean;
  /** The API's (approximate) count of matching records, when it gave one. */
  total: number | undefined;
  /** True for a later part of one MCAS page handed on in parts (scan pages); false or absent for a page's first. */
  continued?: boolean;
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

/**
 * Yields pages lazily: the next request goes out only when the consumer asks, so a failure downstream stops paging.
 */
export async function* pageRecords(
  source: PageSource,
  window: PageWindow,
  options: { signal?: AbortSignal; deadlineMs?: number } = {},
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
      records.push({ raw, createdMs, id });
    }
    // A full page that never left the cursor millisecond: the next one must step past it with skip.
    skip = position.cursorMs === cursorBefore ? skip + page.data.length : 0;
    yield { records, returnedCount: page.data.length, hasNext: page.hasNext, total: page.total };
    if (!page.hasNext || page.data.length === 0) return;
  }
}
