// Keyset paging over a time cursor (`created` for activities, `date` for alerts): ask for cursor >= position
// (ascending), skip what was already delivered at the cursor millisecond, and step with `skip` only while a whole page
// sits inside one millisecond. No record is lost or repeated at a page boundary, and `skip` stays small, so
// Microsoft's skip + limit <= 5000 rule never bites. Every record carries the position after it as its resume mark.
import type { ActivitiesQuery } from './McasClient.js';
import { KeysetPosition, type Position, recordKey, type ResumeMark } from './KeysetPosition.js';
import { checkPageRecords, cursorValueOf, hasNextContradicted, isFullLastPage } from './pageChecks.js';
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
  /**
   * Set when the window was cut short because its end is in MCAS's future by MCAS's own clock (PageWindow.sourceEndMs):
   * the end actually read to (inclusive, epoch ms). Records after it were left for a later run.
   */
  cutAtMs?: number | undefined;
}

export interface PageWindow {
  /** Where to start: everything at or before this position was delivered. */
  start: Position;
  /** Inclusive upper bound of the cursor (epoch ms). */
  endMs: number;
  /** Extra filters ANDed with the cursor window. */
  extraFilters: Readonly<Record<string, unknown>>;
  pageSize: number;
  /**
   * The latest end MCAS's own clock allows (its now - settle), once an answer has shown it; undefined before. The
   * window ends there when that is earlier than `endMs`.
   */
  sourceEndMs?: (() => number | undefined) | undefined;
}

/** The mark of a window read to its end: the next run starts just after it. */
export function markAfter(endMs: number): ResumeMark {
  return () => ({ cursorMs: endMs + 1, idsAtCursor: [] });
}

/**
 * Yields pages lazily: the next request goes out only when the consumer asks, so a failure downstream stops paging.
 *
 * Every page is checked before any of its records is yielded (pageChecks.ts): records in ascending cursor order and
 * inside the requested window, which also makes them ascend across pages. A page that fails throws
 * UntrustedPageError, so only verified pages are delivered. A full page marked `hasNext: false` is followed by one
 * more request; records not read yet in that answer throw too, instead of closing the window on MCAS's word.
 */
export async function* pageRecords(
  source: PageSource,
  window: PageWindow,
  options: RequestOptions = {},
): AsyncGenerator<RecordPage> {
  const position = new KeysetPosition(window.start);
  let skip = 0;
  let endMs = window.endMs;
  /** Set when the last page was full but said hasNext: false: the number of that page. */
  let confirming: number | undefined;
  for (let pageNumber = 1; ; pageNumber++) {
    const query: ActivitiesQuery = {
      filters: { ...window.extraFilters, [source.cursorField]: { gte: position.cursorMs, lte: endMs } },
      sortField: source.cursorField,
      sortDirection: 'asc',
      skip,
      limit: window.pageSize,
    };
    const page = await source.list(query, options);
    // The answer to asking once more may repeat records already read (at or before the cursor); only records after
    // the position are news there.
    checkPageRecords(page.data, {
      pageNumber,
      timeKey: source.timeKey,
      fromMs: confirming === undefined ? position.cursorMs : 0,
      toMs: endMs,
      ascending: true,
    });
    endMs = Math.min(endMs, window.sourceEndMs?.() ?? endMs);
    const cursorBefore = position.cursorMs;
    const records: PagedRecord[] = [];
    let pastEnd = false;
    for (const raw of page.data) {
      if (confirming !== undefined && (cursorValueOf(raw, source.timeKey) ?? Infinity) < position.cursorMs) continue;
      const { createdMs, id } = recordKey(raw, position.cursorMs, source.timeKey, window.endMs);
      if (createdMs > endMs) {
        pastEnd = true; // later than MCAS's own now - settle: left for a later run, like everything after it
        break;
      }
      if (position.covers(createdMs, id)) continue;
      position.advance(createdMs, id);
      records.push({ raw, createdMs, id, mark: position.mark() });
    }
    const cutAtMs = endMs < window.endMs ? endMs : undefined;
    if (confirming !== undefined) {
      if (records.length > 0) throw hasNextContradicted(confirming, window.pageSize, records.length);
      yield { records, returnedCount: page.data.length, hasNext: false, total: page.total, mark: endMark(), cutAtMs };
      return;
    }
    // A full page that never left the cursor millisecond: the next one must step past it with skip.
    skip = position.cursorMs === cursorBefore ? skip + page.data.length : 0;
    const confirm = !page.hasNext && !pastEnd && isFullLastPage(page.data.length, window.pageSize, page.hasNext);
    const last = pastEnd || (!page.hasNext && !confirm);
    yield {
      records,
      returnedCount: page.data.length,
      hasNext: !last,
      total: page.total,
      mark: last ? endMark() : undefined,
      cutAtMs,
    };
    if (last || page.data.length === 0) return;
    if (confirm) confirming = pageNumber;
  }

  /**
   * The mark of the window read to its end. A window cut at MCAS's own time can end before the cursor (its Date header
   * rounds to the second): the position then stays where the records put it.
   */
  function endMark(): ResumeMark {
    return endMs + 1 > position.cursorMs ? markAfter(endMs) : position.mark();
  }
}
