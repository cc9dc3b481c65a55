// A clock that only moves when told, and a sleep that moves it instead of waiting.
import type { Clock, Sleep } from '../../src/clock.js';

export class FakeClock implements Clock {
  #nowMs: number;
  readonly sleeps: number[] = [];
  constructor(startMs = Date.UTC(2026, 10, 23, 12, 0, 0)) {
    this.#nowMs = startMs;
  }
  nowMs(): number {
    return this.#nowMs;
  }
  advance(ms: number): void {
    this.#nowMs += ms;
  }
  /** A Sleep that records the delay and advances this clock by it, at once. */
  readonly sleep: Sleep = (ms, signal) => {
    // An aborted signal rejects the returned promise (it does not throw at the call), with the abort's reason: an
    // Error, as every abort in the connector and its tests gives one.
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    this.sleeps.push(ms);
    this.#nowMs += ms;
    return Promise.resolve();
  };
}
