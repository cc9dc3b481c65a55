// Progress of a long run for a person watching: a live line on a terminal, plain lines otherwise. Pure formatting
// plus a small writer; the run reports progress through RunOptions.onProgress, and waits for MCAS through the wiring's
// onWait.
import type { Logger } from './logger.js';
import type { RunProgress } from './run.js';
import type { McasWait } from './wiring.js';

/** What the estimate needs to know besides the run's own counts. */
export interface ProgressLimits {
  /** The MCAS requests a minute the run allows itself (MCAS_MAX_REQUESTS_PER_MINUTE). */
  requestsPerMinute: number;
}

/**
 * Records still to read: MCAS's approximate count when the run has one (keyset paging), else the records read so far
 * scaled to the part of the window still ahead (as dense as the part behind). Undefined before anything was read.
 */
export function estimateRemaining(progress: RunProgress): number | undefined {
  if (progress.remaining !== undefined) return progress.remaining;
  const readMs = progress.cursorMs - progress.windowStartMs;
  if (progress.fetched === 0 || readMs <= 0) return undefined;
  return Math.round((progress.fetched * Math.max(0, progress.windowEndMs - progress.cursorMs)) / readMs);
}

/**
 * Milliseconds until the run is done, from the records left and the rate so far, but never faster than the request
 * limit allows: a run that has not waited for the limit yet reads faster than it will go on. Undefined when unknown.
 */
export function estimateEtaMs(progress: RunProgress, elapsedMs: number, limits: ProgressLimits): number | undefined {
  const remaining = estimateRemaining(progress);
  if (remaining === undefined || progress.fetched === 0 || elapsedMs <= 0) return undefined;
  const byRateMs = (remaining / progress.fetched) * elapsedMs;
  const perRequest = progress.fetched / Math.max(1, progress.pages);
  const byLimitMs = (Math.ceil(remaining / perRequest) / limits.requestsPerMinute) * 60_000;
  return Math.max(byRateMs, byLimitMs);
}

/**
 * "pages 12, records 1,180 fetched / 1,000 sent, about 4,300 left (21.5 %), at …, 39/s, ETA 1m 50s". The share done
 * is of the records when MCAS counted what is left, else of the time range; a run that resumed inside a longer range
 * (a backfill, `rangeStartMs`) counts its share of that range from its start. `waitLeftMs`: the run is waiting for
 * MCAS that long, which the ETA cannot be shorter than.
 */
export function describeProgress(
  progress: RunProgress,
  elapsedMs: number,
  limits: ProgressLimits,
  waitLeftMs = 0,
): string {
  const remaining = estimateRemaining(progress);
  const etaMs = estimateEtaMs(progress, elapsedMs, limits);
  const rate = elapsedMs > 0 ? progress.fetched / (elapsedMs / 1000) : 0;
  return (
    `pages ${progress.pages}, records ${count(progress.fetched)} fetched / ${count(progress.sent)} sent` +
    `${remaining !== undefined ? `, about ${count(remaining)} left` : ''}, ${describeShare(progress)}` +
    `, at ${new Date(progress.cursorMs).toISOString()}` +
    (progress.fetched > 0 && elapsedMs > 0 ? `, ${count(Math.round(rate))}/s` : '') +
    (etaMs !== undefined ? `, ETA ${formatDuration(Math.max(etaMs, waitLeftMs))}` : '')
  );
}

/** "2.5 % of the records" (MCAS counted what is left) or "50.7 % of the range". */
function describeShare(progress: RunProgress): string {
  if (progress.remaining !== undefined && progress.rangeStartMs === undefined) {
    const total = progress.fetched + progress.remaining;
    return `${((total > 0 ? progress.fetched / total : 1) * 100).toFixed(1)} % of the records`;
  }
  const startMs = progress.rangeStartMs ?? progress.windowStartMs;
  const span = progress.windowEndMs - startMs;
  const fraction = span > 0 ? Math.min(1, Math.max(0, (progress.cursorMs - startMs) / span)) : 1;
  return `${(fraction * 100).toFixed(1)} % of the range`;
}

/** "waiting 57s for MCAS's rate limit (30 requests a minute)". */
export function describeWait(wait: McasWait, leftMs: number): string {
  const why =
    wait.kind === 'rateLimit'
      ? `MCAS's rate limit (${wait.requestsPerMinute} requests a minute)`
      : 'MCAS, which throttled the last request';
  return `waiting ${formatDuration(leftMs)} for ${why}`;
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** Waits shorter than this are not worth a line. */
const MIN_SHOWN_WAIT_MS = 2_000;

export interface ProgressWriter {
  update(progress: RunProgress): void;
  /** The run is about to wait `wait.waitMs` for MCAS. */
  wait(wait: McasWait): void;
  /** `log`, made to keep its lines off the live line. */
  logger(log: Logger): Logger;
  done(): void;
}

/**
 * A progress sink. On a TTY it rewrites one line in place, and while the run waits for MCAS counts the wait down
 * every second. Otherwise it writes a plain line at most every `plainEveryMs`, and one at the start of each wait,
 * so logs stay readable and a long wait is never silent.
 */
export function progressWriter(
  stream: { isTTY?: boolean; write(text: string): unknown },
  nowMs: () => number,
  limits: ProgressLimits,
  options: { plainEveryMs?: number; tickMs?: number } = {},
): ProgressWriter {
  const plainEveryMs = options.plainEveryMs ?? 10_000;
  const startedMs = nowMs();
  let lastPlainMs = -Infinity;
  let last: RunProgress | undefined;
  /** The live line on screen, if any (terminal only). */
  let live: string | undefined;
  let waiting: { wait: McasWait; untilMs: number; ticker: NodeJS.Timeout | undefined } | undefined;

  const stopWaiting = (): void => {
    if (waiting?.ticker) clearInterval(waiting.ticker);
    waiting = undefined;
  };
  /** The progress line, with the wait in progress if any. */
  const render = (): string => {
    if (waiting && waiting.untilMs - nowMs() < 500) stopWaiting(); // "waiting 0s" says nothing
    const waitLeftMs = waiting ? Math.max(0, waiting.untilMs - nowMs()) : 0;
    const text = last ? describeProgress(last, nowMs() - startedMs, limits, waitLeftMs) : undefined;
    if (!waiting) return text ?? '';
    const wait = describeWait(waiting.wait, waitLeftMs);
    return text === undefined ? wait : `${wait}; ${text}`;
  };
  const draw = (): void => {
    live = render();
    stream.write(`\r\u001b[2K${live}`);
  };
  /** A log line clears the live line first and draws it again after, so the two never share a line. */
  const around =
    (write: (message: string) => void) =>
    (message: string): void => {
      if (live === undefined) {
        write(message);
        return;
      }
      stream.write('\r\u001b[2K');
      write(message);
      stream.write(live);
    };
  return {
    // A page read ahead may be reported while the request after it waits: the wait goes on showing until it is over.
    update(progress) {
      last = progress;
      if (stream.isTTY) draw();
      else if (nowMs() - lastPlainMs >= plainEveryMs) {
        stream.write(`progress: ${render()}\n`);
        lastPlainMs = nowMs();
      }
    },
    wait(wait) {
      if (wait.waitMs < MIN_SHOWN_WAIT_MS) return;
      stopWaiting();
      waiting = { wait, untilMs: nowMs() + wait.waitMs, ticker: undefined };
      if (stream.isTTY) {
        draw();
        waiting.ticker = setInterval(draw, options.tickMs ?? 1_000);
        waiting.ticker.unref();
      } else {
        stream.write(`progress: ${render()}\n`);
        lastPlainMs = nowMs();
      }
    },
    logger(log) {
      return { info: around((m) => log.info(m)), warn: around((m) => log.warn(m)), error: around((m) => log.error(m)) };
    },
    done() {
      stopWaiting();
      if (live !== undefined) stream.write('\n');
      live = undefined;
    },
  };
}
