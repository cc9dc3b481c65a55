// Cuts serialized rows into JSON-array bodies under a byte limit. Rows are serialized once, by the caller's
// JSON.stringify; the limit counts every byte of the body, brackets and commas included.
import { RecordTooLargeError } from '../errors.js';
import type { Batch } from '../sink/LogSink.js';

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c; // ,

/**
 * Accumulates rows: `fits` says whether a row fits the open batch, `add` appends one that does, `flush` closes the
 * batch (`flushFirst`, with only its oldest rows). A caller closes the open batch when the next row does not fit.
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

  /**
   * False when this row would not fit the open batch: flush it first. A caller that also waits for the batch before it
   * to be accepted and recycled before adding the row keeps to two buffers, one posted while the other fills. Throws
   * RecordTooLargeError when the row alone cannot fit in a batch.
   */
  fits(rowJson: string, recordId: string): boolean {
    const size = this.#rowSize(rowJson, recordId);
    this.#measured = { rowJson, size };
    return this.#fitsSize(size);
  }

  /** Adds one serialized row (a JSON object text) that fits. Throws RangeError for one that does not (flush first). */
  add(rowJson: string, recordId: string): void {
    const size = this.#rowSize(rowJson, recordId);
    this.#measured = undefined;
    if (!this.#fitsSize(size)) throw new RangeError(`Row ${recordId} does not fit the open batch; flush it first.`);
    const buffer = (this.#buffer ??= this.#takeBuffer());
    buffer[this.#length++] = this.#count === 0 ? OPEN : COMMA;
    this.#length += buffer.write(rowJson, this.#length, 'utf8');
    this.#count++;
    this.#rowEnds.push(this.#length);
  }

  /** The row, its separator (or the opening bracket) and the closing bracket must all fit. */
  #fitsSize(size: number): boolean {
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

/**
 * Splits a batch into two of about half the rows each, for a post the service refused as too large. The halves are
 * cut from the batch's own bytes at a row boundary, so nothing is parsed, re-serialized, lost or altered.
 */
export function splitBatchInHalf(batch: Batch): [Batch, Batch] {
  if (batch.recordCount < 2) throw new RangeError('A batch of one row cannot be split.');
  const middle = Math.ceil(batch.recordCount / 2);
  const ranges = [...rowRanges(batch.body)];
  const lastOfFirst = ranges[middle - 1];
  const firstOfSecond = ranges[middle];
  if (!lastOfFirst || !firstOfSecond) throw new RangeError(`The batch body has fewer than ${middle + 1} rows.`);
  return [
    { body: Buffer.concat([batch.body.subarray(0, lastOfFirst[1]), Buffer.from([CLOSE])]), recordCount: middle },
    {
      body: Buffer.concat([Buffer.from([OPEN]), batch.body.subarray(firstOfSecond[0])]),
      recordCount: batch.recordCount - middle,
    },
  ];
}

const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // backslash
const OPEN_BRACE = 0x7b; // {
const CLOSE_BRACE = 0x7d; // }

/**
 * Where each row of a batch body starts and ends ([start, end) byte offsets): the rows are the values at depth 1 of
 * the JSON array, found outside strings. UTF-8 multi-byte sequences hold no ASCII bytes, so a byte-wise scan is exact.
 */
export function* rowRanges(body: Buffer): Generator<[number, number]> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    if (byte === QUOTE) inString = true;
    else if (byte === OPEN || byte === OPEN_BRACE) {
      if (depth === 1 && byte === OPEN_BRACE) start = i;
      depth++;
    } else if (byte === CLOSE || byte === CLOSE_BRACE) {
      depth--;
      if (depth === 1 && byte === CLOSE_BRACE) yield [start, i + 1];
    }
  }
}
