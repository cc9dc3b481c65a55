// Where a stream of activities has got to: the interface every checkpoint store implements, and the stored shape.
import { z } from 'zod';

import type { RunReport } from '../telemetry/RunReport.js';

/**
 * The stored position of a stream. `cursor` is an MCAS `created` time (epoch ms): every activity created before it
 * has been accepted by the sink, and so have those at exactly `cursor` whose ids are in `idsAtCursor`.
 */
export const CheckpointSchema = z.object({
  version: z.literal(1),
  cursor: z.number().int().nonnegative(),
  idsAtCursor: z.array(z.string()),
  /** Where the stream's first run started (epoch ms): the stream has covered [origin, cursor). Absent in old ones. */
  origin: z.number().int().nonnegative().optional(),
  /** The end (epoch ms, inclusive) of the `created` window of the run that wrote this. */
  windowEnd: z.number().int().nonnegative(),
  /** ISO 8601 time of the write. */
  updatedAt: z.string(),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export interface StoredCheckpoint {
  checkpoint: Checkpoint;
  /** Opaque version token of what was read; pass it back to save(). */
  etag: string;
}

export interface CheckpointStore {
  /** The saved checkpoint, or undefined before the first save. Throws if the stored value is not a checkpoint. */
  load(): Promise<StoredCheckpoint | undefined>;
  /**
   * Saves `checkpoint` only if the stored one still has `expectedEtag` (undefined: only if none exists yet),
   * and returns the new etag. Throws CheckpointConflictError when another writer got there first.
   */
  save(checkpoint: Checkpoint, expectedEtag: string | undefined): Promise<string>;
  /**
   * Proves, before a run sends anything, that save() can work: takes the writer's lock, writes the checkpoint that
   * load() returned back unchanged (a small probe beside it when there is none yet), and returns the etag the next
   * save() must pass. Throws CheckpointConflictError when another writer changed it since, and the store's own error
   * when it cannot be written (read-only, full, no permission), so that nothing is posted that could not be
   * checkpointed.
   */
  prepare(stored: StoredCheckpoint | undefined): Promise<string | undefined>;
  /** Where it is kept, for log lines (no secrets). */
  describe(): string;
  /** The report of the stream's last run, or undefined when there is none (or it cannot be read as one). */
  loadReport(): Promise<RunReport | undefined>;
  /**
   * Replaces the last run's report. Kept beside the checkpoint, not in it, so writing a report never changes the
   * checkpoint's ETag under an overlapping run.
   */
  saveReport(report: RunReport): Promise<void>;
}
