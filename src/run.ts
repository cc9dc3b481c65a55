// runIngestion: one whole run as a plain async function. Read the checkpoint, read the closed `created` window page
// by page (keyset paging, or scan mode in sub-windows), map, batch, send, and move the checkpoint only past what the
// sink accepted.
import type { Checkpoint, CheckpointStore, StoredCheckpoint } from './checkpoint/CheckpointStore.js';
import type { Clock, Sleep } from './clock.js';
import { Delivery } from './Delivery.js';
import { DeadlineReachedError, ensureError } from './errors.js';
import type { Logger } from './logger.js';
import type { Position } from './mcas/KeysetPosition.js';
import type { McasClient } from './mcas/McasClient.js';
import { pageRecords, type PageSource, type RecordPage } from './mcas/pageRecords.js';
import { autoRecords } from './mcas/autoRecords.js';
import { type ScanOptions, scanRecords, type ScanStops } from './mcas/scanRecords.js';
import { checkCursorNotAhead, type SourceClock, sourceWindowEndMs } from './mcas/sourceClock.js';
import { plural } from './plural.js';
import { prefetchOne } from './prefetch.js';
import { runDeadlines } from './runDeadlines.js';
import type { LogSink } from './sink/LogSink.js';
import { ACTIVITIES, type StreamSpec } from './streams.js';

export interface RunDeps {
  mcas: Pick<McasClient, 'list'>;
  sink: LogSink;
  checkpoints: CheckpointStore;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  /** MCAS's own time, learnt from its answers: windows end and cursors stop there too, however the host's clock is set. */
  sourceClock?: SourceClock;
}

/**
 * keyset: `created` pages of up to 100, checkpoint after every accepted batch (the default).
 * scan: pages of up to 5,000 following `nextQueryFilters` inside sub-windows sized by the scan pager; the checkpoint
 * moves to a sub-window's end once all its rows were accepted (mcas/scanRecords.ts, Delivery.ts).
 */
export type PagingOptions = { mode: 'keyset' } | ({ mode: 'scan' } & ScanOptions) | AutoPagingOptions;

/**
 * auto: keyset while the backlog in front of the run is one its remaining requests can read in keyset pages, scan in
 * sub-windows (as `scan`) beyond that; chosen at the first keyset page (MCAS's count) and after each sub-window (the
 * rate it showed), by choosePaging (mcas/autoRecords.ts). `requestsPerMinute` is the pace the requests left are
 * counted at.
 */
export type AutoPagingOptions = { mode: 'auto'; requestsPerMinute: number } & ScanOptions;

export interface RunOptions {
  initialLookbackMs: number;
  settleMs: number;
  /** The whole run, retries and sleeps included, ends within this; new pages stop earlier (runDeadlines). */
  timeBudgetMs: number;
  pageSize: number;
  maxBatchBytes: number;
  extraFilters: Readonly<Record<string, unknown>>;
  paging?: PagingOptions;
  /** What to copy; activities unless told otherwise. */
  stream?: StreamSpec;
  /**
   * A fixed range: `startMs` is where a stream with no checkpoint yet starts (instead of now - lookback), `endMs`
   * replaces now - settle. Used by --since/--until (with a throw-away checkpoint) and by backfills (with their own).
   */
  window?: { startMs?: number | undefined; endMs?: number | undefined } | undefined;
  /**
   * The timer's next and last occurrences (the host's scheduleStatus), so that the run ends just before the next tick
   * instead of making the host skip it (runDeadlines). Absent for CLI runs and backfills.
   */
  schedule?: { nextTickMs?: number | undefined; lastTickMs?: number | undefined } | undefined;
  /** Called after every page, for progress displays. */
  onProgress?: (progress: RunProgress) => void;
  /** Fetch and map only: nothing is sent and the checkpoint is not written. */
  dryRun?: boolean;
}

export interface RunSummary {
  fetched: number;
  sent: number;
  batches: number;
  flagged: number;
  pages: number;
  windowStart: string;
  windowEnd: string;
  /** The saved checkpoint's cursor after the run, ISO 8601 (where the run started if it saved nothing). */
  checkpoint: string;
  /** True when the run stopped at its time budget with more of the window left; the next run continues. */
  moreToDo: boolean;
  durationMs: number;
}

export interface RunProgress {
  pages: number;
  fetched: number;
  sent: number;
  /** Cursor of the last record read (epoch ms). */
  cursorMs: number;
  windowStartMs: number;
  windowEndMs: number;
  /** MCAS's approximate count of records after this page up to the window's end (keyset paging only). */
  remaining?: number | undefined;
  /** Start of a longer range this run resumed inside (a backfill's), for the share done; set by the caller. */
  rangeStartMs?: number | undefined;
}

/** A dry run's sink: accepts every batch and forgets it. */
const DRY_RUN_SINK: LogSink = { send: () => Promise.resolve() };
const NOTHING_SENT = Object.freeze({ sent: 0, batches: 0 });

/** The summary of a run that failed, by the error it failed with: what it had delivered and saved until then. */
const failedRuns = new WeakMap<object, RunSummary>();

/**
 * What a failed run delivered and checkpointed before it failed, given the error runIngestion threw; undefined for
 * any other value.
 */
export function summaryOfFailedRun(error: unknown): RunSummary | undefined {
  return typeof error === 'object' && error !== null ? failedRuns.get(error) : undefined;
}

/**
 * Reads the window from the checkpoint to now - settle (or options.window), delivers it, and returns the summary. A
 * failure is thrown as it came, and summaryOfFailedRun(error) tells what was delivered before it; the checkpoint then
 * covers exactly the accepted batches.
 */
export async function runIngestion(deps: RunDeps, options: RunOptions): Promise<RunSummary> {
  const { clock, log } = deps;
  const startedMs = clock.nowMs();
  const deadlines = runDeadlines({
    startedMs,
    budgetMs: options.timeBudgetMs,
    nextTickMs: options.schedule?.nextTickMs,
    lastTickMs: options.schedule?.lastTickMs,
  });
  const stored = await deps.checkpoints.load();
  const start: Position = stored
    ? { cursorMs: stored.checkpoint.cursor, idsAtCursor: stored.checkpoint.idsAtCursor }
    : { cursorMs: options.window?.startMs ?? startedMs - options.initialLookbackMs, idsAtCursor: [] };
  const windowEndMs = options.window?.endMs ?? startedMs - options.settleMs;
  const stream = options.stream ?? ACTIVITIES;
  const reading: Reading = { pages: 0, fetched: 0, moreToDo: false, lastCursorMs: start.cursorMs, windowEndMs };
  const deadlineMs = deadlines.hardDeadlineMs;
  const writer = options.dryRun
    ? undefined
    : checkpointWriter(deps, stored, stored?.checkpoint.origin ?? start.cursorMs, windowEndMs);
  const delivery = new Delivery({
    ...(writer ? { sink: deps.sink, save: writer.save } : { sink: DRY_RUN_SINK, save: () => Promise.resolve() }),
    stream,
    maxBatchBytes: options.maxBatchBytes,
    deadlineMs: deadlines.hardDeadlineMs,
    log,
  });
  // A dry run's sink forgets what it accepts: none of it counts as sent, in the summary or in progress.
  const sent = (): { sent: number; batches: number } => (options.dryRun ? NOTHING_SENT : delivery.delivered);
  /** The one place the summary is written. */
  const summarize = (): RunSummary => ({
    fetched: reading.fetched,
    sent: sent().sent,
    batches: sent().batches,
    flagged: delivery.delivered.flagged,
    pages: reading.pages,
    windowStart: iso(start.cursorMs),
    windowEnd: iso(reading.windowEndMs),
    checkpoint: iso(delivery.delivered.saved?.cursorMs ?? start.cursorMs),
    moreToDo: reading.moreToDo,
    durationMs: clock.nowMs() - startedMs,
  });

  if (start.cursorMs > windowEndMs) {
    // Either this run comes right after the last one, or the checkpoint is in MCAS's future (a host clock that ran
    // ahead): then nothing MCAS saves would ever be read, which must fail loudly, not pass as "nothing to read".
    if (stored) await checkStoredCursor(deps, stream, start.cursorMs, { deadlineMs });
    log.info(`Nothing to read: the checkpoint (${iso(start.cursorMs)}) is past the window end (${iso(windowEndMs)}).`);
    return summarize();
  }
  log.info(
    `Reading ${stream.resource} with ${stream.cursorField} ${iso(start.cursorMs)} .. ${iso(windowEndMs)} ` +
      `(${startLabel(stored !== undefined, deps.checkpoints, options)}, ` +
      `${options.paging?.mode ?? 'keyset'} paging` +
      `${options.dryRun ? ', dry run' : ''}).`,
  );
  // Before anything is posted: a store that cannot be written, or another writer, fails the run here.
  await writer?.prepare();
  const sourceEndMs = (): number | undefined => {
    const sourceNowMs = deps.sourceClock?.nowMs(clock.nowMs());
    return sourceNowMs === undefined ? undefined : sourceWindowEndMs(sourceNowMs, options.settleMs);
  };
  const stops: ScanStops = {
    nowMs: () => clock.nowMs(),
    softDeadlineMs: deadlines.softDeadlineMs,
    hardDeadlineMs: deadlines.hardDeadlineMs,
  };
  const pages = openPages(deps, options, stream, { start, endMs: windowEndMs, sourceEndMs }, stops);
  const { softDeadlineMs } = deadlines;
  const context = { deps, options, start, windowEndMs, softDeadlineMs, sent: () => sent().sent };
  const readError = await readPages(pages, delivery, reading, context);
  const failure = await finishDelivery(delivery, readError, log);

  const summary = summarize();
  if (failure !== undefined) {
    if (typeof failure === 'object' && failure !== null) failedRuns.set(failure, summary);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the run's own failure, rethrown as it was caught
    throw failure;
  }
  log.info(
    `Run done: fetched ${summary.fetched}, sent ${summary.sent} in ${plural(summary.batches, 'batch', 'batches')}, ` +
      `flagged ${summary.flagged}, ${options.dryRun ? 'nothing saved (dry run)' : `checkpoint ${summary.checkpoint}`}` +
      `${summary.moreToDo ? ', more to do' : ''} (${summary.durationMs} ms).`,
  );
  return summary;
}

/** The pages of the window from the pager `options.paging` names; every request ends by the hard deadline. */
function openPages(
  deps: RunDeps,
  options: RunOptions,
  stream: StreamSpec,
  window: { start: Position; endMs: number; sourceEndMs: () => number | undefined },
  stops: ScanStops,
): AsyncGenerator<RecordPage> {
  const deadlineMs = stops.hardDeadlineMs;
  const source: PageSource = {
    list: (query, requestOptions) => deps.mcas.list(stream.resource, query, requestOptions),
    cursorField: stream.cursorField,
    timeKey: stream.timeKey,
  };
  const paging = options.paging ?? { mode: 'keyset' };
  const scope = { ...window, extraFilters: options.extraFilters };
  if (paging.mode === 'scan') return scanRecords(source, scope, paging, { deadlineMs, log: deps.log, stops });
  if (paging.mode === 'auto') {
    const auto = { ...paging, keysetPageSize: options.pageSize };
    return autoRecords(source, scope, auto, { deadlineMs, log: deps.log, stops });
  }
  return pageRecords(source, { ...scope, pageSize: options.pageSize }, { deadlineMs });
}

/** Saves positions as checkpoints of this run, each conditional on the one before (ETag). */
function checkpointWriter(
  deps: RunDeps,
  stored: StoredCheckpoint | undefined,
  originMs: number,
  windowEndMs: number,
): { prepare: () => Promise<void>; save: (position: Position) => Promise<void> } {
  let etag = stored?.etag;
  const prepare = async (): Promise<void> => {
    etag = await deps.checkpoints.prepare(stored);
  };
  const save = async (position: Position): Promise<void> => {
    // No cursor ahead of MCAS's own time is ever saved: the next run would skip what MCAS stores until then.
    checkCursorNotAhead(
      'The cursor this run would save',
      position.cursorMs,
      deps.sourceClock?.nowMs(deps.clock.nowMs()),
    );
    const checkpoint: Checkpoint = {
      version: 1,
      cursor: position.cursorMs,
      idsAtCursor: position.idsAtCursor,
      origin: originMs,
      windowEnd: windowEndMs,
      updatedAt: iso(deps.clock.nowMs()),
    };
    etag = await deps.checkpoints.save(checkpoint, etag);
  };
  return { prepare, save };
}

interface Reading {
  pages: number;
  fetched: number;
  /** Set when reading stopped before the window's end; the next run continues. */
  moreToDo: boolean;
  /** Cursor of the last record read so far, for progress. */
  lastCursorMs: number;
  /** Where the window ends: now - settle, or earlier when MCAS's own clock says so (a host clock that runs ahead). */
  windowEndMs: number;
}

/**
 * Fails with CursorAheadOfSourceError when the stored cursor is in MCAS's future, asking MCAS for its time (one
 * request of one record) when no answer has shown it yet.
 */
async function checkStoredCursor(
  deps: RunDeps,
  stream: StreamSpec,
  cursorMs: number,
  requestOptions: { deadlineMs: number },
): Promise<void> {
  const sourceClock = deps.sourceClock;
  if (!sourceClock) return;
  if (sourceClock.nowMs(deps.clock.nowMs()) === undefined) {
    await deps.mcas.list(
      stream.resource,
      {
        filters: { [stream.cursorField]: { gte: cursorMs } },
        sortField: stream.cursorField,
        sortDirection: 'asc',
        skip: 0,
        limit: 1,
      },
      requestOptions,
    );
  }
  checkCursorNotAhead('The checkpoint', cursorMs, sourceClock.nowMs(deps.clock.nowMs()));
}

/**
 * Feeds every page to `delivery`, fetching one page ahead but not past the end of a sub-window (the run may stop
 * there). A stop before the window's end (the time budget, or MCAS stopping short) sets `moreToDo`; any other error
 * that ended reading is returned, for the run to throw once delivery has finished.
 */
async function readPages(
  pages: AsyncGenerator<RecordPage>,
  delivery: Delivery,
  reading: Reading,
  ctx: {
    deps: RunDeps;
    options: RunOptions;
    start: Position;
    windowEndMs: number;
    softDeadlineMs: number;
    /** Rows sent so far, for progress. */
    sent: () => number;
  },
): Promise<unknown> {
  let stoppedBecause: string | undefined;
  try {
    stoppedBecause = await feed();
  } catch (error) {
    // The hard deadline ends reading like the soft one, unless delivery failed first (then that is the error).
    if (!(error instanceof DeadlineReachedError) || delivery.failed) return error;
    stoppedBecause = error.message;
  }
  if (stoppedBecause !== undefined) {
    reading.moreToDo = true;
    ctx.deps.log.warn(`${stoppedBecause} after ${reading.pages} pages; the next run continues from the checkpoint.`);
  }
  return undefined;

  /** The window ends at MCAS's own now - settle, earlier than the host's clock said: the host's clock is ahead. */
  function endWindowEarlier(endMs: number): void {
    ctx.deps.log.warn(
      `This host's clock is ahead of MCAS's (from the Date header of its answers); the window ends at MCAS's time ` +
        `less the settle margin, ${iso(endMs)}, instead of ${iso(reading.windowEndMs)}.`,
    );
    reading.windowEndMs = endMs;
  }

  async function feed(): Promise<string | undefined> {
    let lastHasNext = false;
    let lastMarked = false;
    /** The page being read, logged once all its parts are in (a scan page comes in parts of 100 records). */
    let logged: PageLog | undefined;
    const logPage = (): void => {
      if (logged) ctx.deps.log.info(describePage(logged));
      logged = undefined;
    };
    try {
      for await (const page of prefetchOne(pages, (p) => p.mark !== undefined)) {
        lastHasNext = page.hasNext;
        if (page.cutAtMs !== undefined && page.cutAtMs < reading.windowEndMs) endWindowEarlier(page.cutAtMs);
        lastMarked = page.mark !== undefined;
        // A scan page handed on in parts counts once.
        if (page.continued !== true) {
          logPage();
          reading.pages++;
        }
        logged = addToPageLog(logged, reading.pages, page);
        reading.fetched += page.records.length;
        for (const record of page.records) await delivery.add(record);
        if (page.mark) await delivery.mark(page.mark);
        const stop = afterPage(page);
        if (stop !== undefined) return stop;
      }
    } finally {
      logPage();
    }
    // A scan stops after a completed sub-window when the time left cannot read another one.
    if (lastHasNext && lastMarked) return 'Stopping before a scan sub-window the time left cannot read';
    // The pagers stop at an empty page even when MCAS says there is more; the window was not read to its end.
    return lastHasNext ? 'MCAS sent an empty page but said there is more; stopping' : undefined;
  }

  /** Progress after a page (or part of one), and whether to stop at the time budget before the next. */
  function afterPage(page: RecordPage): string | undefined {
    const last = page.records.at(-1);
    if (last) reading.lastCursorMs = last.createdMs;
    ctx.options.onProgress?.({
      pages: reading.pages,
      fetched: reading.fetched,
      sent: ctx.sent(),
      cursorMs: reading.lastCursorMs,
      windowStartMs: ctx.start.cursorMs,
      windowEndMs: reading.windowEndMs,
      // A keyset page's total counts from its own start; a scan page's counts a sub-window, so it says nothing here.
      remaining:
        ctx.options.paging?.mode !== 'scan' && page.total !== undefined
          ? Math.max(0, page.total - page.returnedCount)
          : undefined,
    });
    // Between pages, and only where the next run can resume without reading again what this one delivered.
    const resumable = page.mark !== undefined || last?.mark !== undefined;
    if (page.hasNext && resumable && ctx.deps.clock.nowMs() >= ctx.softDeadlineMs) return 'Stopping at the time budget';
    return undefined;
  }
}

/** What one page's log line says: its number, its records and their time range, and how many MCAS returned. */
interface PageLog {
  pageNumber: number;
  records: number;
  returned: number;
  firstMs: number | undefined;
  lastMs: number | undefined;
}

function addToPageLog(log: PageLog | undefined, pageNumber: number, page: RecordPage): PageLog {
  const entry = log ?? { pageNumber, records: 0, returned: 0, firstMs: undefined, lastMs: undefined };
  entry.records += page.records.length;
  entry.returned += page.returnedCount;
  entry.firstMs ??= page.records[0]?.createdMs;
  entry.lastMs = page.records.at(-1)?.createdMs ?? entry.lastMs;
  return entry;
}

/**
 * Delivers what was read up to the last resume mark, however reading ended (after a failure it means the next run
 * repeats less), and returns the error the run ends with: the reading error first, else delivery's.
 */
async function finishDelivery(delivery: Delivery, readError: unknown, log: Logger): Promise<unknown> {
  const deliverable = delivery.deliverableRows;
  try {
    await delivery.finish();
    return readError;
  } catch (error) {
    if (readError === undefined) return error;
    if (error !== readError)
      log.warn(`Could not deliver the ${deliverable} rows fetched before the failure: ${ensureError(error).message}`);
    return readError;
  }
}

function describePage(page: PageLog): string {
  const { pageNumber, records, returned, firstMs, lastMs } = page;
  const range = firstMs !== undefined && lastMs !== undefined ? `, ${iso(firstMs)} .. ${iso(lastMs)}` : '';
  const skipped = returned - records;
  return `Page ${pageNumber}: ${records} records${range}${skipped > 0 ? ` (${skipped} already delivered)` : ''}.`;
}

/** Where the window starts from, for the run's first log line. */
function startLabel(hasCheckpoint: boolean, checkpoints: CheckpointStore, options: RunOptions): string {
  if (hasCheckpoint) return `from ${checkpoints.describe()}`;
  if (options.window?.startMs !== undefined) return 'from the start of the requested range';
  return `no checkpoint yet: the initial lookback of ${Math.round(options.initialLookbackMs / 60_000)} minutes`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
