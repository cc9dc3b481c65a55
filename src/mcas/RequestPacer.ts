// Keeps MCAS requests under the tenant's rate limit (30 a minute, per Microsoft's API docs) so a healthy run is not
// throttled in the first place. A sliding window over the send times of this process's requests.
import type { Clock, Sleep } from '../clock.js';
import { DeadlineReachedError } from '../errors.js';

export class RequestPacer {
  readonly #maxRequests: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  /** Send times (epoch ms) of the requests still inside the window, oldest first. */
  readonly #sent: number[] = [];
  #waitedMs = 0;

  constructor(options: { maxRequests: number; windowMs: number; clock: Clock; sleep: Sleep }) {
    if (!(options.maxRequests >= 1) || !(options.windowMs > 0)) throw new RangeError('RequestPacer needs maxRequests >= 1 and windowMs > 0.');
    this.#maxRequests = options.maxRequests;
    this.#windowMs = options.windowMs;
    this.#clock = options.clock;
    this.#sleep = options.sleep;
  }

  /** Total time spent waiting for a slot, for the run summary. */
  get waitedMs(): number {
    return this.#waitedMs;
  }

  /**
   * Waits until one more request fits in the window, then counts it as sent. Throws DeadlineReachedError instead of
   * waiting past `deadlineMs`.
   */
  async acquire(options: { signal?: AbortSignal | undefined; deadlineMs?: number | undefined } = {}): Promise<void> {
    for (;;) {
      const now = this.#clock.nowMs();
      while (this.#sent.length > 0 && (this.#sent[0] as number) <= now - this.#windowMs) this.#sent.shift();
      if (this.#sent.length < this.#maxRequests) {
        this.#sent.push(now);
        return;
      }
      const waitMs = (this.#sent[0] as number) + this.#windowMs - now;
      if (options.deadlineMs !== undefined && now + waitMs >= options.deadlineMs) {
        throw new DeadlineReachedError('the next MCAS request would have to wait past the time budget');
      }
      this.#waitedMs += waitMs;
      await this.#sleep(waitMs, options.signal);
    }
  }
}
