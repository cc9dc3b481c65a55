// Scan mode: up to 5,000 records a request (50x fewer requests than normal listing), following the server's
// `nextQueryFilters` through closed sub-windows of the cursor window, one after another. The order inside a scan is
// the server's affair, so a scan has no resumable position until its sub-window is complete: the last page of each
// sub-window carries the sub-window's end as its resume mark, and nothing else in a scan is marked.
import type { Logger } from '../logger.js';
import type { ActivitiesQuery } from './McasClient.js';
import { type Position, recordKey } from './KeysetPosition.js';
import { markAfter, type PagedRecord, type PageSource, type PageWindow, type RecordPage } from './pageRecords.js';
import type { RequestOptions } from './pageRecords.js';
import { checkPageRecords, hasNextContradicted, isFullLastPage } from './pageChecks.js';
import type { McasPage } from './schema.js';

/** Records of a scan page handed on at a time (a RecordPage each, `continued` after the first). */
export const SCAN_PART_RECORDS = 100;

export interface ScanOptions {
  /** Records a request (MCAS takes 500 to 5,000 in scan mode). */
  pageSize: number;
  /** Length of the first sub-window; 0: one scan over the whole window, unchecked. */
  windowMs: number;
  /** Pages a sub-window aims to hold; default TARGET_PAGES. */
  targetPages?: number | undefined;
}

/** What lets a scan stop at a sub-window's end: near a run's end (the deadlines), or to hand over (auto paging). */
export interface ScanStops {
  nowMs: () => number;
  /** No sub-window starts after this (epoch ms). */
  softDeadlineMs: number;
  /** Every request ends by this: a sub-window that cannot be read before it is shortened, or not started. */
  hardDeadlineMs: number;
  /**
   * Asked after each completed sub-window that is not the window's last, with the rate it showed (records a ms) and
   * where the rest starts: true ends the scan there, for the caller to read on another way.
   */
  handOver?: ((ratePerMs: number, next: Position) => boolean) | undefined;
}

/**
 * Pages a scan sub-window aims to hold (50,000 rows at pages of 5,000). Each sub-window can end on a partial page, so
 * it wastes at most one request: about 1 in 10 here. Larger would waste less, but a crash re-sends at most one
 * sub-window plus the batch in flight, so larger would also mean more duplicates after a crash.
 */
export const TARGET_PAGES = 10;
/**
 * A sub-window whose first page counts more than this many times `targetPages` pages (MCAS's approximate `total`) is
 * not read: it is dropped after that one request and scanned again shorter, sized by that count. It keeps the crash
 * re-send bound when the data's rate jumps (a quiet stretch, then a burst), without capping how fast sub-windows grow
 * over quiet data (a cap costs a request per extra sub-window; the check costs one only when it fires).
 */
export const MAX_TOTAL_FACTOR = 4;
/** The shortest sub-window, however dense the data, so a burst cannot split the window into ever more scans. */
export const MIN_SUB_WINDOW_MS = 60_000;

/**
 * Length of the next scan sub-window, after one of `lengthMs` that held (or counted) `records`: long enough for
 * `targetPages` pages at that rate, never below MIN_SUB_WINDOW_MS, and never past Number.MAX_SAFE_INTEGER (an empty
 * one reaches to the window's end).
 */
export function nextSubWindowMs(lengthMs: number, records: number, pageSize: number, targetPages: number): number {
  const byRate = records > 0 ? lengthMs * ((targetPages * pageSize) / records) : Infinity;
  return Math.max(MIN_SUB_WINDOW_MS, Math.floor(Math.min(byRate, Number.MAX_SAFE_INTEGER)));
}

/**
 * The most records MCAS may count in a sub-window of `lengthMs` before it is given up and scanned shorter, or
 * undefined when it is read whatever it counts: one scan over the whole window (`windowMs` 0), or a sub-window that
 * cannot shrink any more.
 */
export function maxScanTotal(lengthMs: number, scan: ScanOptions): number | undefined {
  if (scan.windowMs <= 0 || lengthMs <= MIN_SUB_WINDOW_MS) return undefined;
  return MAX_TOTAL_FACTOR * (scan.targetPages ?? TARGET_PAGES) * scan.pageSize;
}

/**
 * Yields the pages of a window scanned one sub-window at a time. The first sub-window is `windowMs` long; each next one
 * is sized to hold about `targetPages` pages at the rate the one before showed (nextSubWindowMs), because every
 * sub-window costs up to one request more than its rows need (its last page is partial) and fewer, fuller sub-windows
 * waste fewer of MCAS's 30 requests a minute. A sub-window whose first page counts more than maxScanTotal is given up
 * after that request and read again shorter, so the crash re-send bound stays near `targetPages` pages when the rate
 * jumps. Records at the starting cursor whose ids were already delivered are left out; the server itself avoids
 * repeats across the pages of one scan.
 *
 * Every page is checked before it is yielded: its records must lie inside the scan's window (their order inside a scan
 * is the server's), else UntrustedPageError. Records after MCAS's own now - settle (PageWindow.sourceEndMs) are left
 * for a later run, and the window ends there. A sub-window whose last page is full (as many records as the limit, yet
 * `hasNext: false`) is confirmed before its mark is handed on: one more request for the rest of the sub-window from
 * the latest record read (confirmScanEnd), unless MCAS's count of the sub-window on its first page is exactly what was
 * read. It costs a request only when a page ends exactly on the limit and the count does not say the same.
 */
export async function* scanRecords(
  source: PageSource,
  window: Omit<PageWindow, 'pageSize'>,
  scan: ScanOptions,
  options: RequestOptions & { log: Logger; stops?: ScanStops | undefined },
): AsyncGenerator<RecordPage> {
  const { log, stops, ...requestOptions } = options;
  const targetPages = scan.targetPages ?? TARGET_PAGES;
  let startMs = window.start.cursorMs;
  let lengthMs = scan.windowMs > 0 ? scan.windowMs : Number.MAX_SAFE_INTEGER;
  /** How long a page of the last completed sub-window took, to judge whether the next can end before the deadline. */
  let msPerPage: number | undefined;
  while (startMs <= window.endMs) {
    const endMs = Math.min(window.endMs, startMs + lengthMs - 1);
    const spanMs = endMs + 1 - startMs;
    const maxTotal = maxScanTotal(spanMs, scan);
    // Ids already delivered matter only at the window's own start; a later sub-window starts past every one.
    const start = startMs === window.start.cursorMs ? window.start : { cursorMs: startMs, idsAtCursor: [] };
    const subWindow = {
      start,
      endMs,
      extraFilters: window.extraFilters,
      last: endMs >= window.endMs,
      sourceEndMs: window.sourceEndMs,
    };
    const subStartedMs = stops?.nowMs();
    const outcome = yield* scanSubWindow(source, subWindow, scan.pageSize, maxTotal, requestOptions);
    if (outcome.counted !== undefined) {
      lengthMs = nextSubWindowMs(spanMs, outcome.counted, scan.pageSize, targetPages);
      log.info(
        `MCAS counts about ${outcome.counted} records in this scan window, more than the ${maxTotal} allowed. ` +
          `Scanning ${Math.round(lengthMs / 60_000)} minutes instead.`,
      );
      continue;
    }
    if (!outcome.complete || outcome.cut) return;
    if (scan.windowMs > 0) lengthMs = nextSubWindowMs(spanMs, outcome.read, scan.pageSize, targetPages);
    startMs = endMs + 1;
    if (stops === undefined || startMs > window.endMs) continue;
    if (stops.handOver?.(outcome.read / spanMs, { cursorMs: startMs, idsAtCursor: [] })) return;
    // No sub-window that the hard deadline would cut (its rows would be sent, then read again next run): near the
    // end, the next one is shortened to the pages that fit at the pace of the one before, or not started.
    if (subStartedMs !== undefined && outcome.pages > 0) msPerPage = (stops.nowMs() - subStartedMs) / outcome.pages;
    const fit =
      msPerPage === undefined ? targetPages : Math.floor((stops.hardDeadlineMs - stops.nowMs()) / msPerPage) - 1;
    if (stops.nowMs() >= stops.softDeadlineMs || fit < 1) return;
    if (fit < targetPages) lengthMs = Math.max(MIN_SUB_WINDOW_MS, Math.floor((lengthMs * fit) / targetPages));
  }
}

/**
 * One scan over [start, endMs]. Gives up after the first page when MCAS counts more than `maxTotal` records, having
 * yielded nothing (`counted`); otherwise yields every page, the last one marked, unless MCAS stops short (an empty
 * page that says there is more: not `complete`).
 */
async function* scanSubWindow(
  source: PageSource,
  window: Omit<PageWindow, 'pageSize'> & { last: boolean },
  pageSize: number,
  maxTotal: number | undefined,
  requestOptions: RequestOptions,
): AsyncGenerator<RecordPage, { complete: boolean; read: number; pages: number; counted?: number; cut?: boolean }> {
  let filters: Record<string, unknown> = {
    ...window.extraFilters,
    [source.cursorField]: { gte: window.start.cursorMs, lte: window.endMs },
  };
  const reading = new SubWindowReading(window, source.timeKey);
  let pages = 0;
  let endMs = window.endMs;
  for (let pageNumber = 1; ; pageNumber++) {
    const query: ActivitiesQuery = {
      filters,
      sortField: source.cursorField,
      sortDirection: 'asc',
      skip: 0,
      limit: pageSize,
      isScan: true,
    };
    const page = await source.list(query, requestOptions);
    pages++;
    if (pageNumber === 1) {
      if (maxTotal !== undefined && page.total !== undefined && page.total > maxTotal) {
        page.data.release?.();
        return { complete: false, read: reading.read, pages, counted: page.total };
      }
      reading.counted = page.total;
    }
    const complete = !page.hasNext;
    endMs = Math.min(endMs, window.sourceEndMs?.() ?? endMs);
    const { records, returned, parts } = yield* reading.parts(page, pageNumber, endMs);
    if (complete && reading.mustConfirm(returned, pageSize, endMs)) {
      pages++;
      const unread = await confirmScanEnd(
        source,
        window,
        reading.latest,
        pageNumber + 1,
        endMs,
        pageSize,
        requestOptions,
      );
      if (unread > 0) throw hasNextContradicted(pageNumber, pageSize, unread);
    }
    const cut = endMs < window.endMs;
    // A window cut at MCAS's own time can end before the start (its Date header rounds to the second): stay put then.
    const endMark = endMs + 1 > window.start.cursorMs ? markAfter(endMs) : (): Position => window.start;
    yield {
      records,
      returnedCount: returned % SCAN_PART_RECORDS || Math.min(returned, SCAN_PART_RECORDS),
      // Once complete, more follows unless it was the window's last sub-window (or cut at MCAS's own time); and the
      // next run may start after it.
      hasNext: !complete || (!window.last && !cut),
      total: page.total,
      continued: parts > 0,
      mark: complete ? endMark : undefined,
      cutAtMs: cut ? endMs : undefined,
    };
    if (complete) return { complete, read: reading.read, pages, cut };
    if (page.data.length === 0) return { complete: false, read: reading.read, pages };
    if (!page.nextQueryFilters) {
      throw new Error('MCAS scan page said hasNext but gave no nextQueryFilters; cannot continue the scan safely.');
    }
    filters = page.nextQueryFilters;
  }
}

/** What the scan of one sub-window has read: its records, counted and checked page by page. */
class SubWindowReading {
  /** Records handed on (inside the window, not delivered before). */
  read = 0;
  /** MCAS's count for the whole sub-window, from its first page. */
  counted: number | undefined;
  /** The latest record time returned in the sub-window, and the ids returned at it: where a confirmation starts. */
  readonly latest: { createdMs: number; ids: Set<string> };
  #returned = 0;
  readonly #window: Omit<PageWindow, 'pageSize'>;
  readonly #timeKey: PageSource['timeKey'];
  readonly #delivered: ReadonlySet<string>;

  constructor(window: Omit<PageWindow, 'pageSize'>, timeKey: PageSource['timeKey']) {
    this.#window = window;
    this.#timeKey = timeKey;
    this.#delivered = new Set(window.start.idsAtCursor);
    this.latest = { createdMs: window.start.cursorMs, ids: new Set() };
  }

  /**
   * Hands a page on in parts of SCAN_PART_RECORDS, each parsed as it is reached (the client parses a scan page's
   * records lazily), so that its records are never all objects at once; returns the last part for the caller to mark.
   * Each record is checked against the requested window as it is parsed: a violation fails the scan before the part
   * holding it is handed on, and the mark is never reached. Records later than `endMs` (MCAS's own now - settle) are
   * left for a later run.
   */
  *parts(
    page: McasPage,
    pageNumber: number,
    endMs: number,
  ): Generator<RecordPage, { records: PagedRecord[]; returned: number; parts: number }> {
    const { start } = this.#window;
    const expected = {
      pageNumber,
      timeKey: this.#timeKey,
      fromMs: start.cursorMs,
      toMs: this.#window.endMs,
      ascending: false,
    };
    let records: PagedRecord[] = [];
    let returned = 0;
    let parts = 0;
    for (const raw of page.data) {
      checkPageRecords([raw], expected, returned);
      returned++;
      const { createdMs, id } = recordKey(raw, start.cursorMs, this.#timeKey);
      this.#noteLatest(createdMs, id);
      if (createdMs <= endMs && !(createdMs === start.cursorMs && this.#delivered.has(id))) {
        records.push({ raw, createdMs, id });
        this.read++;
      }
      if (returned % SCAN_PART_RECORDS === 0 && returned < page.data.length) {
        yield { records, returnedCount: SCAN_PART_RECORDS, hasNext: true, total: page.total, continued: parts++ > 0 };
        records = [];
      }
    }
    this.#returned += returned;
    return { records, returned, parts };
  }

  /**
   * Whether a last page of `returned` records (hasNext: false) must be confirmed with one more request: it is full,
   * MCAS's count of the sub-window is not exactly what was read, and the latest record is inside the window.
   */
  mustConfirm(returned: number, pageSize: number, endMs: number): boolean {
    return (
      isFullLastPage(returned, pageSize, false) && this.counted !== this.#returned && this.latest.createdMs <= endMs
    );
  }

  #noteLatest(createdMs: number, id: string): void {
    if (createdMs > this.latest.createdMs) {
      this.latest.createdMs = createdMs;
      this.latest.ids.clear();
    }
    if (createdMs === this.latest.createdMs) this.latest.ids.add(id);
  }
}

/**
 * Asks once more after a full last page marked `hasNext: false`: the sub-window from the latest record read to its end.
 * Returns how many records the answer holds that were not read (later than `latest`, or at its time with another id);
 * the caller fails the scan when there are any. Its records are checked like any page's.
 */
async function confirmScanEnd(
  source: PageSource,
  window: Omit<PageWindow, 'pageSize'>,
  latest: { createdMs: number; ids: ReadonlySet<string> },
  pageNumber: number,
  endMs: number,
  pageSize: number,
  requestOptions: RequestOptions,
): Promise<number> {
  const page = await source.list(
    {
      filters: { ...window.extraFilters, [source.cursorField]: { gte: latest.createdMs, lte: endMs } },
      sortField: source.cursorField,
      sortDirection: 'asc',
      skip: 0,
      limit: pageSize,
      isScan: true,
    },
    requestOptions,
  );
  // As in keyset paging, the answer may repeat records already read (before the latest one): only later ones are news.
  const startMs = window.start.cursorMs;
  const expected = { pageNumber, timeKey: source.timeKey, fromMs: startMs, toMs: endMs, ascending: false };
  let unread = 0;
  let offset = 0;
  for (const raw of page.data) {
    checkPageRecords([raw], expected, offset++);
    const { createdMs, id } = recordKey(raw, startMs, source.timeKey);
    if (createdMs > latest.createdMs || (createdMs === latest.createdMs && !latest.ids.has(id))) unread++;
  }
  return unread;
}
