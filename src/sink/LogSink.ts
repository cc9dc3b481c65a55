// What the run needs from a destination: accept one serialized batch, or throw. Nothing else.

/** One post's worth of rows, serialized once: `body` is a JSON array in UTF-8, exactly the bytes that are sent. */
export interface Batch {
  body: Buffer;
  recordCount: number;
}

export interface LogSink {
  /** Resolves once the service has accepted every row of `batch`; throws otherwise (nothing of it counts as sent). */
  send(batch: Batch, options?: { signal?: AbortSignal; deadlineMs?: number }): Promise<void>;
}
