// MCAS_PAGING=auto: which paging mode suits the backlog in front of a run (or of the rest of its window). Keyset reads
// 100 activities a request and re-sends at most one batch after a crash; scan reads 5,000 a request but re-sends up to
// one sub-window. Near the head of the stream, where keyset can read the backlog with the requests this run has left,
// keyset's small duplicate bound wins; beyond that only scan keeps up. Pure: no I/O, no clock.

export type PagingMode = 'keyset' | 'scan';

/**
 * Keyset is chosen while the backlog fits in this share of what the run's remaining requests can read in keyset pages:
 * the rest is margin for MCAS's approximate count and for what is saved while the run reads. Switching back from scan
 * needs the backlog to fit in KEYSET_RETURN_SHARE, so that a backlog near the line does not flip modes every sub-window.
 */
export const KEYSET_SHARE = 0.5;
export const KEYSET_RETURN_SHARE = 0.25;

export interface BacklogEstimate {
  /** MCAS's approximate `total` of the query just answered (everything from the cursor to the window end), if any. */
  total: number | undefined;
  /** Activities a millisecond of `created` held in the part of the window just read, if any was read. */
  ratePerMs: number | undefined;
  /** Length of the window still to read (ms of `created`). */
  remainingWindowMs: number;
}

/**
 * The activities left in the window: MCAS's count when it gave one, else the rate just observed over what is left.
 * Undefined when neither is known.
 */
export function estimateBacklog(estimate: BacklogEstimate): number | undefined {
  if (estimate.total !== undefined && Number.isFinite(estimate.total) && estimate.total >= 0) return estimate.total;
  if (estimate.ratePerMs === undefined || !Number.isFinite(estimate.ratePerMs)) return undefined;
  return Math.max(0, estimate.ratePerMs * Math.max(0, estimate.remainingWindowMs));
}

export interface PagingChoice {
  /** Activities left to read (estimateBacklog); undefined reads as "unknown", which keeps the current mode. */
  backlog: number | undefined;
  /** MCAS requests the run can still make before it stops fetching (rate limit times the time left). */
  requestsLeft: number;
  /** Activities per keyset request (100). */
  keysetPageSize: number;
  /** The mode in use; a run starts in keyset, whose first request brings MCAS's count. */
  current: PagingMode;
}

/**
 * keyset when the backlog fits in KEYSET_SHARE (KEYSET_RETURN_SHARE when coming back from scan) of what the remaining
 * requests read in keyset pages, scan otherwise; the current mode when the backlog is unknown.
 */
export function choosePaging(choice: PagingChoice): PagingMode {
  if (choice.backlog === undefined) return choice.current;
  const keysetCapacity = Math.max(0, choice.requestsLeft) * choice.keysetPageSize;
  const share = choice.current === 'keyset' ? KEYSET_SHARE : KEYSET_RETURN_SHARE;
  return choice.backlog <= share * keysetCapacity ? 'keyset' : 'scan';
}
