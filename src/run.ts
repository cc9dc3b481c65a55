// runIngestion: one whole run as a plain async function. Read the checkpoint, read the closed `created` window page
// by page (keyset paging, or scan mode in sub-windows), map, batch, send, and move the checkpoint only past what the
// sink accepted.
import { BatchBuilder } from './batch/BatchBuilder.js';
import type { Checkpoint, CheckpointStore } from './checkpoint/CheckpointStore.js';
import type { Clock, Sleep } from './clock.js';
import { DeadlineReachedError, ensureError, PartialSendError } from './errors.js';
import type { Logger } from './logger.js';
import { choosePaging, estimateBacklog, type PagingMode } from './mcas/choosePaging.js';
import { KeysetPosition, type Position } from './mcas/KeysetPosition.js';
import type { McasClient } from './mcas/McasClient.js';
import { type PagedRecord, pageRecords, type PageSource, type RecordPage } from './mcas/pageRecords.js';
import { ScanTooLargeError, scanRecords } from './mcas/scanRecords.js';
import { prefetchOne } from './prefetch.js';
import { runDeadlines } from './runDeadlines.js';
import type { Batch, LogSink } from './sink/LogSink.js';
import { ACTIVITIES, type StreamSpec } from './streams.js';

export interface RunDeps {
  mcas: Pick<McasClient, 'list'>;
  sink: LogSink;
  checkpoints: CheckpointStore;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
}

/**
 * keyset: `created` pages of up to 100, checkpoint after every accepted batch (the default).
 * scan: pages of up to 5,000 following `nextQueryFilters` inside sub-windows; the first is `windowMs` long (0: one scan
 * over the whole window), the next ones are sized to hold about `targetPages` pages (default TARGET_PAGES) at the rate
 * seen in the one before (nextSubWindowMs). The checkpoint moves to a sub-window's end once all its rows were accepted,
 * so a crash re-sends at most what was sent of one sub-window plus the batch in flight (readByScan says why).
 */
export type PagingOptions =
  { mode: 'keyset' } | { mode: 'scan'; pageSize: number; windowMs: number; targetPages?: number } | AutoPagingOptions;

/**
 * auto: keyset while the backlog in front of the run is one its remaining requests can read in keyset pages, scan in
 * sub-windows (as `scan`) beyond that; chosen at the first keyset page of the run (MCAS's count) and after each
 * sub-window (the rate it showed), by choosePaging. `requestsPerMinute` is the pace the requests left are counted at.
 */
export interface AutoPagingOptions {
  mode: 'auto';
  pageSize: number;
  windowMs: number;
  targetPages?: number;
  requestsPerMinute: number;
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
const MAX_TOTAL_FACTOR = 4;
/** The shortest sub-window, however dense the data, so a burst cannot split the window into ever more scans. */
const MIN_SUB_WINDOW_MS = 60_000;

/**
 * Length of the next scan sub-window, after one of `lengthMs` that held (or counted) `records`: long enough for
 * `targetPages` pages at that rate, never below MIN_SUB_WINDOW_MS, and never past Number.MAX_SAFE_INTEGER (an empty
 * one reaches to the window's end).
 */
export function nextSubWindowMs(lengthMs: number, records: number, pageSize: number, targetPages: number): number {
  const byRate = records > 0 ? lengthMs * ((targetPages * pageSize) / records) : Infinity;
  return Math.max(MIN_SUB_WINDOW_MS, Math.floor(Math.min(byRate, Number.MAX_SAFE_INTEGER)));
}

export interface RunOptions {
  initialLookbackMs: number;
  settleMs: number;
  /** The whole run, retries and sleeps included, ends within this; new pages stop at SOFT_DEADLINE_SHARE of it. */
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
  signal?: AbortSignal;
}

export interface RunSummary {
  fetched: number;
  sent: number;
  batches: number;
  flagged: number;
  pages: number;
  windowStart: string;
  windowEnd: string;
  /** The saved checkpoint's cursor after the run, ISO 8601 (unchanged if nothing was saved). */
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
}

export async function runIngestion(deps: RunDeps, options: RunOptions): Promise<RunSummary> {
  const { clock, log } = deps;
  const startedMs = clock.nowMs();
  const stored = await deps.checkpoints.load();
  const start: Position = stored
    ? { cursorMs: stored.checkpoint.cursor, idsAtCursor: stored.checkpoint.idsAtCursor }
    : { cursorMs: options.window?.startMs ?? startedMs - options.initialLookbackMs, idsAtCursor: [] };
  const windowEndMs = options.window?.endMs ?? startedMs - options.settleMs;
  const summary: RunSummary = {
    fetched: 0,
    sent: 0,
    batches: 0,
    flagged: 0,
    pages: 0,
    windowStart: iso(start.cursorMs),
    windowEnd: iso(windowEndMs),
    checkpoint: iso(stored?.checkpoint.cursor ?? start.cursorMs),
    moreToDo: false,
    durationMs: 0,
  };
  const finish = (): RunSummary => ({ ...summary, durationMs: clock.nowMs() - startedMs });

  if (start.cursorMs > windowEndMs) {
    log.info(`Nothing to read: the checkpoint (${iso(start.cursorMs)}) is past the window end (${iso(windowEndMs)}).`);
    return finish();
  }
  const paging = options.paging ?? { mode: 'keyset' };
  const stream = options.stream ?? ACTIVITIES;
  log.info(
    `Reading ${stream.resource} with ${stream.cursorField} ${iso(start.cursorMs)} .. ${iso(windowEndMs)} ` +
      `(${stored ? `from ${deps.checkpoints.describe()}` : 'first run: initial lookback'}, ${paging.mode} paging` +
      `${options.dryRun ? ', dry run' : ''}).`,
  );

  const deadlines = runDeadlines({
    startedMs,
    budgetMs: options.timeBudgetMs,
    nextTickMs: options.schedule?.nextTickMs,
    lastTickMs: options.schedule?.lastTickMs,
  });
  const delivery = new Delivery(deps, options, summary, stream, {
    etag: stored?.etag,
    origin: stored?.checkpoint.origin ?? start.cursorMs,
    windowEndMs,
    deadlineMs: deadlines.hardDeadlineMs,
  });
  const context: ReadContext = {
    deps,
    options,
    delivery,
    source: {
      list: (query, requestOptions) => deps.mcas.list(stream.resource, query, requestOptions),
      cursorField: stream.cursorField,
      timeKey: stream.timeKey,
    },
    summary,
    start,
    windowEndMs,
    softDeadlineMs: deadlines.softDeadlineMs,
    hardDeadlineMs: deadlines.hardDeadlineMs,
    lastCursorMs: start.cursorMs,
  };
  if (paging.mode === 'scan') await readByScan(context, paging);
  else if (paging.mode === 'auto') await readAuto(context, paging);
  else await readByKeyset(context);

  const result = finish();
  log.info(
    `Run done: fetched ${result.fetched}, sent ${result.sent} in ${result.batches} batches, flagged ${result.flagged}, ` +
      `checkpoint ${result.checkpoint}${result.moreToDo ? ', more to do' : ''} (${result.durationMs} ms).`,
  );
  return result;
}

interface ReadContext {
  deps: RunDeps;
  options: RunOptions;
  delivery: Delivery;
  source: PageSource;
  summary: RunSummary;
  start: Position;
  windowEndMs: number;
  softDeadlineMs: number;
  hardDeadlineMs: number;
  /** Cursor of the last record read so far, for progress. */
  lastCursorMs: number;
}

/** Keyset paging: the checkpoint follows every accepted batch, and the window end once the window is read. */
async function readByKeyset(ctx: ReadContext): Promise<void> {
  const { options, delivery } = ctx;
  const position = new KeysetPosition(ctx.start);
  const pages = pageRecords(
    ctx.source,
    { start: ctx.start, endMs: ctx.windowEndMs, extraFilters: options.extraFilters, pageSize: options.pageSize },
    requestOptions(ctx),
  );
  let complete: boolean;
  try {
    complete = await consume(ctx, pages, true, async (record) => {
      await delivery.add(record, () => position.snapshot());
      position.advance(record.createdMs, record.id);
    });
  } catch (error) {
    // When MCAS failed, the rows already fetched are good: deliver them so the next run repeats less, then fail.
    if (!delivery.failed) await delivery.flushQuietly(position.snapshot());
    throw error;
  }
  await delivery.finish(complete ? { cursorMs: ctx.windowEndMs + 1, idsAtCursor: [] } : position.snapshot());
}

/**
 * Scan mode, one sub-window at a time. Positions inside a scan are not resumable, so the checkpoint only ever moves to
 * a sub-window's end, once every row up to it was accepted. The open batch is carried across sub-window ends (a post
 * of its own for each sub-window's tail would cost up to one extra post per sub-window): a completed sub-window waits
 * for the batch holding its last row, and a later one completed meanwhile supersedes it (Delivery.markComplete).
 *
 * Duplicates after a crash, with the checkpoint at the end of sub-window j - 1: the next run re-sends what reached Log
 * Analytics past it. Every acknowledged batch is followed by saving the last sub-window its rows complete, so none
 * holds the last row of sub-window j or of a later one, and their rows past the checkpoint all belong to sub-window j.
 * Only the batch in flight (sent and perhaps stored, but without an answer or its checkpoint not yet written) can
 * also hold rows of later sub-windows. A crash therefore re-sends at most what was sent of one sub-window plus one
 * batch (a post the service refused was not stored: then it is that sub-window alone).
 *
 * The sub-window adapts to the data. The first is `windowMs` long; each next one is sized to hold about `targetPages`
 * pages at the rate the one before showed (nextSubWindowMs), because every sub-window costs up to one request more
 * than its rows need (its last page is partial) and fewer, fuller sub-windows waste fewer of MCAS's 30 requests a
 * minute. A sub-window whose first page counts more than MAX_TOTAL_FACTOR times that is given up after that request
 * and read again shorter, so the crash re-send bound stays near `targetPages` pages when the rate jumps; shrinking
 * stops at 60 s. With `windowMs` 0 the whole window is one scan, unchecked.
 */
async function readByScan(ctx: ReadContext, paging: ScanPaging): Promise<void> {
  const { delivery } = ctx;
  try {
    await scanFrom(ctx, paging, ctx.start, () => false);
  } catch (error) {
    // When MCAS failed, the queued rows of completed sub-windows are good: deliver them so the next run repeats less.
    if (!delivery.failed) await delivery.flushCompletedQuietly();
    throw error;
  }
  await delivery.flushCompleted();
}

type ScanPaging = Pick<Extract<PagingOptions, { mode: 'scan' }>, 'pageSize' | 'windowMs' | 'targetPages'>;

/**
 * The sub-windows of readByScan from `start`, without the final flush. After each completed sub-window,
 * `toKeyset(ratePerMs, next)` may end the scan: the position the rest of the window continues from is returned (every
 * row before it was added and marked complete); undefined when the window was read, or the run stopped early.
 */
async function scanFrom(
  ctx: ReadContext,
  paging: ScanPaging,
  start: Position,
  toKeyset: (ratePerMs: number, next: Position) => boolean,
): Promise<Position | undefined> {
  const { options, delivery, summary } = ctx;
  const { clock } = ctx.deps;
  let subStart = start;
  let windowMs = paging.windowMs > 0 ? paging.windowMs : Number.MAX_SAFE_INTEGER;
  const targetPages = paging.targetPages ?? TARGET_PAGES;
  /** How long a page of the last completed sub-window took, to judge whether the next can end before the deadline. */
  let msPerPage: number | undefined;
  while (subStart.cursorMs <= ctx.windowEndMs) {
    const subEndMs = Math.min(ctx.windowEndMs, subStart.cursorMs + windowMs - 1);
    const lengthMs = subEndMs + 1 - subStart.cursorMs;
    const checked = paging.windowMs > 0 && lengthMs > MIN_SUB_WINDOW_MS;
    const maxTotal = MAX_TOTAL_FACTOR * targetPages * paging.pageSize;
    const pages = scanRecords(
      ctx.source,
      { start: subStart, endMs: subEndMs, extraFilters: options.extraFilters, pageSize: paging.pageSize },
      { ...requestOptions(ctx), ...(checked ? { maxTotal } : {}) },
    );
    const fetchedBefore = summary.fetched;
    const pagesBefore = summary.pages;
    const startedMs = clock.nowMs();
    // Batches closed mid-scan are sent, and checkpoint only the sub-windows completed before. A scan is not cut at
    // the soft deadline (sub-windows bound it); cut by the hard deadline, its queued rows are dropped below and the
    // next run reads the whole sub-window again.
    let complete: boolean;
    try {
      complete = await consume(ctx, pages, false, (record) => delivery.add(record, () => undefined));
    } catch (error) {
      if (!(error instanceof ScanTooLargeError)) throw error;
      windowMs = nextSubWindowMs(lengthMs, error.total, paging.pageSize, targetPages);
      ctx.deps.log.info(`${error.message} Scanning ${Math.round(windowMs / 60_000)} minutes instead.`);
      continue;
    }
    if (!complete) return undefined;
    const next: Position = { cursorMs: subEndMs + 1, idsAtCursor: [] };
    await delivery.markComplete(next);
    const read = summary.fetched - fetchedBefore;
    if (summary.pages > pagesBefore) msPerPage = (clock.nowMs() - startedMs) / (summary.pages - pagesBefore);
    if (paging.windowMs > 0) windowMs = nextSubWindowMs(lengthMs, read, paging.pageSize, targetPages);
    subStart = next;
    if (subStart.cursorMs > ctx.windowEndMs) return undefined;
    if (toKeyset(read / lengthMs, next)) return next;
    // No sub-window that the hard deadline would cut (its rows would be sent, then read again next run): near the
    // end, the next one is shortened to the pages that fit at the pace of the one before, or not started.
    const fit =
      msPerPage === undefined ? targetPages : Math.floor((ctx.hardDeadlineMs - clock.nowMs()) / msPerPage) - 1;
    if (clock.nowMs() >= ctx.softDeadlineMs || fit < 1) {
      stopEarly(ctx);
      return undefined;
    }
    if (fit < targetPages) windowMs = Math.max(MIN_SUB_WINDOW_MS, Math.floor((windowMs * fit) / targetPages));
  }
  return undefined;
}

/**
 * MCAS_PAGING=auto: keyset or scan sub-windows, whichever suits the backlog left (choosePaging), switching between them
 * at positions where every row before was added: keyset hands over its position (cursor and the ids delivered at it),
 * which the scan starts from and skips by id; a completed sub-window hands over the millisecond after its end. So a
 * switch neither loses nor repeats an activity, ties at the boundary included. The checkpoint follows keyset's rule
 * while in keyset and scan's while in scan (Delivery.markComplete at each switch to scan), so a crash re-sends at most
 * the batch in flight near the head and one sub-window plus the batch in flight while scanning.
 */
async function readAuto(ctx: ReadContext, paging: AutoPagingOptions): Promise<void> {
  const { options, delivery, deps } = ctx;
  const requestsLeft = (): number =>
    Math.floor((Math.max(0, ctx.softDeadlineMs - deps.clock.nowMs()) / 60_000) * paging.requestsPerMinute);
  const choose = (backlog: number | undefined, current: PagingMode): PagingMode =>
    choosePaging({ backlog, requestsLeft: requestsLeft(), keysetPageSize: options.pageSize, current });
  let start = ctx.start;
  for (;;) {
    // Keyset, until the first page's count says the backlog is too large for it.
    const position = new KeysetPosition(start);
    let total: number | undefined;
    const pages = stopAfterFirst(
      pageRecords(
        ctx.source,
        { start, endMs: ctx.windowEndMs, extraFilters: options.extraFilters, pageSize: options.pageSize },
        requestOptions(ctx),
      ),
      (first) => {
        total = first.total;
        const backlog = estimateBacklog({ total, ratePerMs: undefined, remainingWindowMs: 0 });
        return first.hasNext && choose(backlog, 'keyset') === 'scan';
      },
    );
    let complete: boolean;
    try {
      complete = await consume(
        ctx,
        pages.pages,
        true,
        async (record) => {
          await delivery.add(record, () => position.snapshot());
          position.advance(record.createdMs, record.id);
        },
        () => pages.stopped,
      );
    } catch (error) {
      if (!delivery.failed) await delivery.flushQuietly(position.snapshot());
      throw error;
    }
    if (!pages.stopped) {
      await delivery.finish(complete ? { cursorMs: ctx.windowEndMs + 1, idsAtCursor: [] } : position.snapshot());
      return;
    }
    start = position.snapshot();
    await delivery.markComplete(start);
    deps.log.info(`MCAS counts about ${total} activities left in the window: reading on in scan sub-windows.`);
    let next: Position | undefined;
    try {
      next = await scanFrom(
        ctx,
        paging,
        start,
        (ratePerMs, from) =>
          choose(
            estimateBacklog({ total: undefined, ratePerMs, remainingWindowMs: ctx.windowEndMs + 1 - from.cursorMs }),
            'scan',
          ) === 'keyset',
      );
    } catch (error) {
      if (!delivery.failed) await delivery.flushCompletedQuietly();
      throw error;
    }
    if (next === undefined) {
      await delivery.flushCompleted();
      return;
    }
    deps.log.info('Near the head of the stream: reading on in keyset pages.');
    start = next;
  }
}

/**
 * Yields the pages of `source` and ends after the first one when `stopAfter(first)` says so, before the next page is
 * requested (a prefetching consumer asks for it as soon as it has the first; this answers that call).
 */
function stopAfterFirst(
  source: AsyncGenerator<RecordPage>,
  stopAfter: (first: RecordPage) => boolean,
): { pages: AsyncGenerator<RecordPage>; readonly stopped: boolean } {
  const state = { stopped: false };
  async function* pages(): AsyncGenerator<RecordPage> {
    let first = true;
    try {
      for (;;) {
        const result = await source.next();
        if (result.done) return;
        yield result.value;
        if (first && stopAfter(result.value)) {
          state.stopped = true;
          return;
        }
        first = false;
      }
    } finally {
      await source.return(undefined);
    }
  }
  return {
    pages: pages(),
    get stopped() {
      return state.stopped;
    },
  };
}

/**
 * Feeds every record of every page to `onRecord`, fetching one page ahead. Returns true when the window was read to its
 * end, false when the run stopped early (time budget, or MCAS claiming more behind an empty page).
 */
async function consume(
  ctx: ReadContext,
  pages: AsyncGenerator<RecordPage>,
  stopAtSoftDeadline: boolean,
  onRecord: (record: PagedRecord) => Promise<void>,
  handedOver: () => boolean = () => false,
): Promise<boolean> {
  const { summary, deps } = ctx;
  let lastHasNext = false;
  try {
    for await (const page of prefetchOne(pages)) {
      lastHasNext = page.hasNext;
      if (page.continued !== true) summary.pages++;
      summary.fetched += page.records.length;
      for (const record of page.records) await onRecord(record);
      deps.log.info(describePage(summary.pages, page.records, page.returnedCount));
      const last = page.records[page.records.length - 1];
      if (last) ctx.lastCursorMs = last.createdMs;
      ctx.options.onProgress?.({
        pages: summary.pages,
        fetched: summary.fetched,
        sent: summary.sent,
        cursorMs: ctx.lastCursorMs,
        windowStartMs: ctx.start.cursorMs,
        windowEndMs: ctx.windowEndMs,
      });
      if (stopAtSoftDeadline && page.hasNext && deps.clock.nowMs() >= ctx.softDeadlineMs) {
        stopEarly(ctx);
        return false;
      }
    }
    if (lastHasNext && !handedOver()) {
      // The pager stops at an empty page even when MCAS says there is more; the window was not read to its end.
      stopEarly(ctx, 'MCAS sent an empty page but said there is more; stopping');
      return false;
    }
    return true;
  } catch (error) {
    if (error instanceof DeadlineReachedError && !ctx.delivery.failed) {
      stopEarly(ctx, error.message);
      return false;
    }
    throw error;
  }
}

function stopEarly(ctx: ReadContext, reason = 'Stopping at the time budget'): void {
  ctx.summary.moreToDo = true;
  ctx.deps.log.warn(`${reason} after ${ctx.summary.pages} pages; the next run continues from the checkpoint.`);
}

function requestOptions(ctx: ReadContext): { signal?: AbortSignal; deadlineMs: number } {
  return { deadlineMs: ctx.hardDeadlineMs, ...(ctx.options.signal ? { signal: ctx.options.signal } : {}) };
}

/**
 * Rows on their way out: maps activities, cuts batches, sends them, and writes the checkpoint after each accepted
 * batch that has a resumable position (keyset: the position before the row that closed it; scan: the last completed
 * sub-window it holds rows of). Once a send or a checkpoint write has failed, it delivers nothing more.
 *
 * One batch is posted while the next one fills, so reading MCAS does not stop for Log Analytics' answer (the MCAS
 * rate limit's slots would go unused meanwhile). Never more than one post is in flight: the next full batch waits for
 * its answer and checkpoint first, so batches are accepted and checkpoints written in order, a crash re-sends at most
 * the batch in flight, and at most two batch buffers exist (the one posted, the one filling).
 */
class Delivery {
  readonly #deps: RunDeps;
  readonly #options: RunOptions;
  readonly #summary: RunSummary;
  readonly #stream: StreamSpec;
  readonly #builder: BatchBuilder;
  readonly #origin: number;
  readonly #windowEndMs: number;
  readonly #deadlineMs: number;
  #etag: string | undefined;
  #failed = false;
  /** Scan mode: the last completed sub-window's end and how many of the queued rows are its and earlier ones'. */
  #completed: { position: Position; queuedRows: number } | undefined;
  /** The post in flight (send, then checkpoint), if any; its failure is thrown by the next call that waits for it. */
  #inFlight: Promise<void> | undefined;
  /** Set as soon as the post in flight fails, so the rows after it stop being mapped at once. */
  #inFlightError: Error | undefined;

  constructor(
    deps: RunDeps,
    options: RunOptions,
    summary: RunSummary,
    stream: StreamSpec,
    state: { etag: string | undefined; origin: number; windowEndMs: number; deadlineMs: number },
  ) {
    this.#deps = deps;
    this.#options = options;
    this.#summary = summary;
    this.#stream = stream;
    this.#builder = new BatchBuilder(options.maxBatchBytes);
    this.#etag = state.etag;
    this.#origin = state.origin;
    this.#windowEndMs = state.windowEndMs;
    this.#deadlineMs = state.deadlineMs;
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** Maps and queues one record; `positionBefore` is where a batch closed just before it may be checkpointed. */
  async add(item: PagedRecord, positionBefore: () => Position | undefined): Promise<void> {
    if (this.#inFlightError) await this.#settle();
    const mapped = this.#stream.map(item.raw);
    if (mapped.flagged) {
      this.#summary.flagged++;
      this.#deps.log.warn(
        `Record ${item.id} of ${this.#stream.resource} failed the schema (${(mapped.issues ?? []).join('; ')}); sent as a flagged row.`,
      );
    }
    const row = JSON.stringify(mapped.record);
    if (!this.#builder.fits(row, item.id)) {
      // The full batch holds every row queued before this one, so all of a completed sub-window's rows. Its post
      // starts once the one before was accepted and checkpointed; the rows after it fill the other batch buffer.
      const full = this.#builder.flush();
      const position = positionBefore() ?? this.#completed?.position;
      this.#completed = undefined;
      await this.#settle();
      if (full) this.#startSend(full, position);
    }
    this.#builder.add(row, item.id);
  }

  /**
   * Scan mode: every row up to `position` has been added. Saves it at once when nothing is queued, else once the
   * batch holding the queued rows is accepted (replacing a completed sub-window still waiting).
   */
  async markComplete(position: Position): Promise<void> {
    const queuedRows = this.#builder.recordCount;
    if (queuedRows > 0) {
      this.#completed = { position, queuedRows };
      return;
    }
    await this.#settle(); // a post in flight always leaves a row queued behind it; were it not so, it goes first
    await this.#save(position);
  }

  /** Scan mode: sends the queued rows of completed sub-windows and saves their end; drops the rest (read again). */
  async flushCompleted(): Promise<void> {
    await this.#settle();
    const completed = this.#completed;
    this.#completed = undefined;
    const unfinished = this.#builder.recordCount - (completed?.queuedRows ?? 0);
    if (unfinished > 0)
      this.#deps.log.info(`Left ${unfinished} rows of the unfinished sub-window unsent; the next run reads it again.`);
    const batch = this.#builder.flushFirst(completed?.queuedRows ?? 0);
    if (batch && completed) await this.#sendAndSave(batch, completed.position);
  }

  /** Scan mode, after an MCAS failure: flushCompleted, logging rather than throwing if that fails too. */
  async flushCompletedQuietly(): Promise<void> {
    const rows = this.#completed?.queuedRows ?? 0;
    try {
      await this.flushCompleted();
    } catch (error) {
      this.#deps.log.warn(
        `Could not deliver the ${rows} rows of completed sub-windows fetched before the failure: ${ensureError(error).message}`,
      );
    }
  }

  /** Sends what is queued and saves `position` (when given) once it is accepted. */
  async finish(position: Position | undefined): Promise<void> {
    await this.#settle();
    const last = this.#builder.flush();
    if (last) await this.#sendAndSave(last, position);
    else if (position) await this.#save(position);
  }

  /** After an MCAS failure: delivers what was fetched, logging rather than throwing if that fails too. */
  async flushQuietly(position: Position): Promise<void> {
    if (!(await this.#settleQuietly())) return;
    const pending = this.#builder.flush();
    if (!pending) return;
    try {
      await this.#sendAndSave(pending, position);
    } catch (error) {
      this.#deps.log.warn(
        `Could not deliver the ${pending.recordCount} rows fetched before the failure: ${ensureError(error).message}`,
      );
    }
  }

  #startSend(batch: Batch, position: Position | undefined): void {
    const sending = this.#sendAndSave(batch, position);
    this.#inFlight = sending;
    sending.catch((error: unknown) => {
      this.#inFlightError = ensureError(error);
    });
  }

  /** Waits for the post in flight and its checkpoint; throws what failed them. */
  async #settle(): Promise<void> {
    const sending = this.#inFlight;
    this.#inFlight = undefined;
    if (sending) await sending;
    else if (this.#inFlightError) throw this.#inFlightError;
  }

  /** #settle for a run that is failing already: logs what failed the post in flight. False when nothing more may be sent. */
  async #settleQuietly(): Promise<boolean> {
    try {
      await this.#settle();
      return !this.#failed;
    } catch (error) {
      this.#deps.log.warn(`The batch in flight was not delivered: ${ensureError(error).message}`);
      return false;
    }
  }

  async #sendAndSave(batch: Batch, position: Position | undefined): Promise<void> {
    if (this.#options.dryRun) {
      this.#builder.recycle(batch);
      return;
    }
    try {
      await this.#deps.sink.send(batch, {
        deadlineMs: this.#deadlineMs,
        ...(this.#options.signal ? { signal: this.#options.signal } : {}),
      });
    } catch (error) {
      this.#failed = true;
      const cause = ensureError(error);
      throw this.#summary.batches > 0 ? new PartialSendError(this.#summary.batches, this.#summary.sent, cause) : cause;
    }
    this.#builder.recycle(batch); // accepted: the next batch may be written over its body
    this.#summary.batches++;
    this.#summary.sent += batch.recordCount;
    if (position) await this.#save(position);
  }

  async #save(position: Position): Promise<void> {
    if (this.#options.dryRun) return;
    const checkpoint: Checkpoint = {
      version: 1,
      cursor: position.cursorMs,
      idsAtCursor: position.idsAtCursor,
      origin: this.#origin,
      windowEnd: this.#windowEndMs,
      updatedAt: iso(this.#deps.clock.nowMs()),
    };
    try {
      this.#etag = await this.#deps.checkpoints.save(checkpoint, this.#etag);
    } catch (error) {
      this.#failed = true;
      throw error;
    }
    this.#summary.checkpoint = iso(position.cursorMs);
  }
}

function describePage(pageNumber: number, records: readonly { createdMs: number }[], returned: number): string {
  const first = records[0];
  const last = records[records.length - 1];
  const range = first && last ? `, ${iso(first.createdMs)} .. ${iso(last.createdMs)}` : '';
  const skipped = returned - records.length;
  return `Page ${pageNumber}: ${records.length} records${range}${skipped > 0 ? ` (${skipped} already delivered)` : ''}.`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
