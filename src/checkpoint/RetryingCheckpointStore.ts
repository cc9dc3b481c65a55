// A CheckpointStore around the blob store that retries transient storage failures with the connector's own retry
// loop, so each retry is logged like those of MCAS and Log Analytics, and words a failure to reach the storage
// account with the setting that points at it and what to check. The storage SDK's own retries are turned off
// (createCheckpointStore), so there is one retry loop, not two nested ones.
import type { Clock, Sleep } from '../clock.js';
import type { Logger } from '../logger.js';
import { isTransientNetworkError } from '../http.js';
import { type RetryPolicy, withRetry } from '../retry.js';
import type { RunReport } from '../telemetry/RunReport.js';
import { explainUnreachable, isLoopbackHost, type ServiceTarget } from '../unreachable.js';
import type { Checkpoint, CheckpointStore, StoredCheckpoint } from './CheckpointStore.js';

/** Storage: the SDK's default is 4 tries from 4 s; shorter here, as a run has a time budget. */
export const STORAGE_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 15_000,
  retryOnStatus: [408, 429, 500, 502, 503, 504],
});

export interface RetryingCheckpointStoreOptions {
  target: ServiceTarget;
  log: Logger;
  clock: Clock;
  sleep: Sleep;
  policy?: RetryPolicy;
}

export class RetryingCheckpointStore implements CheckpointStore {
  readonly #inner: CheckpointStore;
  readonly #options: RetryingCheckpointStoreOptions;

  constructor(inner: CheckpointStore, options: RetryingCheckpointStoreOptions) {
    this.#inner = inner;
    this.#options = options;
  }

  load(): Promise<StoredCheckpoint | undefined> {
    return this.#call('read', () => this.#inner.load());
  }

  /**
   * A save retried after a lost answer may find its own write and fail with CheckpointConflictError: loud, and the
   * stored checkpoint stands (the storage SDK's retries behaved the same).
   */
  save(checkpoint: Checkpoint, expectedEtag: string | undefined): Promise<string> {
    return this.#call('write', () => this.#inner.save(checkpoint, expectedEtag));
  }

  /** Proves the store writable before the first post; a retried probe may meet its own write, as a save may. */
  prepare(stored: StoredCheckpoint | undefined): Promise<string | undefined> {
    return this.#call('write check', () => this.#inner.prepare(stored));
  }

  describe(): string {
    return this.#inner.describe();
  }

  loadReport(): Promise<RunReport | undefined> {
    return this.#call('read the last-run report', () => this.#inner.loadReport());
  }

  saveReport(report: RunReport): Promise<void> {
    return this.#call('write the last-run report', () => this.#inner.saveReport(report));
  }

  #call<T>(action: string, attempt: () => Promise<T>): Promise<T> {
    const { target, log, clock, sleep } = this.#options;
    const policy = this.#options.policy ?? STORAGE_RETRY;
    // Azurite on this machine that refuses the connection is not running: fail at once, with advice.
    const local = isLoopbackHost(new URL(target.url).hostname);
    const retryable = (error: unknown): boolean => {
      const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
      if (typeof statusCode === 'number') return policy.retryOnStatus.includes(statusCode);
      return isTransientNetworkError(error) && !(local && code === 'ECONNREFUSED');
    };
    return explainUnreachable(target, () =>
      withRetry(attempt, policy, { clock, sleep, log, operation: `Checkpoint storage ${action}`, retryable }),
    );
  }
}
