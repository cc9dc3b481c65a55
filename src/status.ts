// `cli status`: where a stream is (checkpoint, its age, the lag behind now), how its last run went, and roughly how
// much is waiting in MCAS. Healthy or not is an exit code, so it can serve as a probe.
import { readConfig } from './config.js';
import { ensureError } from './errors.js';
import type { Logger } from './logger.js';
import { minutesAheadOfSource } from './mcas/sourceClock.js';
import { loadSecrets } from './secrets.js';
import { ACTIVITIES, type StreamSpec } from './streams.js';
import type { RunReport } from './telemetry/RunReport.js';
import { createDependencies, type WiringOverrides } from './wiring.js';

export interface StreamStatus {
  stream: string;
  checkpoint: string | undefined;
  /** Minutes since the checkpoint was written. */
  checkpointAgeMinutes: number | undefined;
  /** Minutes between now and the cursor: how far behind MCAS the stream is. */
  lagMinutes: number | undefined;
  lastRun: RunReport | undefined;
  /** MCAS's (approximate) count of records after the cursor; undefined when it could not be asked. */
  backlog: number | undefined;
  backlogError?: string;
  healthy: boolean;
  problems: string[];
}

export interface StatusOptions {
  stream?: StreamSpec;
  maxLagMinutes: number;
  /** Ask MCAS for the backlog (needs the token); default true. */
  backlog?: boolean;
  overrides?: WiringOverrides;
  /** How long the backlog question to MCAS may take in all, retries included (default STATUS_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** A probe must answer quickly: MCAS's backlog count gets this long in all, however slowly MCAS answers. */
export const STATUS_TIMEOUT_MS = 10_000;

export async function readStatus(env: NodeJS.ProcessEnv, log: Logger, options: StatusOptions): Promise<StreamStatus> {
  const config = readConfig(env);
  const stream = options.stream ?? ACTIVITIES;
  const secrets = await loadSecrets(config.secrets, { log, managedIdentityClientId: config.managedIdentityClientId });
  const runtime = await createDependencies(config, secrets, log, options.overrides, stream);
  try {
    const { checkpoints, clock, mcas } = runtime.deps;
    const nowMs = clock.nowMs();
    const [stored, lastRun] = await Promise.all([checkpoints.load(), checkpoints.loadReport()]);
    const minutes = (ms: number): number => Math.round((ms / 60_000) * 10) / 10;
    const status: StreamStatus = {
      stream: stream.name,
      checkpoint: stored ? new Date(stored.checkpoint.cursor).toISOString() : undefined,
      checkpointAgeMinutes: stored ? minutes(nowMs - Date.parse(stored.checkpoint.updatedAt)) : undefined,
      lagMinutes: stored ? minutes(nowMs - stored.checkpoint.cursor) : undefined,
      lastRun,
      backlog: undefined,
      healthy: true,
      problems: [],
    };
    if (options.backlog !== false) {
      const fromMs = stored?.checkpoint.cursor ?? nowMs - config.run.initialLookbackMs;
      try {
        const page = await mcas.list(
          stream.resource,
          {
            filters: { ...config.mcas.extraFilters, [stream.cursorField]: { gte: fromMs } },
            sortField: stream.cursorField,
            sortDirection: 'asc',
            skip: 0,
            limit: 1,
          },
          { deadlineMs: nowMs + (options.timeoutMs ?? STATUS_TIMEOUT_MS) },
        );
        status.backlog = page.total ?? page.data.length;
      } catch (error) {
        status.backlogError = ensureError(error).message;
      }
    }
    if (!stored) status.problems.push('No checkpoint yet: no run has saved progress.');
    else {
      // A cursor in MCAS's future (by the Date header of its answer; else by this host's clock) stalls the stream
      // while every run says "nothing to read": it is a problem, not a negative lag.
      const sourceNowMs = runtime.deps.sourceClock?.nowMs(clock.nowMs());
      const aheadMinutes = minutesAheadOfSource(stored.checkpoint.cursor, sourceNowMs ?? nowMs);
      if (aheadMinutes !== undefined) {
        status.problems.push(
          `The checkpoint is ${aheadMinutes} min ahead of ${sourceNowMs === undefined ? "this host's clock" : "MCAS's clock"}: ` +
            'nothing MCAS saves before then will be read. Check the host clock, then set the checkpoint back or delete it.',
        );
      } else if (nowMs - stored.checkpoint.cursor > options.maxLagMinutes * 60_000) {
        status.problems.push(`Lag ${status.lagMinutes} min is above ${options.maxLagMinutes} min.`);
      }
    }
    if (lastRun?.outcome === 'failed') status.problems.push(`The last run failed: ${lastRun.error ?? 'no detail'}`);
    status.healthy = status.problems.length === 0;
    return status;
  } finally {
    await runtime.close();
  }
}

/** The status for a person: one fact a line. */
export function formatStatus(status: StreamStatus): string {
  const run = status.lastRun;
  const lines = [
    `stream       ${status.stream}`,
    `checkpoint   ${status.checkpoint ?? 'none'}${status.checkpointAgeMinutes !== undefined ? ` (written ${status.checkpointAgeMinutes} min ago)` : ''}`,
    `lag          ${status.lagMinutes !== undefined ? `${status.lagMinutes} min` : 'unknown'}`,
    `last run     ${run ? `${run.outcome} at ${run.startedAt}: fetched ${run.fetched}, sent ${run.sent}, flagged ${run.flagged}, retries ${run.retries}, ${run.durationMs} ms${run.moreToDo ? ', more to do' : ''}` : 'none recorded'}`,
  ];
  if (run?.error) lines.push(`last error   ${run.error}`);
  lines.push(
    `backlog      ${status.backlog !== undefined ? `about ${status.backlog} in MCAS ${status.checkpoint ? 'after the checkpoint' : "within the first run's lookback (INITIAL_LOOKBACK_MINUTES)"}` : `unknown${status.backlogError ? ` (${status.backlogError})` : ''}`}`,
  );
  lines.push(`health       ${status.healthy ? 'OK' : `NOT OK: ${status.problems.join(' ')}`}`);
  return lines.join('\n');
}
