// Backfill: load a historical `created` range with its own checkpoint, so it is resumable and never touches or races
// the live timer's checkpoint. What the live stream already covers is left out, not sent twice.
import { readConfig } from './config.js';
import type { Logger } from './logger.js';
import type { RunProgress, RunSummary } from './run.js';
import { runOnce } from './runOnce.js';
import { ACTIVITIES } from './streams.js';
import { createCheckpointStore, defaultCredential, type WiringOverrides } from './wiring.js';

export interface BackfillOptions {
  fromMs: number;
  toMs: number;
  dryRun?: boolean;
  /** How long this invocation may run; a later invocation resumes. */
  timeBudgetMs: number;
  onProgress?: (progress: RunProgress) => void;
  overrides?: WiringOverrides;
}

export interface BackfillResult {
  /** The backfill's own checkpoint stream, e.g. backfill-m1a2b3-m1c4d5. */
  name: string;
  /** The range actually loaded: [fromMs, endMs]; endMs < toMs when the live stream already covers the rest. */
  endMs: number;
  /** Where the live stream started reading (its origin), when it has one. */
  liveOriginMs: number | undefined;
  summary: RunSummary | undefined;
}

/** The backfill's checkpoint name: stable for the same range, so running the same command again resumes it. */
export function backfillName(fromMs: number, toMs: number): string {
  return `backfill-${Math.floor(fromMs / 1000).toString(36)}-${Math.floor(toMs / 1000).toString(36)}`;
}

export async function runBackfill(
  env: NodeJS.ProcessEnv,
  log: Logger,
  options: BackfillOptions,
): Promise<BackfillResult> {
  const config = readConfig(env);
  const name = backfillName(options.fromMs, options.toMs);
  const credential = async () => options.overrides?.credential ?? defaultCredential(config);
  const live = await (await createCheckpointStore(config.checkpoint, ACTIVITIES.name, credential)).load();
  const liveOriginMs = live?.checkpoint.origin;
  let endMs = options.toMs;
  if (liveOriginMs !== undefined && liveOriginMs <= options.toMs) {
    endMs = liveOriginMs - 1;
    log.warn(
      `The live stream has covered created >= ${new Date(liveOriginMs).toISOString()} (its checkpoint is at ` +
        `${new Date(live?.checkpoint.cursor ?? liveOriginMs).toISOString()}); the backfill stops at ` +
        `${new Date(endMs).toISOString()} so nothing is sent twice.`,
    );
  } else if (live && liveOriginMs === undefined) {
    log.warn('The live checkpoint does not say where the live stream started; overlap with it cannot be left out.');
  }
  if (endMs < options.fromMs) {
    log.info('Nothing to backfill: the live stream already covers the whole range.');
    return { name, endMs, liveOriginMs, summary: undefined };
  }
  log.info(`Backfill ${name}: created ${new Date(options.fromMs).toISOString()} .. ${new Date(endMs).toISOString()}.`);
  const summary = await runOnce(env, log, {
    stream: { ...ACTIVITIES, name },
    window: { startMs: options.fromMs, endMs },
    timeBudgetMs: options.timeBudgetMs,
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
  return { name, endMs, liveOriginMs, summary };
}
