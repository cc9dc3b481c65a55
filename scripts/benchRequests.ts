// Bench sections on requests: MCAS requests and Log Analytics posts beside their floors (keyset, one scan, adaptive
// scan sub-windows), and sustained throughput under a scaled MCAS rate limit with and without one page of prefetch.
// The emulators run in this process and its worker (scripts/benchStack.ts); the connector runs in
// scripts/benchChild.ts, as it would against real services.
import type { RawActivity } from '../emulators/activityGenerator.js';
import type { McasEmulatorOptions } from '../emulators/mcasEmulator.js';
import type { ChildResult } from './benchChild.js';
import { startBenchStack } from './benchStack.js';
import {
  benchActivities,
  type BenchRow,
  fixed,
  isQuick,
  type ObservedCall,
  runChild,
  thousands,
} from './benchSupport.js';

/**
 * Microsoft's limit is 30 requests a minute; the bench runs it 60 times faster. The pacer counts a slot from the answer,
 * so each slot costs a window plus one answer time, which the faster scale makes weigh more than in production.
 */
const RATE_REQUESTS = 30;
const RATE_WINDOW_MS = 1000;
/**
 * MCAS answer time added for the prefetch comparison without a rate limit. A timer, not CPU: on two cores, loopback
 * answers alone leave both processes busy, and overlapping work with work cannot show.
 */
const LATENCY_MS = 10;

interface Measured {
  child: ChildResult;
  calls: ObservedCall[];
  mcasRequests: number;
  throttled: number;
  posts: number;
  postBytes: number;
}

/** One observed run of the child against a fresh stack; checks that every activity arrived exactly once. */
async function measure(
  activities: readonly RawActivity[],
  settings: Record<string, string>,
  mcas: Omit<McasEmulatorOptions, 'activities' | 'token'> = {},
): Promise<Measured> {
  const stack = await startBenchStack(activities, mcas);
  try {
    const child = await runChild(stack, { BENCH_OBSERVE: '1', ...settings });
    const received = await stack.logAnalytics();
    if (received.rows !== activities.length || received.distinct !== activities.length) {
      throw new Error(
        `Log Analytics received ${received.rows} rows, ${received.distinct} distinct, of ${activities.length}`,
      );
    }
    return {
      child,
      calls: child.calls ?? [],
      mcasRequests: stack.mcas.requests.length,
      throttled: stack.mcas.requests.filter((request) => request.status === 429).length,
      posts: received.posts,
      postBytes: received.postBytes,
    };
  } finally {
    await stack.close();
  }
}

/** Minutes the requests need at Microsoft's 30 a minute (the sliding window lets the first 30 go at once). */
function minutesAtThrottle(requests: number): number {
  return Math.max(0, requests - 30) / 30;
}

/**
 * Records of the largest scan (sub-window): with the batch in flight, the most a crash can make the next run send again
 * in scan mode.
 */
function largestSubWindow(calls: readonly ObservedCall[]): number {
  const perWindow = new Map<string, number>();
  for (const call of calls) perWindow.set(call.createdFilter, (perWindow.get(call.createdFilter) ?? 0) + call.fresh);
  return Math.max(0, ...perWindow.values());
}

interface Mode {
  label: string;
  settings: Record<string, string>;
  pageSize: number;
  crashBound: (run: Measured, count: number) => string;
}

const MODES: readonly Mode[] = [
  {
    label: 'keyset, page 100',
    settings: { MCAS_PAGING: 'keyset' },
    pageSize: 100,
    crashBound: (run) => `one batch (${thousands(run.child.sent / Math.max(1, run.child.batches))} rows on average)`,
  },
  {
    label: 'scan, page 5000, one scan',
    settings: { MCAS_PAGING: 'scan', MCAS_SCAN_WINDOW_MINUTES: '0' },
    pageSize: 5000,
    crashBound: (_run, count) => `the whole window (${thousands(count)} rows)`,
  },
  {
    label: 'scan, page 5000, 60-min sub-windows',
    settings: { MCAS_PAGING: 'scan', MCAS_SCAN_WINDOW_MINUTES: '60' },
    pageSize: 5000,
    crashBound: (run) =>
      `one sub-window plus one batch (the largest sub-window here: ${thousands(largestSubWindow(run.calls))} rows; ` +
      `${thousands(run.child.sent / Math.max(1, run.child.batches))} rows a batch on average)`,
  },
];

/** Requests and posts beside their floors, for keyset, one scan, and adaptive scan sub-windows; scan beside keyset. */
export async function benchRequestFloors(log: (line: string) => void): Promise<BenchRow[]> {
  const count = isQuick() ? 10_000 : 100_000;
  const activities = benchActivities(count);
  const section = `Requests (${thousands(count)} activities, 4 MiB batches)`;
  const rows: BenchRow[] = [];
  for (const mode of MODES) {
    log(`  ${mode.label} ...`);
    const run = await measure(activities, mode.settings);
    const returned = run.calls.reduce((sum, call) => sum + call.returned, 0);
    const floor = Math.ceil(count / mode.pageSize);
    const subWindows = new Set(run.calls.map((call) => call.createdFilter)).size;
    let target = `floor ceil(N/${mode.pageSize}) = ${floor}; <= floor + 1`;
    let allowed = floor + 1;
    if (mode.settings['MCAS_PAGING'] === 'keyset') {
      // Keyset re-reads the cursor millisecond's records at each page boundary, on purpose (BENCHMARKS.md): it is
      // judged against the records it had to read.
      allowed = Math.ceil(returned / mode.pageSize) + 1;
      target = `floor ceil(N/100) = ${floor}; <= ceil((N + ${returned - count} re-read)/100) + 1 = ${allowed}`;
    } else if (subWindows > 1) {
      // Every sub-window can end on a partial page, so each can cost one request over its share of the floor.
      target += ` (${subWindows} sub-windows, each can end on a partial page: up to floor + ${subWindows})`;
    }
    rows.push({
      section,
      figure: `${mode.label}: MCAS requests`,
      measured: `${run.mcasRequests} (${fixed(run.mcasRequests / floor, 3)}x floor)`,
      target,
      pass: run.mcasRequests <= allowed,
    });
    const postFloor = Math.ceil(run.postBytes / (4 * 2 ** 20));
    rows.push({
      section,
      figure: `${mode.label}: Log Analytics posts`,
      measured: `${run.posts} (${fixed(run.posts / postFloor, 3)}x floor)`,
      target: `floor ceil(${fixed(run.postBytes / 2 ** 20, 1)} MiB / 4 MiB) = ${postFloor}; <= floor + 1`,
      pass: run.posts <= postFloor + 1,
    });
    rows.push({
      section,
      figure: `${mode.label}: wall time here; at 30 requests/min`,
      measured: `${fixed(run.child.elapsedMs / 1000, 1)} s; >= ${fixed(minutesAtThrottle(run.mcasRequests), 1)} min`,
      target: `duplicates after a crash: at most ${mode.crashBound(run, count)}`,
    });
  }
  return rows;
}

/**
 * Records a second in the steady state, new ones and all returned (keyset re-reads a few at each page boundary). The
 * sliding window lets the first RATE_REQUESTS calls go at once; after that, calls come in bursts of RATE_REQUESTS per
 * window. Measured by completion times over whole cycles: from the end of the first burst to the end of the last
 * complete one, which holds a multiple of RATE_REQUESTS calls.
 */
function steadyThroughput(calls: readonly ObservedCall[]): { fresh: number; returned: number } {
  const cycles = Math.floor((calls.length - RATE_REQUESTS) / RATE_REQUESTS);
  const first = calls[RATE_REQUESTS - 1];
  const last = calls[RATE_REQUESTS * (cycles + 1) - 1];
  if (cycles < 1 || !first || !last) return { fresh: Number.NaN, returned: Number.NaN };
  const steady = calls.slice(RATE_REQUESTS, RATE_REQUESTS * (cycles + 1));
  const perSecond = (records: number): number => (records / (last.doneMs - first.doneMs)) * 1000;
  return {
    fresh: perSecond(steady.reduce((sum, call) => sum + call.fresh, 0)),
    returned: perSecond(steady.reduce((sum, call) => sum + call.returned, 0)),
  };
}

/** Sustained throughput against the rate limit, with and without one page of prefetch; and what prefetch buys unpaced. */
export async function benchThrottle(log: (line: string) => void): Promise<BenchRow[]> {
  const count = isQuick() ? 30_000 : 60_000;
  const activities = benchActivities(count);
  const section = `Throttle (MCAS limit and RequestPacer both ${RATE_REQUESTS} requests per ${RATE_WINDOW_MS} ms)`;
  const ceiling = (100 * RATE_REQUESTS * 1000) / RATE_WINDOW_MS;
  const limited = { rateLimit: { requests: RATE_REQUESTS, perMs: RATE_WINDOW_MS } };
  const rows: BenchRow[] = [];
  for (const serial of [false, true]) {
    const label = serial ? 'prefetch off' : 'prefetch on (as shipped)';
    log(`  paced, ${label} ...`);
    const pace = {
      MCAS_PAGING: 'keyset',
      BENCH_PACE: `${RATE_REQUESTS}/${RATE_WINDOW_MS}`,
      BENCH_SERIAL: serial ? '1' : '0',
    };
    const run = await measure(activities, pace, limited);
    const { fresh, returned } = steadyThroughput(run.calls);
    rows.push({
      section,
      figure: `keyset, ${label}: steady new records/s (all read/s); 429s`,
      measured: `${thousands(fresh)}/s = ${fixed((100 * fresh) / ceiling, 1)} % (${thousands(returned)}/s); ${run.throttled} x 429`,
      target: `>= 95 % of 100 x ${RATE_REQUESTS} per ${RATE_WINDOW_MS / 1000} s = ${thousands(0.95 * ceiling)}/s; 0 x 429`,
      ...(serial ? {} : { pass: fresh >= 0.95 * ceiling && run.throttled === 0 }),
    });
  }
  const delayed = { faults: () => ({ kind: 'delayMs' as const, ms: LATENCY_MS }) };
  const unpaced: number[] = [];
  for (const serial of [false, true]) {
    log(`  unpaced, ${LATENCY_MS} ms answers, prefetch ${serial ? 'off' : 'on'} ...`);
    const run = await measure(activities, { MCAS_PAGING: 'keyset', BENCH_SERIAL: serial ? '1' : '0' }, delayed);
    unpaced.push((count / run.child.elapsedMs) * 1000);
  }
  const [withPrefetch = Number.NaN, without = Number.NaN] = unpaced;
  rows.push({
    section: `Prefetch (no rate limit, MCAS answers delayed ${LATENCY_MS} ms)`,
    figure: 'keyset: records/s, prefetch on / off',
    measured: `${thousands(withPrefetch)} / ${thousands(without)} (x${fixed(withPrefetch / without)})`,
    target: 'what fetching one page ahead buys when answer time and work limit (BENCHMARKS.md)',
  });
  return rows;
}
