// One ingestion cycle from app settings: config, secrets, real clients, the run, its report, clean-up. Shared by the
// timer functions and the CLI, and loaded lazily by the functions so the host's cold start stays small.
import { type Config, readConfig } from './config.js';
import { ensureError } from './errors.js';
import type { Logger } from './logger.js';
import { runIngestion, type RunOptions, type RunSummary, summaryOfFailedRun } from './run.js';
import { loadSecrets } from './secrets.js';
import { ACTIVITIES, type StreamSpec } from './streams.js';
import type { RunReport } from './telemetry/RunReport.js';
import { createDependencies, type Runtime, type WiringOverrides } from './wiring.js';

export interface RunOnceOptions {
  stream?: StreamSpec;
  window?: RunOptions['window'];
  dryRun?: boolean;
  /** Overrides the settings' time budget (backfills run longer than a timer may). */
  timeBudgetMs?: number;
  /** A timer run's next and last ticks, so that it ends before the next one (RunOptions.schedule). */
  schedule?: RunOptions['schedule'];
  onProgress?: RunOptions['onProgress'];
  overrides?: WiringOverrides;
  /** Multi-tenant mode: the registry key of the tenant, carried by the run report. */
  tenant?: string;
}

/**
 * Reads settings from `env`, runs once and returns the summary; any failure is thrown for the caller to report.
 * Either way, one structured report line is logged, stored beside the checkpoint, and sent to telemetry.
 */
export async function runOnce(env: NodeJS.ProcessEnv, log: Logger, options: RunOnceOptions = {}): Promise<RunSummary> {
  const config = readConfig(env);
  const secrets = await loadSecrets(config.secrets, {
    log,
    managedIdentityClientId: config.managedIdentityClientId,
    ...(options.overrides?.credential ? { credential: options.overrides.credential } : {}),
  });
  const stream = options.stream ?? ACTIVITIES;
  const overrides = { ...(options.schedule ? { sharePacer: true } : {}), ...options.overrides };
  const runtime = await createDependencies(config, secrets, log, overrides, stream);
  const startedMs = runtime.deps.clock.nowMs();
  try {
    const summary = await runIngestion(runtime.deps, {
      ...runOptions(config, options, stream),
      stream,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    await report(runtime, options, buildReport(stream, runtime, startedMs, summary));
    return summary;
  } catch (error) {
    // What the run delivered and checkpointed before it failed; none of it when it failed before it began.
    // A server may have echoed a secret into the error: redacted before it is reported, stored or thrown.
    const e = runtime.redactor.redactError(ensureError(error));
    await report(runtime, options, {
      ...buildReport(stream, runtime, startedMs, summaryOfFailedRun(error)),
      outcome: 'failed',
      error: `${e.name}: ${e.message}`.slice(0, 1_000),
    });
    throw error;
  } finally {
    await runtime.close();
  }
}

/** The run options a config implies; exported for the CLI's backfill and for tests. */
export function runOptions(
  config: Config,
  options: Pick<RunOnceOptions, 'window' | 'dryRun' | 'timeBudgetMs' | 'schedule'> = {},
  stream: StreamSpec = ACTIVITIES,
): RunOptions {
  return {
    initialLookbackMs: config.run.initialLookbackMs,
    settleMs: config.run.settleMs,
    timeBudgetMs: options.timeBudgetMs ?? config.run.timeBudgetMs,
    pageSize: config.mcas.pageSize,
    maxBatchBytes: config.logAnalytics.maxBatchBytes,
    extraFilters: config.mcas.extraFilters,
    paging: pagingOptions(config, stream),
    window: options.window,
    schedule: options.schedule,
    dryRun: options.dryRun ?? false,
  };
}

/** The paging a config implies for `stream`; `auto` reads alerts in keyset pages (scan mode is for activities). */
function pagingOptions(config: Config, stream: StreamSpec): RunOptions['paging'] {
  const { paging, scanPageSize, scanWindowMs, maxRequestsPerMinute } = config.mcas;
  if (paging === 'keyset' || (paging === 'auto' && stream.resource !== 'activities')) return { mode: 'keyset' };
  if (paging === 'scan') return { mode: 'scan', pageSize: scanPageSize, windowMs: scanWindowMs };
  return { mode: 'auto', pageSize: scanPageSize, windowMs: scanWindowMs, requestsPerMinute: maxRequestsPerMinute };
}

/** The report of a run; without a summary (the run failed before it began), of a run that did nothing. */
function buildReport(stream: StreamSpec, runtime: Runtime, startedMs: number, summary?: RunSummary): RunReport {
  const nowMs = runtime.deps.clock.nowMs();
  const cursorMs = summary ? Date.parse(summary.checkpoint) : Number.NaN;
  return {
    stream: stream.name,
    outcome: 'succeeded',
    startedAt: new Date(startedMs).toISOString(),
    durationMs: nowMs - startedMs,
    fetched: summary?.fetched ?? 0,
    sent: summary?.sent ?? 0,
    flagged: summary?.flagged ?? 0,
    batches: summary?.batches ?? 0,
    pages: summary?.pages ?? 0,
    ...runtime.counters(),
    lagMinutes: Number.isNaN(cursorMs) ? -1 : Math.round(((nowMs - cursorMs) / 60_000) * 10) / 10,
    moreToDo: summary?.moreToDo ?? false,
    checkpoint: summary?.checkpoint ?? '',
  };
}

/** Logs the report as one structured line, stores it beside the checkpoint and sends it on; never throws. */
async function report(runtime: Runtime, options: RunOnceOptions, stream: RunReport): Promise<void> {
  const runReport = options.tenant === undefined ? stream : { ...stream, tenant: options.tenant };
  const { log, checkpoints } = runtime.deps;
  log.info(`Run report ${JSON.stringify(runReport)}`);
  if (options.dryRun) return;
  await checkpoints.saveReport(runReport).catch((error: unknown) => {
    log.warn(`Could not store the run report: ${ensureError(error).message}`);
  });
  await runtime.telemetry.trackRun(runReport);
}
