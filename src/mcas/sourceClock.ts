// MCAS's own time, taken from the `Date` header of its answers, so that a window never ends, and a cursor is never
// saved, in MCAS's future however the host's clock is set. Pure: the host's time is passed in.
import { CursorAheadOfSourceError } from '../errors.js';

/** `Date` has one-second resolution: MCAS's time can be up to this much later than the header says. */
export const DATE_RESOLUTION_MS = 1_000;

/** MCAS's clock as seen through its answers: the offset from the host's clock at the latest answer. */
export class SourceClock {
  #offsetMs: number | undefined;

  /** Notes one answer's `Date` header, received at host time `hostNowMs`. A missing or unreadable header is ignored. */
  observe(dateHeader: string | undefined, hostNowMs: number): void {
    if (dateHeader === undefined) return;
    const dateMs = Date.parse(dateHeader);
    if (Number.isNaN(dateMs)) return;
    // The header was stamped before the answer arrived, and rounded down: MCAS's time at receipt is at least dateMs.
    this.#offsetMs = dateMs - hostNowMs;
  }

  /** How far MCAS's clock is ahead of the host's (negative: behind), or undefined before any answer. */
  get offsetMs(): number | undefined {
    return this.#offsetMs;
  }

  /** MCAS's time now (a lower bound, to within DATE_RESOLUTION_MS), or undefined before any answer. */
  nowMs(hostNowMs: number): number | undefined {
    return this.#offsetMs === undefined ? undefined : hostNowMs + this.#offsetMs;
  }
}

/**
 * The latest window end (inclusive, epoch ms) MCAS's own clock allows: its now less the settle margin. The header's
 * rounding is given back (MCAS's time is up to DATE_RESOLUTION_MS later than it says), so a host whose clock is right
 * never has its window cut; one an hour ahead has it cut by the hour.
 */
export function sourceWindowEndMs(sourceNowMs: number, settleMs: number): number {
  return sourceNowMs + DATE_RESOLUTION_MS - settleMs;
}

/** Minutes by which `cursorMs` is in MCAS's future, or undefined when it is not (or MCAS's time is unknown). */
export function minutesAheadOfSource(cursorMs: number, sourceNowMs: number | undefined): number | undefined {
  // A cursor is the end of what was read + 1, and a window may end at sourceWindowEndMs with no settle margin.
  if (sourceNowMs === undefined || cursorMs <= sourceNowMs + DATE_RESOLUTION_MS + 1) return undefined;
  return Math.round(((cursorMs - sourceNowMs) / 60_000) * 10) / 10;
}

/** Throws CursorAheadOfSourceError when `cursorMs` is in MCAS's future; `what` names the cursor for the message. */
export function checkCursorNotAhead(what: string, cursorMs: number, sourceNowMs: number | undefined): void {
  const ahead = minutesAheadOfSource(cursorMs, sourceNowMs);
  if (ahead === undefined) return;
  throw new CursorAheadOfSourceError(
    `${what} (${new Date(cursorMs).toISOString()}) is ${ahead} min ahead of MCAS's clock ` +
      `(${new Date(sourceNowMs ?? 0).toISOString()}, from the Date header of its answers): nothing MCAS saves before ` +
      'then would be read. Check the host clock, then set the checkpoint back or delete it.',
  );
}
