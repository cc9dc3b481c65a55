// MCAS_PAGING=auto: keyset or scan sub-windows, whichever suits the backlog left (choosePaging), switching between them
// at resume marks, where every record before was handed on: keyset hands over the position after its last record
// (cursor and the ids at it), which the scan starts from and skips by id; a completed sub-window hands over the
// millisecond after its end. So a switch neither loses nor repeats an activity, ties at the boundary included. The
// checkpoint follows each mode's own marks (every keyset record; each sub-window's end), so a crash re-sends at most the
// batch in flight near the head and one sub-window plus the batch in flight while scanning.
import type { Logger } from '../logger.js';
import { choosePaging, estimateBacklog, type PagingMode } from './choosePaging.js';
import type { Position } from './KeysetPosition.js';
import { pageRecords, type PageSource, type PageWindow, type RecordPage, type RequestOptions } from './pageRecords.js';
import { type ScanOptions, scanRecords, type ScanStops } from './scanRecords.js';

export interface AutoOptions extends ScanOptions {
  /** Records a keyset request (100). */
  keysetPageSize: number;
  /** The pace the requests left before the soft deadline are counted at. */
  requestsPerMinute: number;
}

/**
 * Yields the pages of a window read in keyset pages while the backlog is one the run's remaining requests can read
 * that way, and in scan sub-windows beyond that; the mode is chosen at the first keyset page (MCAS's count) and after
 * each sub-window (the rate it showed).
 */
export async function* autoRecords(
  source: PageSource,
  window: Omit<PageWindow, 'pageSize'>,
  auto: AutoOptions,
  options: RequestOptions & { log: Logger; stops: ScanStops },
): AsyncGenerator<RecordPage> {
  const { log, stops, ...requestOptions } = options;
  const requestsLeft = (): number =>
    Math.floor((Math.max(0, stops.softDeadlineMs - stops.nowMs()) / 60_000) * auto.requestsPerMinute);
  const choose = (backlog: number | undefined, current: PagingMode): PagingMode =>
    choosePaging({ backlog, requestsLeft: requestsLeft(), keysetPageSize: auto.keysetPageSize, current });
  let start = window.start;
  for (;;) {
    // Keyset, until the first page's count says the backlog is too large for it.
    let handOver: Position | undefined;
    let total: number | undefined;
    const keyset = pageRecords(source, { ...window, start, pageSize: auto.keysetPageSize }, requestOptions);
    try {
      let first = true;
      for await (const page of keyset) {
        yield page;
        const mark = page.records.at(-1)?.mark;
        if (first && page.hasNext && mark !== undefined) {
          total = page.total;
          if (choose(estimateBacklog({ total, ratePerMs: undefined, remainingWindowMs: 0 }), 'keyset') === 'scan')
            handOver = mark();
        }
        first = false;
        if (handOver) break;
      }
    } finally {
      await keyset.return(undefined);
    }
    if (handOver === undefined) return;
    log.info(`MCAS counts about ${total} activities left in the window: reading on in scan sub-windows.`);
    let back: Position | undefined;
    const toKeyset = (ratePerMs: number, next: Position): boolean => {
      const remainingWindowMs = window.endMs + 1 - next.cursorMs;
      if (choose(estimateBacklog({ total: undefined, ratePerMs, remainingWindowMs }), 'scan') !== 'keyset')
        return false;
      back = next;
      return true;
    };
    yield* scanRecords(source, { ...window, start: handOver }, auto, {
      ...requestOptions,
      log,
      stops: { ...stops, handOver: toKeyset },
    });
    if (back === undefined) return;
    log.info('Near the head of the stream: reading on in keyset pages.');
    start = back;
  }
}
