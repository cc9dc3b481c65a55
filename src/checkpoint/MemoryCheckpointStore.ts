// A CheckpointStore kept in memory, with the same conditional-write rules as the durable ones: for tests and dry runs.
// Nothing survives the process.
import type { RunReport } from '../telemetry/RunReport.js';
import type { Checkpoint, CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';
import {
  checkCheckpointName,
  checkpointConflict,
  serializeCheckpoint,
  validateStoredCheckpoint,
} from './checkpointRules.js';

/* eslint-disable @typescript-eslint/require-await -- nothing to wait for in memory, but like the durable stores' its
   methods fail by rejecting, never by throwing at the call, so callers handle both stores the same way. */

export class MemoryCheckpointStore implements CheckpointStore {
  readonly name: string;
  /** Every checkpoint saved through this store, oldest first, so tests can check it never moved backwards. */
  readonly history: Checkpoint[] = [];
  #stored: { value: unknown; etag: string } | undefined;
  #report: RunReport | undefined;
  #version = 0;

  /**
   * `initial`, when given, stands for a value already stored (e.g. a checkpoint copied from a blob, to dry-run from).
   * It is validated by load() like any stored value, and is not part of `history`.
   */
  constructor(name: string, initial?: unknown) {
    this.name = checkCheckpointName(name);
    if (initial !== undefined) this.#stored = { value: structuredClone(initial), etag: this.#nextEtag() };
  }

  async load(): Promise<StoredCheckpoint | undefined> {
    if (this.#stored === undefined) return undefined;
    const checkpoint = validateStoredCheckpoint(this.describe(), structuredClone(this.#stored.value));
    return { checkpoint, etag: this.#stored.etag };
  }

  async save(checkpoint: Checkpoint, expectedEtag: string | undefined): Promise<string> {
    // Round-trip through the stored form so later changes to the caller's object cannot alter what was "saved".
    const value = JSON.parse(serializeCheckpoint(checkpoint)) as Checkpoint;
    if (this.#stored?.etag !== expectedEtag) throw checkpointConflict(this.describe(), expectedEtag);
    const etag = this.#nextEtag();
    this.#stored = { value, etag };
    this.history.push(structuredClone(value));
    return etag;
  }

  async prepare(stored: StoredCheckpoint | undefined): Promise<string | undefined> {
    if (this.#stored?.etag !== stored?.etag) throw checkpointConflict(this.describe(), stored?.etag);
    return stored?.etag;
  }

  describe(): string {
    return `memory ${this.name}`;
  }

  async loadReport(): Promise<RunReport | undefined> {
    return this.#report === undefined ? undefined : structuredClone(this.#report);
  }

  async saveReport(report: RunReport): Promise<void> {
    this.#report = structuredClone(report);
  }

  #nextEtag(): string {
    this.#version += 1;
    return `"${this.#version}"`;
  }
}
