// Progress of a long run for a person watching: a live line on a terminal, plain lines otherwise. Pure formatting
// plus a tiny writer; the run reports progress through RunOptions.onProgress.
import type { Logger } from './logger.js';
import type { RunProgress } from './run.js';

/** "pages 12, records 1,180, 43.5 % of the range, ETA 2m 10s". `elapsedMs` is since the run started. */
export function describeProgress(progress: RunProgress, elapsedMs: number): string {
  const span = progress.windowEndMs - progress.windowStartMs;
  const fraction = span > 0 ? Math.min(1, Math.max(0, (progress.cursorMs - progress.windowStartMs) / span)) : 1;
  const eta = fraction > 0 && fraction < 1 ? `, ETA ${formatDuration((elapsedMs / fraction) * (1 - fraction))}` : '';
  return (
    `pages ${progress.pages}, records ${progress.fetched.toLocaleString('en-US')} fetched / ` +
    `${progress.sent.toLocaleString('en-US')} sent, ${(fraction * 100).toFixed(1)} % of the range` +
    `, at ${new Date(progress.cursorMs).toISOString()}${eta}`
  );
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/**
 * A progress sink: on a TTY it rewrites one line in place; otherwise it writes a plain line at most every
 * `plainEveryMs`, so logs stay readable.
 */
export function progressWriter(
  stream: { isTTY?: boolean; write(text: string): unknown },
  nowMs: () => number,
  plainEveryMs = 10_000,
): { update(progress: RunProgress): void; logger(log: Logger): Logger; done(): void } {
  const startedMs = nowMs();
  let lastPlainMs = -Infinity;
  /** The live line on screen, if any (terminal only). */
  let live: string | undefined;
  /** A log line clears the live line first and draws it again after, so the two never share a line. */
  const around =
    (write: (message: string) => void) =>
    (message: string): void => {
      if (live === undefined) return write(message);
      stream.write('\r\u001b[2K');
      write(message);
      stream.write(live);
    };
  return {
    update(progress) {
      const text = describeProgress(progress, nowMs() - startedMs);
      if (stream.isTTY) {
        live = text;
        stream.write(`\r\u001b[2K${text}`);
      } else if (nowMs() - lastPlainMs >= plainEveryMs) {
        stream.write(`progress: ${text}\n`);
        lastPlainMs = nowMs();
      }
    },
    logger(log) {
      return { info: around((m) => log.info(m)), warn: around((m) => log.warn(m)), error: around((m) => log.error(m)) };
    },
    done() {
      if (live !== undefined) stream.write('\n');
      live = undefined;
    },
  };
}
