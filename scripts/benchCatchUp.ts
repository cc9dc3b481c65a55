// Bench section: can a tenant's connector keep up on default settings? A simulation on a virtual clock of the timer
// (`0 */5 * * * *`; the host skips a tick while a run is still going), the run's deadlines, the paging mode and scan
// sub-windows, and MCAS's rate limit, for tenants saving 1 M to 50 M activities a day. The decisions are the
// connector's own code (RequestPacer, runDeadlines, choosePaging, nextSubWindowMs) on the simulated clock; activities,
// answers and posts are counts and assumed durations (CatchUpCosts), since a day of a 50 M tenant is more than any
// loopback run can move. Two policies are compared: as shipped before (keyset, a 480 s budget that stops fetching at
// 75 %, a fresh pacer per run) and auto (MCAS_PAGING=auto, runs that end just before the next tick, one pacer per
// process).
import type { Clock, Sleep } from '../src/clock.js';
import { DeadlineReachedError } from '../src/errors.js';
import { choosePaging, estimateBacklog, type PagingMode } from '../src/mcas/choosePaging.js';
import { RequestPacer } from '../src/mcas/RequestPacer.js';
import { MAX_TOTAL_FACTOR, nextSubWindowMs, TARGET_PAGES } from '../src/mcas/scanRecords.js';
import { runDeadlines } from '../src/runDeadlines.js';
import { type BenchRow, fixed, thousands } from './benchSupport.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const TICK_MS = 5 * MINUTE_MS;
const BUDGET_MS = 480_000;
const FUNCTION_TIMEOUT_MS = 10 * MINUTE_MS;
const SETTLE_MS = 120_000;
const REQUESTS_PER_MINUTE = 30;
const KEYSET_PAGE = 100;
const SCAN_PAGE = 5_000;
const FIRST_SUB_WINDOW_MS = 60 * MINUTE_MS;
/** A sub-window whose first page counts more than this is given up and scanned shorter (as readByScan does). */
const MAX_SUB_WINDOW_TOTAL = MAX_TOTAL_FACTOR * TARGET_PAGES * SCAN_PAGE;
/** Keyset re-reads the records sharing the cursor's millisecond at each page boundary: 1.2 % in the request bench. */
const KEYSET_NEW_PER_PAGE = 99;
/** Microsoft's limit: 30 scan pages of 5,000 a minute. */
const PHYSICAL_PER_MINUTE = REQUESTS_PER_MINUTE * SCAN_PAGE;

/** Durations (ms) a simulation assumes; MCAS's and Azure's real latencies are not published. */
export interface CatchUpCosts {
  name: string;
  /** Host start-up of a run: the timer firing, Key Vault, the checkpoint read. */
  startMs: number;
  /** A keyset page's answer (headers and body, about 450 KB). */
  keysetAnswerMs: number;
  /** A scan page's answer to its headers (the pacer frees the slot here), then its 22 MB body. */
  scanHeadersMs: number;
  scanBodyMs: number;
  /** The connector's CPU per record (map, serialize, batch, sign; the CPU section measures 40-80 us). */
  cpuPerRecordMs: number;
  /** A post of `rowsPerPost` rows (4 MiB); one is in flight at a time. */
  postMs: number;
  rowsPerPost: number;
  /** The last post and checkpoint after fetching stops. */
  finishMs: number;
}

/**
 * Answers well inside the 2 s a request slot lasts at 30 a minute: what the schedule and the paging leave of the API
 * budget when nothing else limits. Each scan request needs the answer before it (`nextQueryFilters`), so a scan can
 * make 30 requests a minute only if a page takes under 2 s.
 */
export const PROMPT_ANSWERS: CatchUpCosts = {
  name: 'prompt answers',
  startMs: 3_000,
  keysetAnswerMs: 300,
  scanHeadersMs: 1_000,
  scanBodyMs: 500,
  cpuPerRecordMs: 0.08,
  postMs: 300,
  rowsPerPost: 1_100,
  finishMs: 3_000,
};

/** Cautious answers: a scan page takes 3.5 s and a 4 MiB post 1 s, so the posts, not MCAS, set the pace in scan mode. */
export const SLOW_ANSWERS: CatchUpCosts = {
  ...PROMPT_ANSWERS,
  name: 'slow answers',
  keysetAnswerMs: 600,
  scanHeadersMs: 2_000,
  scanBodyMs: 1_500,
  postMs: 1_000,
};

type Policy = 'before' | 'auto';

interface Tenant {
  perDay: number;
  policy: Policy;
  costs: CatchUpCosts;
}

interface Outcome {
  /**
   * At every run's end (ms since the start): the lag then (now - checkpoint), and the most it was during the run (its
   * end less the checkpoint it started from), which bounds the lag at any moment.
   */
  lags: { atMs: number; lagMs: number; worstMs: number }[];
  requests: { atMs: number }[];
  read: number;
  ticks: number;
  skippedTicks: number;
  longestRunMs: number;
  /** Runs whose end passed the next run's start: the host would have skipped that tick. */
  overlaps: number;
  clearedAtMs: number | undefined;
}

/** A clock that sleeps by moving time on: the simulation is one actor at a time (runs never overlap). */
class VirtualClock implements Clock {
  now = 0;
  nowMs(): number {
    return this.now;
  }
  sleep: Sleep = (ms) => {
    this.now += Math.max(0, ms);
    return Promise.resolve();
  };
}

/**
 * Simulates `durationMs` of timer runs for a tenant saving `perDay` activities a day evenly, starting `lagMs` behind.
 * Stops early once `stopWhenLagBelowMs` is reached (the backlog is cleared).
 */
async function simulate(
  tenant: Tenant,
  options: { lagMs: number; durationMs: number; stopWhenLagBelowMs?: number },
): Promise<Outcome> {
  const costs = tenant.costs;
  const ratePerMs = tenant.perDay / DAY_MS;
  const clock = new VirtualClock();
  const startMs = 1_000 * DAY_MS;
  clock.now = startMs;
  let cursorMs = startMs - options.lagMs;
  const outcome: Outcome = {
    lags: [],
    requests: [],
    read: 0,
    ticks: 0,
    skippedTicks: 0,
    longestRunMs: 0,
    overlaps: 0,
    clearedAtMs: undefined,
  };
  const sharedPacer = new RequestPacer({ maxRequests: REQUESTS_PER_MINUTE, clock, sleep: clock.sleep });
  let busyUntilMs = 0;
  for (let tickMs = startMs; tickMs < startMs + options.durationMs; tickMs += TICK_MS) {
    outcome.ticks++;
    if (busyUntilMs > tickMs) {
      outcome.skippedTicks++;
      continue;
    }
    clock.now = tickMs + costs.startMs;
    const runStartMs = clock.now;
    const cursorAtStartMs = cursorMs;
    const windowEndMs = runStartMs - SETTLE_MS;
    const deadlines =
      tenant.policy === 'auto'
        ? runDeadlines({ startedMs: runStartMs, budgetMs: BUDGET_MS, nextTickMs: tickMs + TICK_MS, lastTickMs: tickMs })
        : runDeadlines({ startedMs: runStartMs, budgetMs: BUDGET_MS });
    const pacer =
      tenant.policy === 'auto'
        ? sharedPacer
        : new RequestPacer({ maxRequests: REQUESTS_PER_MINUTE, clock, sleep: clock.sleep });
    /** When the connector's consumer (mapping, posting) is free again; pages are fetched one ahead of it. */
    let consumerFreeMs = runStartMs;
    const consume = (records: number): void => {
      const perRecordMs = Math.max(costs.cpuPerRecordMs, costs.postMs / costs.rowsPerPost);
      consumerFreeMs = Math.max(consumerFreeMs, clock.now) + records * perRecordMs;
      outcome.read += records;
    };
    /** One paced request answered after `headersMs` (+ `bodyMs`); false when it would pass the hard deadline. */
    const request = async (headersMs: number, bodyMs: number): Promise<boolean> => {
      // Fetch one page ahead of the consumer, as prefetchOne does.
      clock.now = Math.max(clock.now, consumerFreeMs - (headersMs + bodyMs));
      try {
        const release = await pacer.acquire({ deadlineMs: deadlines.hardDeadlineMs });
        clock.now += headersMs;
        release();
        clock.now += bodyMs;
      } catch (error) {
        if (error instanceof DeadlineReachedError) return false;
        throw error;
      }
      outcome.requests.push({ atMs: clock.now });
      return clock.now < deadlines.hardDeadlineMs;
    };
    const requestsLeft = (): number =>
      Math.max(0, Math.floor(((deadlines.softDeadlineMs - clock.now) / MINUTE_MS) * REQUESTS_PER_MINUTE));

    let mode: PagingMode = 'keyset';
    let msPerPage: number | undefined;
    let subWindowMs = FIRST_SUB_WINDOW_MS;
    let first = true;
    while (cursorMs < windowEndMs && clock.now < deadlines.softDeadlineMs) {
      if (mode === 'keyset') {
        if (!(await request(costs.keysetAnswerMs, 0))) break;
        const left = ratePerMs * (windowEndMs - cursorMs);
        const records = Math.min(KEYSET_NEW_PER_PAGE, left);
        consume(records);
        cursorMs = records < left ? cursorMs + records / ratePerMs : windowEndMs;
        if (first && tenant.policy === 'auto') {
          // The first answer's `total` counts the whole window in front of the run.
          const backlog = estimateBacklog({ total: left, ratePerMs: undefined, remainingWindowMs: 0 });
          mode = choosePaging({ backlog, requestsLeft: requestsLeft(), keysetPageSize: KEYSET_PAGE, current: mode });
        }
        first = false;
        continue;
      }
      // One scan sub-window: its pages, or nothing when the hard deadline cuts it (the next run reads it again). As
      // the run loop does, none is started that the hard deadline would cut at the pace of the one before.
      const fit =
        msPerPage === undefined ? TARGET_PAGES : Math.floor((deadlines.hardDeadlineMs - clock.now) / msPerPage) - 1;
      if (fit < 1) break;
      if (fit < TARGET_PAGES) subWindowMs = Math.max(MINUTE_MS, Math.floor((subWindowMs * fit) / TARGET_PAGES));
      const subStartedMs = clock.now;
      const subEndMs = Math.min(windowEndMs, cursorMs + subWindowMs);
      const count = ratePerMs * (subEndMs - cursorMs);
      if (!(await request(costs.scanHeadersMs, costs.scanBodyMs))) break;
      if (subWindowMs > MINUTE_MS && count > MAX_SUB_WINDOW_TOTAL) {
        subWindowMs = nextSubWindowMs(subEndMs - cursorMs, count, SCAN_PAGE, TARGET_PAGES);
        continue;
      }
      consume(Math.min(SCAN_PAGE, count));
      let complete = true;
      for (let page = 1; page < Math.ceil(count / SCAN_PAGE); page++) {
        if (!(await request(costs.scanHeadersMs, costs.scanBodyMs))) {
          complete = false;
          break;
        }
        consume(Math.min(SCAN_PAGE, count - page * SCAN_PAGE));
      }
      if (!complete) break;
      subWindowMs = nextSubWindowMs(subEndMs - cursorMs, count, SCAN_PAGE, TARGET_PAGES);
      msPerPage = (clock.now - subStartedMs) / Math.max(1, Math.ceil(count / SCAN_PAGE));
      cursorMs = subEndMs;
      const backlog = estimateBacklog({ total: undefined, ratePerMs, remainingWindowMs: windowEndMs - cursorMs });
      mode = choosePaging({ backlog, requestsLeft: requestsLeft(), keysetPageSize: KEYSET_PAGE, current: mode });
    }
    const endMs = Math.max(clock.now, consumerFreeMs) + costs.finishMs;
    outcome.longestRunMs = Math.max(outcome.longestRunMs, endMs - tickMs);
    if (endMs > tickMs + TICK_MS && tenant.policy === 'auto') outcome.overlaps++;
    busyUntilMs = endMs;
    clock.now = endMs;
    const lagMs = endMs - cursorMs;
    outcome.lags.push({ atMs: endMs - startMs, lagMs, worstMs: endMs - cursorAtStartMs });
    if (outcome.clearedAtMs === undefined && lagMs < (options.stopWhenLagBelowMs ?? -1)) {
      outcome.clearedAtMs = endMs - startMs;
      break;
    }
  }
  return outcome;
}

/** Share of 30 requests a minute used between `fromMs` and `toMs` (ms since the start). */
function budgetShare(outcome: Outcome, startMs: number, fromMs: number, toMs: number): number {
  const used = outcome.requests.filter((r) => r.atMs - startMs >= fromMs && r.atMs - startMs < toMs).length;
  return used / (((toMs - fromMs) / MINUTE_MS) * REQUESTS_PER_MINUTE);
}

const TENANTS_PER_DAY = [1_000_000, 5_000_000, 20_000_000, 50_000_000];
const LAG_TARGET_MS = 15 * MINUTE_MS;
const CLEAR_TARGET_MS = 2 * 60 * MINUTE_MS;

/** The policies and answer times simulated; only auto is judged, with prompt answers for the API budget. */
const CASES: readonly { policy: Policy; costs: CatchUpCosts; label: string }[] = [
  { policy: 'before', costs: SLOW_ANSWERS, label: 'as before (keyset; 480 s budget, fetching stops at 75 %)' },
  { policy: 'auto', costs: PROMPT_ANSWERS, label: 'MCAS_PAGING=auto, runs end before the next tick' },
  { policy: 'auto', costs: SLOW_ANSWERS, label: 'MCAS_PAGING=auto, runs end before the next tick' },
];

function describeCosts(c: CatchUpCosts): string {
  return (
    `${c.name}: keyset page ${c.keysetAnswerMs} ms, scan page ${c.scanHeadersMs} + ${c.scanBodyMs} ms, ` +
    `4 MiB post ${c.postMs} ms, ${c.cpuPerRecordMs * 1000} us CPU a record`
  );
}

export async function benchCatchUp(log: (line: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const startMs = 1_000 * DAY_MS;
  for (const { policy, costs, label } of CASES) {
    const section = `Catch-up, simulated clock, timer every 5 min: ${label}; ${describeCosts(costs)}`;
    for (const perDay of TENANTS_PER_DAY) {
      const tenant = { perDay, policy, costs };
      const name = `${perDay / 1_000_000} M/day (${thousands(perDay / 1440)}/min)`;
      // Steady lag: from near the head, 12 hours, judged after the first 2.
      const steady = await simulate(tenant, { lagMs: 10 * MINUTE_MS, durationMs: DAY_MS / 2 });
      const settled = steady.lags.filter((l) => l.atMs >= 2 * 60 * MINUTE_MS);
      const maxLagMs = Math.max(...settled.map((l) => l.worstMs));
      const growing = (settled.at(-1)?.lagMs ?? 0) > (settled[0]?.lagMs ?? 0) + 60 * MINUTE_MS;
      // A one-day backlog: until the lag is under 15 minutes, at most 3 days.
      const backlog = await simulate(tenant, {
        lagMs: DAY_MS,
        durationMs: 3 * DAY_MS,
        stopWhenLagBelowMs: LAG_TARGET_MS,
      });
      const clearMs = backlog.clearedAtMs;
      const hourMs = Math.min(60 * MINUTE_MS, clearMs ?? 60 * MINUTE_MS);
      const share = budgetShare(backlog, startMs, 0, hourMs);
      const floor = Math.ceil(backlog.read / SCAN_PAGE);
      const perMinute = clearMs !== undefined ? backlog.read / (clearMs / MINUTE_MS) : Number.NaN;
      const lag = growing ? `lag grows without bound` : `steady lag <= ${fixed(maxLagMs / MINUTE_MS, 1)} min`;
      const clear =
        clearMs === undefined
          ? 'a one-day backlog not cleared in 3 days'
          : `a one-day backlog cleared in ${fixed(clearMs / 60 / MINUTE_MS, 2)} h at ${thousands(perMinute)}/min ` +
            `(${fixed((perMinute / PHYSICAL_PER_MINUTE) * 100, 1)} % of ${thousands(PHYSICAL_PER_MINUTE)}/min)`;
      const budget =
        `API budget used ${fixed(share * 100, 1)} % over the first ${fixed(hourMs / MINUTE_MS, 0)} min; ` +
        `${thousands(backlog.requests.length)} requests, ${fixed(backlog.requests.length / Math.max(1, floor), 2)}x ` +
        `the floor ceil(read / 5,000) = ${thousands(floor)}`;
      const runs =
        `longest run ${fixed(backlog.longestRunMs / 1000, 0)} s; ${backlog.skippedTicks} of ${backlog.ticks} ticks ` +
        `skipped; ${backlog.overlaps} runs past the next tick`;
      log(`  ${label}, ${costs.name}, ${name}: ${lag}; ${clear}; ${budget}; ${runs}`);
      const targets: string[] = [];
      let pass: boolean | undefined;
      if (policy === 'auto') {
        const checks: boolean[] = [backlog.overlaps === 0, backlog.longestRunMs < FUNCTION_TIMEOUT_MS];
        targets.push('no run past the next tick or functionTimeout (10 min)');
        if (perDay === 20_000_000) {
          targets.push('20 M/day: lag <= 15 min');
          checks.push(!growing && maxLagMs <= LAG_TARGET_MS);
        }
        if (perDay === 5_000_000) {
          targets.push('5 M/day: one-day backlog < 2 h');
          checks.push(clearMs !== undefined && clearMs < CLEAR_TARGET_MS);
        }
        if (costs === PROMPT_ANSWERS && (clearMs === undefined || clearMs >= 60 * MINUTE_MS)) {
          targets.push('>= 95 % of the API budget over the hour');
          checks.push(share >= 0.95);
        }
        pass = checks.every(Boolean);
      }
      rows.push({
        section,
        figure: name,
        measured: `${lag}; ${clear}; ${budget}; ${runs}`,
        target: `${targets.length > 0 ? `${targets.join('; ')}. ` : ''}Physical limit ${thousands(PHYSICAL_PER_MINUTE)}/min (${fixed((PHYSICAL_PER_MINUTE * 1440) / 1e6, 0)} M/day)`,
        ...(pass === undefined ? {} : { pass }),
      });
    }
  }
  return rows;
}
