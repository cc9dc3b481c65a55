// Retry policy as data, and the one loop that applies it. Every attempt is rebuilt by the caller's function (a new
// x-ms-date and signature for Log Analytics), so retrying here is safe for our POSTs; undici's own retry leaves POST out.
import type { Clock, Sleep } from './clock.js';
import { errorCode, HttpStatusError } from './errors.js';
import { isTransientNetworkError } from './http.js';
import type { Logger } from './logger.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  /** Cap for any delay, the server's Retry-After included. */
  maxDelayMs: number;
  /** Statuses worth another attempt; everything else is permanent. */
  retryOnStatus: readonly number[];
  /** A throttled answer without Retry-After waits at least this long (MCAS: a minute, as Microsoft's module does). */
  throttleMinDelayMs?: number;
  /** Bodies matching this are throttling whatever the status (MCAS sometimes says "throttled" in a 4xx/5xx body). */
  throttleBodyPattern?: RegExp;
}

/** MCAS: 30 requests a minute per tenant; throttling is answered with 429 or a body that says so. */
export const MCAS_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 90_000,
  retryOnStatus: [429, 500, 502, 503, 504],
  throttleMinDelayMs: 60_000,
  throttleBodyPattern: /throttl/i,
});

/** Log Analytics Data Collector: 429/5xx are transient; 400/401/403/404 are permanent (bad data, key or workspace). */
export const LOG_ANALYTICS_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  retryOnStatus: [429, 500, 502, 503, 504],
});

export interface RetryOptions {
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  /** Name used in the retry warning, e.g. "MCAS page" or "Log Analytics batch". */
  operation: string;
  /** No attempt starts and no sleep runs past this time (epoch ms). */
  deadlineMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Source of randomness in [0, 1), for jitter; injectable for tests. */
  random?: () => number;
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  throttled: boolean;
  reason: string;
}

/** Full-jitter exponential backoff: random(0, min(maxDelayMs, baseDelayMs * 2^(attempt-1))). */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Parses Retry-After (delta seconds or an HTTP date) into ms from `nowMs`. Returns undefined when the header is absent
 * or malformed, so the caller falls back to backoff. A date in the past, or "0", means now.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}

export function isThrottled(error: unknown, policy: RetryPolicy): boolean {
  if (!(error instanceof HttpStatusError)) return false;
  return error.status === 429 || (policy.throttleBodyPattern?.test(error.bodyExcerpt) ?? false);
}

/** Whether `error` deserves another attempt under `policy`. Our own bugs and permanent statuses never do. */
export function isRetryable(error: unknown, policy: RetryPolicy): boolean {
  if (error instanceof HttpStatusError)
    return policy.retryOnStatus.includes(error.status) || isThrottled(error, policy);
  return isTransientNetworkError(error);
}

/** The wait before the next attempt: the server's Retry-After when usable (no jitter added), else backoff. */
export function retryDelayMs(
  error: unknown,
  attempt: number,
  policy: RetryPolicy,
  nowMs: number,
  random?: () => number,
): number {
  const throttled = isThrottled(error, policy);
  const retryAfter = error instanceof HttpStatusError ? parseRetryAfterMs(error.retryAfterHeader, nowMs) : undefined;
  if (retryAfter !== undefined) return Math.min(retryAfter, policy.maxDelayMs);
  const backoff = backoffDelayMs(attempt, policy, random);
  return throttled ? Math.max(backoff, policy.throttleMinDelayMs ?? 0) : backoff;
}

/**
 * Runs `attempt` until it succeeds, fails permanently, runs out of attempts, or would have to wait past the deadline.
 * The last error is thrown unchanged. Writes one warning per retry.
 */
export async function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
  options: RetryOptions,
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (attemptNumber >= policy.maxAttempts || !isRetryable(error, policy)) throw error;
      const nowMs = options.clock.nowMs();
      const delayMs = retryDelayMs(error, attemptNumber, policy, nowMs, options.random);
      if (options.deadlineMs !== undefined && nowMs + delayMs >= options.deadlineMs) throw error;
      const info: RetryInfo = {
        attempt: attemptNumber,
        delayMs,
        throttled: isThrottled(error, policy),
        reason: describe(error),
      };
      options.log.warn(
        `${options.operation}: attempt ${attemptNumber} of ${policy.maxAttempts} failed (${info.reason}); ` +
          `${info.throttled ? 'throttled, ' : ''}retrying in ${delayMs} ms.`,
      );
      options.onRetry?.(info);
      await options.sleep(delayMs, options.signal);
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof HttpStatusError) return `${error.service} ${error.status}`;
  return errorCode(error) ?? (error instanceof Error ? error.name : 'error');
}
