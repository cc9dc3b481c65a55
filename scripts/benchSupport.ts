// Shared pieces of `npm run bench`: the result row, the bench data set (realistic `created` ties), statistics, and a
// wrapper that records what each MCAS page call returned and when. Measurement helpers only; no timed assertions.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { generateActivities, type RawActivity } from '../emulators/activityGenerator.js';
import type { ChildResult } from './benchChild.js';

/** One line of the bench table. `pass` is undefined for figures shown for information only. */
export interface BenchRow {
  section: string;
  figure: string;
  measured: string;
  /** The floor or target the figure is judged against, in words. */
  target: string;
  pass?: boolean;
}

export const HOUR_MS = 3600_000;
/** The bench data set is saved over this span, ending an hour before the run (inside Azure's TimeGenerated range). */
export const DATA_SPAN_MS = 24 * HOUR_MS;
/** A lookback that covers the whole data set. */
export const LOOKBACK_MS = DATA_SPAN_MS + 3 * HOUR_MS;

/** True when BENCH_QUICK=1: smaller data sets and no 1,000,000-activity run. */
export function isQuick(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['BENCH_QUICK'] === '1';
}

/**
 * `count` activities saved evenly over DATA_SPAN_MS up to an hour ago, with realistic ties: after every nine single
 * records, two or three share one millisecond of `created`.
 */
export function benchActivities(count: number, nowMs = Date.now()): RawActivity[] {
  if (count > DISTINCT_ACTIVITIES) return scaledActivities(count, nowMs);
  return generateActivities({
    count,
    startCreatedMs: nowMs - HOUR_MS - DATA_SPAN_MS,
    seed: 4242,
    tiesEvery: 10,
    maxTie: 3,
    spanMs: DATA_SPAN_MS,
  });
}

/** Activities generated in full; larger sets repeat their nested parts (scaledActivities). */
const DISTINCT_ACTIVITIES = 100_000;

/**
 * More than DISTINCT_ACTIVITIES activities for the 1,000,000 runs: copy k of generated activity j shares j's nested
 * objects and takes its own `_id`, `uid` and a `created` k * 7 ms later (inside the mean gap of 864 ms, so ties stay as
 * generated, one group per copy). The connector sees records of the same size and shape as the generated ones; the
 * emulator holds a tenth of the objects (a million records in full took over 10 GB in the host, more than this shared
 * machine should give a bench).
 */
function scaledActivities(count: number, nowMs: number): RawActivity[] {
  const base = benchActivities(DISTINCT_ACTIVITIES, nowMs);
  const activities: RawActivity[] = [];
  for (let copy = 0; activities.length < count; copy++) {
    for (const activity of base) {
      if (activities.length === count) break;
      if (copy === 0) activities.push(activity);
      else {
        const id = `${String(activity['_id'])}-${copy}`;
        const created = (activity['created'] as number) + copy * 7;
        activities.push({ ...activity, _id: id, uid: id, created, createdRaw: created });
      }
    }
  }
  return activities;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

export function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** What one MCAS page call returned, and when it finished (performance.now() ms). */
export interface ObservedCall {
  doneMs: number;
  returned: number;
  /** Records whose `_id` no earlier call returned. */
  fresh: number;
  /** The request's `created` filter, which names the scan or sub-window the page belongs to. */
  createdFilter: string;
}

/**
 * Wraps an MCAS client so that every method returning a page is observed. `beforeCall(n)` runs before the n-th call
 * (1-based) is sent, so a caller can hold it back. Methods are called on the real client, whose private fields a
 * Proxy receiver could not reach.
 */
export function observeClient<T extends object>(
  client: T,
  beforeCall?: (callNumber: number) => Promise<void>,
): { client: T; calls: ObservedCall[] } {
  const calls: ObservedCall[] = [];
  const seen = new Set<string>();
  let started = 0;
  const proxy = new Proxy(client, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]): Promise<unknown> => {
        await beforeCall?.(++started);
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const data = (result as { data?: unknown } | undefined)?.data;
        // A scan page's records are parsed lazily, once, by the run (McasClient.parsePage): they are counted, not read
        // here. Scan pages do not repeat records within a scan, so all of them are new.
        const lazy = !Array.isArray(data) && typeof data === 'object' && data !== null && 'length' in data;
        if (Array.isArray(data) || lazy) {
          let fresh = 0;
          if (lazy) fresh = Number(data.length);
          else {
            for (const raw of data as unknown[]) {
              const id = String((raw as { _id?: unknown })._id);
              if (!seen.has(id)) {
                seen.add(id);
                fresh++;
              }
            }
          }
          const query = args.find(
            (arg): arg is { filters: Record<string, unknown> } =>
              typeof arg === 'object' && arg !== null && 'filters' in arg,
          );
          calls.push({
            doneMs: performance.now(),
            returned: Number(data.length),
            fresh,
            createdFilter: JSON.stringify(query?.filters['created']),
          });
        }
        return result;
      };
    },
  });
  return { client: proxy, calls };
}

const CHILD = fileURLToPath(new URL('./benchChild.js', import.meta.url));

/**
 * Runs scripts/benchChild.ts once against `stack` (emulators in this process and its worker) with the stack's settings,
 * a lookback over the whole bench data set, no settle margin, and `extra` settings; returns its result line.
 */
export async function runChild(
  stack: { settings: Record<string, string> },
  extra: Record<string, string>,
): Promise<ChildResult> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    ...stack.settings,
    CHECKPOINT_STORE: 'file:unused',
    CREATED_SETTLE_SECONDS: '0',
    INITIAL_LOOKBACK_MINUTES: String(LOOKBACK_MS / 60_000),
    RUN_TIME_BUDGET_SECONDS: String(3 * 3600),
    ...extra,
  };
  const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`the bench child exited with ${code}`);
  const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ChildResult;
  if (result.moreToDo) throw new Error('the bench child stopped at its time budget');
  return result;
}
