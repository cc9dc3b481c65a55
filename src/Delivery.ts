// Rows on their way out: maps records, cuts batches, posts them, and saves each batch's resume mark once the sink has
// accepted it. It knows nothing of paging modes. Records, and the ends of pages, may carry a resume mark (keyset:
// every record; scan: the end of each completed sub-window); a batch keeps the last mark added before it closed.
import { BatchBuilder } from './batch/BatchBuilder.js';
import { ensureError, PartialSendError } from './errors.js';
import type { Logger } from './logger.js';
import type { Position, ResumeMark } from './mcas/KeysetPosition.js';
import type { PagedRecord } from './mcas/pageRecords.js';
import type { Batch, LogSink } from './sink/LogSink.js';
import type { StreamSpec } from './streams.js';

export interface DeliveryOptions {
  sink: LogSink;
  /** Saves where the next run starts. Called only once the sink accepted every row before that position. */
  save: (position: Position) => Promise<void>;
  stream: StreamSpec;
  maxBatchBytes: number;
  /** Passed to every send: no retry waits past it. */
  deadlineMs: number;
  log: Logger;
}

/** What a run delivered: rows and batches the sink accepted, rows sent flagged, and the last position saved. */
export interface Delivered {
  sent: number;
  batches: number;
  flagged: number;
  saved: Position | undefined;
}

/**
 * One batch is posted while the next one fills, so reading MCAS does not stop for Log Analytics' answer (the MCAS
 * rate limit's slots would go unused meanwhile). Never more than one post is in flight: the next full batch waits for
 * its answer and its saved mark first, so batches are accepted and marks saved in order, and at most two batch
 * buffers exist (the one posted, the one filling). Once a post or a save has failed, nothing more is delivered.
 *
 * Duplicates after a crash. Every accepted batch is followed by saving the last mark among its rows, so the rows the
 * next run sends again are those after the saved mark: with keyset marks on every record, at most the batch in flight;
 * with a mark at each scan sub-window's end, what was sent of the sub-window after the saved mark plus the batch in
 * flight (which may reach into later sub-windows, since the open batch is carried across their ends rather than posted
 * short). A post the service refused was not stored, so then it is that sub-window alone.
 */
export class Delivery {
  readonly #options: DeliveryOptions;
  readonly #builder: BatchBuilder;
  readonly #delivered: Delivered = { sent: 0, batches: 0, flagged: 0, saved: undefined };
  /** The last mark added to the open batch, and how many of its rows it covers. */
  #mark: { mark: ResumeMark; rows: number } | undefined;
  /** The post in flight (send, then save its mark); it never rejects: what failed it is kept in #failure. */
  #inFlight: Promise<void> | undefined;
  #failure: Error | undefined;

  constructor(options: DeliveryOptions) {
    this.#options = options;
    this.#builder = new BatchBuilder(options.maxBatchBytes);
  }

  /** What was delivered so far. */
  get delivered(): Readonly<Delivered> {
    return this.#delivered;
  }

  /** True once a post or a save failed: nothing more will be delivered. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Rows queued that `finish` would send: those up to the last mark. */
  get deliverableRows(): number {
    return this.#mark?.rows ?? 0;
  }

  /** Maps and queues one record. Throws at once when delivery has failed, so that reading stops. */
  async add(record: PagedRecord): Promise<void> {
    if (this.#failure) throw this.#failure;
    const { stream, log } = this.#options;
    const mapped = stream.map(record.raw);
    if (mapped.flagged) {
      this.#delivered.flagged++;
      log.warn(
        `Record ${record.id} of ${stream.resource} failed the schema (${(mapped.issues ?? []).join('; ')}); sent as a flagged row.`,
      );
    }
    const row = JSON.stringify(mapped.record);
    if (!this.#builder.fits(row, record.id)) {
      // The full batch holds every row queued before this one. Its post starts once the one before was accepted and
      // its mark saved (which also frees that batch's buffer); the rows after it fill the other buffer meanwhile.
      const full = this.#builder.flush();
      const mark = this.#mark?.mark;
      this.#mark = undefined;
      await this.#settle();
      if (full) this.#post(full, mark);
    }
    this.#builder.add(row, record.id);
    if (record.mark) this.#mark = { mark: record.mark, rows: this.#builder.recordCount };
  }

  /** Every row added so far may be resumed after at `mark`: saved with the open batch, or now when none is open. */
  async mark(mark: ResumeMark): Promise<void> {
    if (this.#builder.recordCount > 0) {
      this.#mark = { mark, rows: this.#builder.recordCount };
      return;
    }
    await this.#settle(); // a post in flight always leaves a row queued behind it; were it not so, it goes first
    this.#inFlight = this.#track(this.#save(mark));
    await this.#settle();
  }

  /**
   * Ends delivery, however the run ends: waits for the post in flight, sends the queued rows up to the last mark and
   * saves it, and drops the rest (the next run reads them again). Throws what failed delivery, now or before.
   */
  async finish(): Promise<Delivered> {
    await this.#settle();
    const mark = this.#mark;
    this.#mark = undefined;
    const unsent = this.#builder.recordCount - (mark?.rows ?? 0);
    if (unsent > 0)
      this.#options.log.info(`Left ${unsent} rows unsent after the last resume point; the next run reads them again.`);
    const last = this.#builder.flushFirst(mark?.rows ?? 0);
    if (last && mark) {
      this.#post(last, mark.mark);
      await this.#settle();
    }
    return this.#delivered;
  }

  #post(batch: Batch, mark: ResumeMark | undefined): void {
    this.#inFlight = this.#track(this.#sendAndSave(batch, mark));
  }

  #track(work: Promise<void>): Promise<void> {
    return work.catch((error: unknown) => {
      this.#failure = ensureError(error);
    });
  }

  /** Waits for the post in flight; throws what failed delivery. */
  async #settle(): Promise<void> {
    await this.#inFlight;
    this.#inFlight = undefined;
    if (this.#failure) throw this.#failure;
  }

  async #sendAndSave(batch: Batch, mark: ResumeMark | undefined): Promise<void> {
    const delivered = this.#delivered;
    try {
      await this.#options.sink.send(batch, { deadlineMs: this.#options.deadlineMs });
    } catch (error) {
      const cause = ensureError(error);
      throw delivered.batches > 0 ? new PartialSendError(delivered.batches, delivered.sent, cause) : cause;
    }
    this.#builder.recycle(batch); // accepted: the next batch may be written over its body
    delivered.batches++;
    delivered.sent += batch.recordCount;
    if (mark) await this.#save(mark);
  }

  async #save(mark: ResumeMark): Promise<void> {
    const position = mark();
    await this.#options.save(position);
    this.#delivered.saved = position;
  }
}
