// When a run stops fetching (soft deadline) and when it must be over (hard deadline). A timer run ends just before the
// next tick, so no tick is skipped and no minute of MCAS's 30-a-minute budget idles: the Functions host skips a tick
// while the run before is still going, which with a 480 s budget on a 5-minute schedule left every other tick unused
// (6 minutes of reading in 10). Pure: no I/O, no clock.

/** A timer run is over this long before the next tick: the host's start-up jitter and a slow last checkpoint write. */
export const TICK_MARGIN_MS = 10_000;
/** Fetching stops this long before the hard deadline (at most a quarter of the run): the last post and checkpoint. */
export const FINISH_RESERVE_MS = 10_000;
/** Without a schedule (CLI, backfill), fetching stops at this share of the budget, as it always did. */
export const SOFT_DEADLINE_SHARE = 0.75;
/** A run whose next tick is nearer than this reads on until the tick after (skipping one), rather than stopping at once. */
export const MIN_RUN_MS = 60_000;

export interface RunDeadlineInput {
  startedMs: number;
  /** RUN_TIME_BUDGET_SECONDS in ms: no run lasts longer, whatever the schedule (keep it under functionTimeout). */
  budgetMs: number;
  /** The timer's next occurrence (the host's `scheduleStatus.next`), when the run is a timer run. */
  nextTickMs?: number | undefined;
  /** The timer's last occurrence (`scheduleStatus.last`), which gives the interval when the next tick is too near. */
  lastTickMs?: number | undefined;
}

export interface RunDeadlines {
  /** No new MCAS request after this (epoch ms). */
  softDeadlineMs: number;
  /** Everything, the last post and checkpoint included, is over by this (epoch ms). */
  hardDeadlineMs: number;
}

export function runDeadlines(input: RunDeadlineInput): RunDeadlines {
  const { startedMs, budgetMs } = input;
  const byBudget = startedMs + budgetMs;
  const tickMs = nextUsableTick(input);
  if (tickMs === undefined) {
    return { softDeadlineMs: startedMs + Math.floor(budgetMs * SOFT_DEADLINE_SHARE), hardDeadlineMs: byBudget };
  }
  const hardDeadlineMs = Math.max(startedMs, Math.min(byBudget, tickMs - TICK_MARGIN_MS));
  const reserveMs = Math.min(FINISH_RESERVE_MS, Math.floor((hardDeadlineMs - startedMs) / 4));
  return { softDeadlineMs: hardDeadlineMs - reserveMs, hardDeadlineMs };
}

/** The tick the run must end before: the next one, or the one after when the next is under MIN_RUN_MS away. */
function nextUsableTick(input: RunDeadlineInput): number | undefined {
  const { startedMs, nextTickMs, lastTickMs } = input;
  if (nextTickMs === undefined || !Number.isFinite(nextTickMs) || nextTickMs <= startedMs) return undefined;
  if (nextTickMs - TICK_MARGIN_MS - startedMs >= MIN_RUN_MS) return nextTickMs;
  const intervalMs = lastTickMs !== undefined && lastTickMs < nextTickMs ? nextTickMs - lastTickMs : undefined;
  return intervalMs === undefined ? undefined : nextTickMs + intervalMs;
}

/**
 * The host's next and last occurrences of a timer's schedule (its `scheduleStatus`), so the run can end before the
 * next one (runDeadlines). Either is left out when the host gives none or an unreadable one.
 */
export function tickTimes(timer: { scheduleStatus?: { next?: string; last?: string } | undefined }): {
  nextTickMs?: number;
  lastTickMs?: number;
} {
  const nextTickMs = Date.parse(timer.scheduleStatus?.next ?? '');
  const lastTickMs = Date.parse(timer.scheduleStatus?.last ?? '');
  return {
    ...(Number.isFinite(nextTickMs) ? { nextTickMs } : {}),
    ...(Number.isFinite(lastTickMs) ? { lastTickMs } : {}),
  };
}
