// What the run needs from a destination: accept one serialized batch, or throw. Nothing else.
import type { Clock, Sleep } from '../clock.js';
import type { Logger } from '../logger.js';
import type { RetryInfo, RetryPolicy } from '../retry.js';

/** One post's worth of rows, serialized once: `body` is a JSON array in UTF-8, exactly the bytes that are sent. */
export interface Batch {
  body: Buffer;
  recordCount: number;
}

export interface LogSink {
  /**
   * Resolves once the service has accepted every row of `batch`; throws otherwise (nothing of it counts as sent).
   * `batch.body` may be reused for the next batch once this resolves: a sink that keeps rows longer copies them.
   */
  send(batch: Batch, options?: { signal?: AbortSignal; deadlineMs?: number }): Promise<void>;
}

/** What every sink takes besides its destination: time, logging, and how it retries. */
export interface SinkRuntimeOptions {
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  timeoutMs: number;
  retry?: RetryPolicy;
  /** Told of every retry, for the run report. */
  onRetry?: (info: RetryInfo) => void;
}
