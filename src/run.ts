// runIngestion: one whole run as a plain async function. Read the checkpoint, page through the closed `created`
// window, map, batch, send, and move the checkpoint only past what the sink accepted.
import { BatchBuilder } from './batch/BatchBuilder.js';
import type { Checkpoint, CheckpointStore } from './checkpoint/CheckpointStore.js';
import type { Clock, Sleep } from './clock.js';
import { DeadlineReachedError, ensureError, PartialSendError } from './errors.js';
import type { Logger } from './logger.js';
import { mapActivity } from './mapping/toLogRecord.js';
import { KeysetPosition, type Position } from './mcas/KeysetPosition.js';
import type { McasClient } from './mcas/McasClient.js';
import { pageActivities } from './mcas/pageActivities.js';
import type { Batch, LogSink } from './sink/LogSink.js';

export interface RunDeps {
  mcas: Pick<McasClient, 'listActivities'>;
  sink: LogSink;
  checkpoints: CheckpointStore;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
}

export interface RunOptions {
  initialLookbackMs: number;
  settleMs: number;
  /** The whole run, retries and sleeps included, ends within this; new pages stop at SOFT_DEADLINE_SHARE of it. */
  timeBudgetMs: number;
  pageSize: number;
  maxBatchBytes: number;
  extraFilters: Readonly<Record<string, unknown>>;
  /** A fixed `created` range instead of checkpoint..now-settle (the CLI's --since/--until). */
  window?: { startMs?: number | undefined; endMs?: number | undefined } | undefined;
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

/** Share of the time budget after which no new page is fetched; the rest is for the last batch and checkpoint. */
const SOFT_DEADLINE_SHARE = 0.75;

export async function runIngestion(deps: RunDeps, options: RunOptions): Promise<RunSummary> {
  const { clock, log } = deps;
  const startedMs = clock.nowMs();
  const hardDeadlineMs = startedMs + options.timeBudgetMs;
  const softDeadlineMs = startedMs + Math.floor(options.timeBudgetMs * SOFT_DEADLINE_SHARE);

  const stored = await deps.checkpoints.load();
  let etag = stored?.etag;
  const start: Position =
    options.window?.startMs !== undefined
      ? { cursorMs: options.window.startMs, idsAtCursor: [] }
      : stored
        ? { cursorMs: stored.checkpoint.cursor, idsAtCursor: stored.checkpoint.idsAtCursor }
        : { cursorMs: startedMs - options.initialLookbackMs, idsAtCursor: [] };
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
  log.info(
    `Reading activities created ${iso(start.cursorMs)} .. ${iso(windowEndMs)} ` +
      `(${stored ? `from ${deps.checkpoints.describe()}` : 'first run: initial lookback'}${options.dryRun ? ', dry run' : ''}).`,
  );

  // Set once a send or a checkpoint write has failed: after that, nothing more is delivered in this run.
  let deliveryFailed = false;
  const sendAndSave = async (batch: Batch, position: Position): Promise<void> => {
    if (options.dryRun) return;
    try {
      await deps.sink.send(batch, { deadlineMs: hardDeadlineMs, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      deliveryFailed = true;
      const cause = ensureError(error);
      throw summary.batches > 0 ? new PartialSendError(summary.batches, summary.sent, cause) : cause;
    }
    summary.batches++;
    summary.sent += batch.recordCount;
    try {
      await save(position);
    } catch (error) {
      deliveryFailed = true;
      throw error;
    }
  };
  const save = async (position: Position): Promise<void> => {
    if (options.dryRun) return;
    const checkpoint: Checkpoint = {
      version: 1,
      cursor: position.cursorMs,
      idsAtCursor: position.idsAtCursor,
      windowEnd: windowEndMs,
      updatedAt: iso(clock.nowMs()),
    };
    etag = await deps.checkpoints.save(checkpoint, etag);
    summary.checkpoint = iso(position.cursorMs);
  };

  const position = new KeysetPosition(start);
  const builder = new BatchBuilder(options.maxBatchBytes);
  let windowComplete = true;
  try {
    const pages = pageActivities(
      deps.mcas,
      { start, endMs: windowEndMs, extraFilters: options.extraFilters, pageSize: options.pageSize },
      { deadlineMs: hardDeadlineMs, ...(options.signal ? { signal: options.signal } : {}) },
    );
    for await (const page of pages) {
      summary.pages++;
      summary.fetched += page.activities.length;
      for (const activity of page.activities) {
        const mapped = mapActivity(activity.raw);
        if (mapped.flagged) {
          summary.flagged++;
          log.warn(`Activity ${activity.id} failed the schema (${(mapped.issues ?? []).join('; ')}); sent as a flagged row.`);
        }
        const full = builder.add(JSON.stringify(mapped.record), activity.id);
        if (full) await sendAndSave(full, position.snapshot());
        position.advance(activity.createdMs, activity.id);
      }
      log.info(describePage(summary.pages, page.activities, page.returnedCount));
      if (page.hasNext && clock.nowMs() >= softDeadlineMs) {
        windowComplete = false;
        summary.moreToDo = true;
        log.warn(`Stopping at the time budget after ${summary.pages} pages; the next run continues from the checkpoint.`);
        break;
      }
    }
  } catch (error) {
    if (error instanceof DeadlineReachedError && !deliveryFailed) {
      windowComplete = false;
      summary.moreToDo = true;
      log.warn(`${error.message} The next run continues from the checkpoint.`);
    } else {
      // When MCAS failed, the rows already fetched are good: deliver them so the next run repeats less, then fail.
      if (!deliveryFailed) await flushQuietly(builder, position, sendAndSave, log);
      throw error;
    }
  }

  // A completed window was read to its end, so the next run may start just after it.
  const end: Position = windowComplete ? { cursorMs: windowEndMs + 1, idsAtCursor: [] } : position.snapshot();
  const last = builder.flush();
  if (last) await sendAndSave(last, end);
  else if (end.cursorMs !== stored?.checkpoint.cursor || options.window?.startMs !== undefined) await save(end);

  const result = finish();
  log.info(
    `Run done: fetched ${result.fetched}, sent ${result.sent} in ${result.batches} batches, flagged ${result.flagged}, ` +
      `checkpoint ${result.checkpoint}${result.moreToDo ? ', more to do' : ''} (${result.durationMs} ms).`,
  );
  return result;
}

async function flushQuietly(
  builder: BatchBuilder,
  position: KeysetPosition,
  sendAndSave: (batch: Batch, position: Position) => Promise<void>,
  log: Logger,
): Promise<void> {
  const pending = builder.flush();
  if (!pending) return;
  try {
    await sendAndSave(pending, position.snapshot());
  } catch (error) {
    log.warn(`Could not deliver the ${pending.recordCount} rows fetched before the failure: ${ensureError(error).message}`);
  }
}

function describePage(pageNumber: number, activities: readonly { createdMs: number }[], returned: number): string {
  const first = activities[0];
  const last = activities[activities.length - 1];
  const range = first && last ? `, created ${iso(first.createdMs)} .. ${iso(last.createdMs)}` : '';
  const skipped = returned - activities.length;
  return `Page ${pageNumber}: ${activities.length} activities${range}${skipped > 0 ? ` (${skipped} already delivered)` : ''}.`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
