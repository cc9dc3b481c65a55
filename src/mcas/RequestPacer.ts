// Keeps MCAS requests under the tenant's rate limit (30 a minute, per Microsoft's API docs) so a healthy run is not
// throttled in the first place. A sliding window over when this process's requests *finished*: a server counts a
// request when it arrives, which is after we sent it and before we got the answer, so counting from the answer can
// never run ahead of the server's window, whatever the latency (counting from the send can, when latency varies).
import type { Clock, Sleep } from '../clock.js';
import { abortReason, DeadlineReachedError } from '../errors.js';

/** The window of Microsoft's rate limit: 30 requests a minute per tenant. */
export const DEFAULT_WINDOW_MS = 60_000;

export class RequestPacer {
  readonly #maxRequests: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  /** Finish times (epoch ms) of the requests still inside the window, oldest first. */
  readonly #finished: number[] = [];
  #inFlight = 0;
  /** Callers waiting for a request in flight to finish. */
  #waiters: (() => void)[] = [];
  #waitedMs = 0;

  readonly #onWait: ((waitMs: number) => void) | undefined;

  /**
   * `windowMs`: the limit's window, a minute by default (MCAS's limit is a number of requests a minute). `onWait` is
   * told of each wait before it starts, for progress displays.
   */
  constructor(options: {
    maxRequests: number;
    windowMs?: number | undefined;
    clock: Clock;
    sleep: Sleep;
    onWait?: (waitMs: number) => void;
  }) {
    const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    if (!(options.maxRequests >= 1) || !(windowMs > 0))
      throw new RangeError('RequestPacer needs maxRequests >= 1 and windowMs > 0.');
    this.#maxRequests = options.maxRequests;
    this.#windowMs = windowMs;
    this.#clock = options.clock;
    this.#sleep = options.sleep;
    this.#onWait = options.onWait;
  }

  /** Total time spent waiting for a slot, for the run report. */
  get waitedMs(): number {
    return this.#waitedMs;
  }

  /**
   * Waits until one more request fits in the window and takes a slot for it; call the returned function when its
   * answer (or failure) is in. Throws DeadlineReachedError instead of waiting past `deadlineMs`.
   */
  async acquire(
    options: { signal?: AbortSignal | undefined; deadlineMs?: number | undefined } = {},
  ): Promise<() => void> {
    for (;;) {
      const now = this.#clock.nowMs();
      while (this.#finished.length > 0 && (this.#finished[0] as number) <= now - this.#windowMs) this.#finished.shift();
      if (this.#finished.length + this.#inFlight < this.#maxRequests) {
        this.#inFlight++;
        let released = false;
        return () => {
          if (released) return;
          released = true;
          this.#inFlight--;
          this.#finished.push(this.#clock.nowMs());
          for (const wake of this.#waiters.splice(0)) wake();
        };
      }
      const oldest = this.#finished[0];
      if (oldest === undefined) {
        // Every slot is held by a request in flight: wait for one to finish (requests have their own timeouts).
        await new Promise<void>((resolve, reject) => {
          options.signal?.throwIfAborted();
          options.signal?.addEventListener('abort', () => reject(abortReason(options.signal)), { once: true });
          this.#waiters.push(resolve);
        });
        continue;
      }
      const waitMs = oldest + this.#windowMs - now;
      if (options.deadlineMs !== undefined && now + waitMs >= options.deadlineMs) {
        throw new DeadlineReachedError('the next MCAS request would have to wait past the time budget');
      }
      this.#waitedMs += waitMs;
      this.#onWait?.(waitMs);
      await this.#sleep(waitMs, options.signal);
    }
  }
}

/** The pacers of this process, by clock, sleep and tenant (see sharedPacer). */
const SHARED = new WeakMap<Clock, WeakMap<Sleep, Map<string, RequestPacer>>>();

/**
 * One pacer per tenant (`key`, the portal URL) and limit for the life of the process. Timer runs end just before the
 * next tick (runDeadlines), so a run starts seconds after the last requests of the one before: a fresh pacer would let
 * its first 30 requests go at once while MCAS still counts those, and be throttled. A fresh process (a cold start, or
 * another instance) starts empty; at worst its first requests are throttled once and wait (MCAS_THROTTLE_WAIT_SECONDS).
 */
export function sharedPacer(
  key: string,
  options: { maxRequests: number; windowMs?: number; clock: Clock; sleep: Sleep },
): RequestPacer {
  let bySleep = SHARED.get(options.clock);
  if (!bySleep) SHARED.set(options.clock, (bySleep = new WeakMap()));
  let byKey = bySleep.get(options.sleep);
  if (!byKey) bySleep.set(options.sleep, (byKey = new Map<string, RequestPacer>()));
  const fullKey = `${key} ${options.maxRequests}/${options.windowMs ?? DEFAULT_WINDOW_MS}`;
  let pacer = byKey.get(fullKey);
  if (!pacer) byKey.set(fullKey, (pacer = new RequestPacer(options)));
  return pacer;
}
