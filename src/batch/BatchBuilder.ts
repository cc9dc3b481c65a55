// Cuts serialized rows into JSON-array bodies under a byte limit. Rows are serialized once, by the caller's
// JSON.stringify; the limit counts every byte of the body, brackets and commas included.
import { RecordTooLargeError } from '../errors.js';
import type { Batch } from '../sink/LogSink.js';

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c; // ,

/**
 * Accumulates rows; `add` returns the finished batch when the new row no longer fits (the row then starts the next
 * batch), and `flush` returns what is left (`flushFirst`, only its oldest rows).
 *
 * Rows are encoded straight into one buffer of the batch limit, so a batch costs one native allocation instead of
 * one per row plus a concatenated copy; and a batch handed back with `recycle` once the sink accepted it lends its
 * buffer to the next one. A long run then holds two such buffers (one filling, one in flight) instead of churning
 * thousands of short-lived ones through the allocator, which is what kept the process's resident memory growing
 * (BENCHMARKS.md, Memory).
 */
export class BatchBuilder {
  readonly #maxBatchBytes: number;
  /** The body being filled: `[`, then rows separated by commas; `flush` writes the `]`. Taken at the first row. */
  #buffer: Buffer | undefined;
  #length = 0;
  #count = 0;
  /** Where each queued row ends in the buffer (its comma or `[` included), for `flushFirst`. */
  readonly #rowEnds: number[] = [];
  /** A buffer given back by `recycle`, for the next batch. */
  #spare: Buffer | undefined;
  /** The memory behind every batch this builder handed out and that was not recycled yet. */
  readonly #lent = new WeakSet<ArrayBufferLike>();

  constructor(maxBatchBytes: number) {
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 16)
      throw new RangeError(`maxBatchBytes ${maxBatchBytes} is too small.`);
    this.#maxBatchBytes = maxBatchBytes;
  }

  get recordCount(): number {
    return this.#count;
  }

  /** Body size if flushed now: brackets plus rows plus commas between them. */
  get pendingBytes(): number {
    return this.#count === 0 ? 0 : this.#length + 1;
  }

  /**
   * Adds one serialized row (a JSON object text). Returns the batch that had to be closed to make room, if any.
   * Throws RecordTooLargeError when the row alone cannot fit in a batch.
   */
  add(rowJson: string, recordId: string): Batch | undefined {
    const size = this.#rowSize(rowJson, recordId);
    this.#measured = undefined;
    let finished: Batch | undefined;
    // The row, its separator (or the opening bracket) and the closing bracket must all fit.
    if (this.#count > 0 && this.#length + 1 + size + 1 > this.#maxBatchBytes) finished = this.flush();
    const buffer = (this.#buffer ??= this.#takeBuffer());
    buffer[this.#length++] = this.#count === 0 ? OPEN : COMMA;
    this.#length += buffer.write(rowJson, this.#length, 'utf8');
    this.#count++;
    this.#rowEnds.push(this.#length);
    return finished;
  }

  /**
   * False when adding this row would close the open batch first. A caller that flushes that batch, and waits for the
   * one before it to be accepted and recycled, before adding the row keeps to two buffers, one posted while the other
   * fills (add alone would start a third for the row while both are still lent). Throws RecordTooLargeError when the
   * row alone cannot fit in a batch.
   */
  fits(rowJson: string, recordId: string): boolean {
    const size = this.#rowSize(rowJson, recordId);
    this.#measured = { rowJson, size };
    return this.#count === 0 || this.#length + 1 + size + 1 <= this.#maxBatchBytes;
  }

  /** The row `fits` measured last, so that the `add` after it does not measure it again. */
  #measured: { rowJson: string; size: number } | undefined;

  #rowSize(rowJson: string, recordId: string): number {
    const measured = this.#measured;
    if (measured?.rowJson === rowJson) return measured.size;
    const size = Buffer.byteLength(rowJson, 'utf8');
    if (size + 2 > this.#maxBatchBytes) throw new RecordTooLargeError(recordId, size, this.#maxBatchBytes);
    return size;
  }

  /** The batch of every row added since the last one, or undefined when empty. */
  flush(): Batch | undefined {
    const buffer = this.#buffer;
    if (buffer === undefined || this.#count === 0) return undefined;
    buffer[this.#length++] = CLOSE;
    const batch: Batch = { body: buffer.subarray(0, this.#length), recordCount: this.#count };
    this.#lent.add(buffer.buffer);
    this.#buffer = undefined;
    this.#length = 0;
    this.#count = 0;
    this.#rowEnds.length = 0;
    return batch;
  }

  /**
   * The batch of the first `count` rows added since the last one; the rest are dropped, and the builder is empty
   * after. For a scan cut short: the rows of its finished sub-windows go out, the others are read again next run.
   */
  flushFirst(count: number): Batch | undefined {
    if (!Number.isInteger(count) || count < 0 || count > this.#count) {
      throw new RangeError(`Cannot flush the first ${count} of ${this.#count} rows.`);
    }
    if (count === 0) {
      // Nothing to send: the buffer is not lent out, so it serves the next batch.
      if (this.#buffer) this.#spare ??= this.#buffer;
      this.#buffer = undefined;
      this.#length = 0;
      this.#count = 0;
      this.#rowEnds.length = 0;
      return undefined;
    }
    this.#length = this.#rowEnds[count - 1] as number;
    this.#count = count;
    return this.flush();
  }

  /**
   * Gives back the memory of a batch this builder returned, once nothing reads its body any more (the sink has
   * accepted it); the next batch is written over it. Other batches, and a second call for the same one, are ignored.
   */
  recycle(batch: Batch): void {
    const memory = batch.body.buffer;
    if (!this.#lent.delete(memory)) return;
    this.#spare = Buffer.from(memory, 0, this.#maxBatchBytes);
  }

  #takeBuffer(): Buffer {
    const spare = this.#spare;
    this.#spare = undefined;
    // Its own memory (not a slice of Node's shared pool), so that `recycle` can tell it apart and reuse it whole.
    return spare ?? Buffer.allocUnsafeSlow(this.#maxBatchBytes);
  }
}

/** All rows as batches under `maxBatchBytes`; a convenience over BatchBuilder for callers holding every row. */
export function splitIntoBatches(rows: readonly { json: string; id: string }[], maxBatchBytes: number): Batch[] {
  const builder = new BatchBuilder(maxBatchBytes);
  const batches: Batch[] = [];
  for (const row of rows) {
    const finished = builder.add(row.json, row.id);
    if (finished) batches.push(finished);
  }
  const last = builder.flush();
  if (last) batches.push(last);
  return batches;
}

/**
 * Splits a batch into two of about half the rows each, for a post the service refused as too large. The halves carry
 * the same row bytes (serialization of our rows is stable), so nothing is lost or altered.
 */
export function splitBatchInHalf(batch: Batch): [Batch, Batch] {
  const rows = JSON.parse(batch.body.toString('utf8')) as unknown[];
  if (rows.length < 2) throw new RangeError('A batch of one row cannot be split.');
  const middle = Math.ceil(rows.length / 2);
  const toBatch = (part: unknown[]): Batch => ({
    body: Buffer.from(JSON.stringify(part), 'utf8'),
    recordCount: part.length,
  });
  return [toBatch(rows.slice(0, middle)), toBatch(rows.slice(middle))];
}
