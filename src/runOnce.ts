// One ingestion cycle from app settings: config, secrets, real clients, the run, clean-up. Shared by the timer
// function and the CLI, and loaded lazily by the function so the host's cold start stays small.
import { readConfig } from './config.js';
import type { Logger } from './logger.js';
import { runIngestion, type RunOptions, type RunSummary } from './run.js';
import { loadSecrets } from './secrets.js';
import { createDependencies, type WiringOverrides } from './wiring.js';

export interface RunOnceOptions {
  window?: RunOptions['window'];
  dryRun?: boolean;
  overrides?: WiringOverrides;
}

/** Reads settings from `env`, runs once and returns the summary; any failure is thrown for the caller to report. */
export async function runOnce(env: NodeJS.ProcessEnv, log: Logger, options: RunOnceOptions = {}): Promise<RunSummary> {
  const config = readConfig(env);
  const secrets = await loadSecrets(config.secrets, {
    log,
    managedIdentityClientId: config.managedIdentityClientId,
    ...(options.overrides?.credential ? { credential: options.overrides.credential } : {}),
  });
  const runtime = await createDependencies(config, secrets, log, options.overrides);
  try {
    return await runIngestion(runtime.deps, {
      initialLookbackMs: config.run.initialLookbackMs,
      settleMs: config.run.settleMs,
      timeBudgetMs: config.run.timeBudgetMs,
      pageSize: config.mcas.pageSize,
      maxBatchBytes: config.logAnalytics.maxBatchBytes,
      extraFilters: config.mcas.extraFilters,
      paging:
        config.mcas.paging === 'scan'
          ? { mode: 'scan', pageSize: config.mcas.scanPageSize, windowMs: config.mcas.scanWindowMs }
          : { mode: 'keyset' },
      window: options.window,
      dryRun: options.dryRun ?? false,
    });
  } finally {
    await runtime.close();
  }
}
