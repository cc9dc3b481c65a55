// Cuts serialized rows into JSON-array bodies under a byte limit. Rows are serialized once, by the caller's
// JSON.stringify; the limit counts every byte of the body, brackets and commas included.
import { RecordTooLargeError } from '../errors.js';
import type { Batch } from '../sink/LogSink.js';

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const COMMA = Buffer.from(',');

/**
 * Accumulates rows; `add` returns the finished batch when the new row no longer fits (the row then starts the next
 * batch), and `flush` returns what is left (`flushFirst`, only its oldest rows). Holds at most one batch of bytes.
 */
export class BatchBuilder {
  readonly #maxBatchBytes: number;
  #parts: Buffer[] = [];
  #bytes = 0;

  constructor(maxBatchBytes: number) {
    if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 16) throw new RangeError(`maxBatchBytes ${maxBatchBytes} is too small.`);
    this.#maxBatchBytes = maxBatchBytes;
  }

  get recordCount(): number {
    return this.#parts.length;
  }

  /** Body size if flushed now: brackets plus rows plus commas between them. */
  get pendingBytes(): number {
    return this.#parts.length === 0 ? 0 : 2 + this.#bytes + this.#parts.length - 1;
  }

  /**
   * Adds one serialized row (a JSON object text). Returns the batch that had to be closed to make room, if any.
   * Throws RecordTooLargeError when the row alone cannot fit in a batch.
   */
  add(rowJson: string, recordId: string): Batch | undefined {
    const row = Buffer.from(rowJson, 'utf8');
    if (row.length + 2 > this.#maxBatchBytes) throw new RecordTooLargeError(recordId, row.length, this.#maxBatchBytes);
    let finished: Batch | undefined;
    if (this.#parts.length > 0 && this.pendingBytes + 1 + row.length > this.#maxBatchBytes) finished = this.flush();
    this.#parts.push(row);
    this.#bytes += row.length;
    return finished;
  }

  /** The batch of every row added since the last one, or undefined when empty. */
  flush(): Batch | undefined {
    if (this.#parts.length === 0) return undefined;
    const pieces: Buffer[] = [OPEN];
    this.#parts.forEach((part, index) => {
      if (index > 0) pieces.push(COMMA);
      pieces.push(part);
    });
    pieces.push(CLOSE);
    const batch: Batch = { body: Buffer.concat(pieces, this.pendingBytes), recordCount: this.#parts.length };
    this.#parts = [];
    this.#bytes = 0;
    return batch;
  }

  /**
   * The batch of the first `count` rows added since the last one; the rest are dropped, and the builder is empty
   * after. For a scan cut short: the rows of its finished sub-windows go out, the others are read again next run.
   */
  flushFirst(count: number): Batch | undefined {
    if (!Number.isInteger(count) || count < 0 || count > this.#parts.length) {
      throw new RangeError(`Cannot flush the first ${count} of ${this.#parts.length} rows.`);
    }
    const dropped = this.#parts.splice(count);
    for (const part of dropped) this.#bytes -= part.length;
    return this.flush();
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
  const toBatch = (part: unknown[]): Batch => ({ body: Buffer.from(JSON.stringify(part), 'utf8'), recordCount: part.length });
  return [toBatch(rows.slice(0, middle)), toBatch(rows.slice(middle))];
}
