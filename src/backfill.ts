// Backfill: load a historical `created` range with its own checkpoint, so it is resumable and never touches or races
// the live timer's checkpoint. What the live stream already covers is left out, not sent twice.
import { readConfig } from './config.js';
import type { Logger } from './logger.js';
import type { RunProgress, RunSummary } from './run.js';
import { runOnce } from './runOnce.js';
import { ACTIVITIES, type StreamSpec } from './streams.js';
import { createCheckpointStore, defaultCredential, type WiringOverrides } from './wiring.js';

export interface BackfillOptions {
  /** What to load; activities unless told otherwise. */
  stream?: StreamSpec;
  fromMs: number;
  toMs: number;
  dryRun?: boolean;
  /** How long this invocation may run; a later invocation resumes. */
  timeBudgetMs: number;
  onProgress?: (progress: RunProgress) => void;
  overrides?: WiringOverrides;
}

export interface BackfillResult {
  /** The backfill's own checkpoint stream, e.g. backfill-20260101-000000-20260201-000000. */
  name: string;
  /** The range actually loaded: [fromMs, endMs]; endMs < toMs when the live stream already covers the rest. */
  endMs: number;
  /** Where the live stream started reading (its origin), when it has one. */
  liveOriginMs: number | undefined;
  summary: RunSummary | undefined;
}

/**
 * The backfill's checkpoint name, the range in UTC to the second (backfill-20260101-000000-20260201-000000; alerts:
 * backfill-alerts-…): stable for the same range, so running the same command again resumes it.
 */
export function backfillName(fromMs: number, toMs: number, stream: StreamSpec = ACTIVITIES): string {
  const stamp = (ms: number): string =>
    new Date(Math.floor(ms / 1000) * 1000)
      .toISOString()
      .replace(/\.000Z$/, '')
      .replace(/[-:]/g, '')
      .replace('T', '-');
  const prefix = stream === ACTIVITIES ? 'backfill' : `backfill-${stream.name}`;
  return `${prefix}-${stamp(fromMs)}-${stamp(toMs)}`;
}

/** The name earlier versions gave a backfill (base-36 seconds), so a backfill started with one of them resumes. */
export function legacyBackfillName(fromMs: number, toMs: number): string {
  return `backfill-${Math.floor(fromMs / 1000).toString(36)}-${Math.floor(toMs / 1000).toString(36)}`;
}

export async function runBackfill(
  env: NodeJS.ProcessEnv,
  log: Logger,
  options: BackfillOptions,
): Promise<BackfillResult> {
  const config = readConfig(env);
  const stream = options.stream ?? ACTIVITIES;
  const credential = async () => options.overrides?.credential ?? defaultCredential(config);
  const store = (name: string) => createCheckpointStore(config.checkpoint, name, credential, { log });
  const name = await resumableName(options, stream, store, log);
  const live = await (await store(stream.name)).load();
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
    log.warn(`The live ${stream.name} checkpoint does not say where it started; overlap with it cannot be left out.`);
  }
  if (endMs < options.fromMs) {
    log.info('Nothing to backfill: the live stream already covers the whole range.');
    return { name, endMs, liveOriginMs, summary: undefined };
  }
  log.info(
    `Backfilling ${stream.name} with ${stream.cursorField} ${new Date(options.fromMs).toISOString()} .. ` +
      `${new Date(endMs).toISOString()}, under its own checkpoint ${name}.`,
  );
  const summary = await runOnce(env, log, {
    stream: { ...stream, name },
    window: { startMs: options.fromMs, endMs },
    timeBudgetMs: options.timeBudgetMs,
    ...(options.dryRun ? { dryRun: true } : {}),
    // A resumed backfill counts its share done from the range's start, not from where this invocation began.
    ...(options.onProgress
      ? { onProgress: (p: RunProgress) => options.onProgress?.({ ...p, rangeStartMs: options.fromMs }) }
      : {}),
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
  return { name, endMs, liveOriginMs, summary };
}

/** This range's checkpoint name; the earlier base-36 name when a backfill of the range was started under it. */
async function resumableName(
  options: BackfillOptions,
  stream: StreamSpec,
  store: (name: string) => Promise<{ load(): Promise<unknown> }>,
  log: Logger,
): Promise<string> {
  const name = backfillName(options.fromMs, options.toMs, stream);
  if (stream !== ACTIVITIES || options.overrides?.checkpoints) return name;
  const legacy = legacyBackfillName(options.fromMs, options.toMs);
  if ((await (await store(name)).load()) !== undefined || (await (await store(legacy)).load()) === undefined)
    return name;
  log.info(`Resuming this range's backfill under the name it was started with, ${legacy}.`);
  return legacy;
}
