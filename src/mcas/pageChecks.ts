// What the pagers rely on in MCAS's answers, checked on every page before any of its records is delivered: the cursor
// field ascending within a page and across pages, every record inside the window that was asked for, and a `hasNext`
// that agrees with a full page. Pure; the pagers decide what to do (stop, or ask once more).
import { escapeControlCharacters } from '../redact.js';
import { UntrustedPageError } from '../errors.js';

export interface PageExpectation {
  /** Which page of this read it is (1-based), for the message. */
  pageNumber: number;
  /** The record field holding the cursor: `created` (activities) or `timestamp` (alerts). */
  timeKey: 'created' | 'timestamp';
  /** The window the request asked for, inclusive (epoch ms). */
  fromMs: number;
  toMs: number;
  /** Keyset paging needs records in ascending order; a scan's order is the server's own. */
  ascending: boolean;
}

/**
 * The cursor value of a raw record when it is a usable time (a non-negative safe integer), else undefined: a record
 * without one fails the schema and is sent as a flagged row, and is no evidence about the order of the others.
 */
export function cursorValueOf(raw: unknown, timeKey: 'created' | 'timestamp'): number | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const value = (raw as Record<string, unknown>)[timeKey];
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Throws UntrustedPageError naming the first record of `records` that is outside the requested window or, when
 * `ascending`, older than the one before it. Records without a usable cursor value are left to the schema check: they
 * are sent as flagged rows and never move the cursor. `offset`: how many records of the page came before `records`,
 * for the record numbers in messages.
 */
export function checkPageRecords(records: Iterable<unknown>, expected: PageExpectation, offset = 0): void {
  const { timeKey } = expected;
  let previous: number | undefined;
  let index = -1;
  for (const raw of records) {
    index++;
    const value = cursorValueOf(raw, timeKey);
    if (value === undefined) continue;
    if (value < expected.fromMs || value > expected.toMs) {
      throw new UntrustedPageError(
        `MCAS sent a record outside the requested window on page ${expected.pageNumber}: record ${offset + index + 1} ` +
          `(${describeId(raw)}) has ${timeKey} ${iso(value)}, but the request asked for ${iso(expected.fromMs)} .. ` +
          `${iso(expected.toMs)}.`,
      );
    }
    if (expected.ascending && previous !== undefined && value < previous) {
      throw new UntrustedPageError(
        `MCAS sent records out of ascending ${timeKey} order on page ${expected.pageNumber}: record ${offset + index + 1} ` +
          `(${describeId(raw)}) has ${iso(value)}, after a record with ${iso(previous)}.`,
      );
    }
    previous = value;
  }
}

/**
 * True when MCAS closes the window on a full page: `hasNext: false` with as many records as the limit. Such a page may
 * be the last one by chance, or MCAS may be wrong about it; the pager asks once more before closing the window.
 */
export function isFullLastPage(returned: number, limit: number, hasNext: boolean): boolean {
  return !hasNext && returned > 0 && returned >= limit;
}

/** The error when asking once more after a full last page brought `unread` records not read yet. */
export function hasNextContradicted(pageNumber: number, limit: number, unread: number): UntrustedPageError {
  return new UntrustedPageError(
    `MCAS said hasNext: false on page ${pageNumber}, a full page of ${limit}, but asking once more returned ${unread} ` +
      'records not read yet.',
  );
}

function describeId(raw: unknown): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['_id'] : undefined;
  return typeof id === 'string' ? `_id ${escapeControlCharacters(id.slice(0, 80))}` : 'no _id';
}

function iso(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}
