// Time, injected: logic modules take a Clock and a sleep function instead of calling Date.now() or setTimeout.
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Waits `ms` milliseconds; rejects with the signal's reason if it is aborted first. */
export const sleep: Sleep = async (ms, signal) => {
  await delay(Math.max(0, ms), undefined, signal ? { signal } : undefined);
};
