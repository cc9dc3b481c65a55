// One tenant's ingestion cycle in multi-tenant mode: its registry entry, its own settings, secrets, checkpoint, lock,
// pacer and sink, then the same run as single-tenant mode (runOnce). Used by the queue function and `cli run --tenant`.
import type { TokenCredential } from '@azure/identity';

import { type Config, readConfig } from '../config.js';
import { ConfigError, ensureError, RegistryError } from '../errors.js';
import type { Logger } from '../logger.js';
import { createMcasCredential, readMcasAppCredential } from '../mcas/mcasAuth.js';
import type { RunSummary } from '../run.js';
import { runOnce, type RunOnceOptions } from '../runOnce.js';
import { Secret } from '../Secret.js';
import type { RunReport } from '../telemetry/RunReport.js';
import { createCheckpointStore, type WiringOverrides } from '../wiring.js';
import { lazyIdentity } from './lazyIdentity.js';
import { loadRegistry } from './loadRegistry.js';
import { acquireTenantLock } from './TenantLock.js';
import { describeProblem, type TenantEntry } from './TenantRegistry.js';
import { localSecretSetting, type TenantApp, tenantRunSettings } from './tenantSettings.js';

export interface TenantRunOptions {
  overrides?: WiringOverrides;
  dryRun?: boolean;
  onProgress?: RunOnceOptions['onProgress'];
}

export type TenantRunResult =
  { outcome: 'ran'; tenant: string; summary: RunSummary } | { outcome: 'skipped'; tenant: string; reason: string };

/**
 * Runs tenant `key` once. Returns `skipped` when the tenant is disabled or another run holds its lock; throws what
 * failed the run (after storing a failed report beside the tenant's checkpoint), so the queue retries it and, after
 * host.json's maxDequeueCount attempts, moves it to the poison queue.
 */
export async function runTenant(
  env: NodeJS.ProcessEnv,
  key: string,
  log: Logger,
  options: TenantRunOptions = {},
): Promise<TenantRunResult> {
  const overrides = options.overrides ?? {};
  const credential = lazyIdentity(env, overrides.credential);

  const entry = await findTenant(env, key, credential);
  if (!entry.enabled) {
    log.info(`Tenant ${key} is disabled in the registry; nothing to do.`);
    return { outcome: 'skipped', tenant: key, reason: 'disabled in the registry' };
  }
  const settings = tenantRunSettings(entry, env);
  if (settings.missing.length > 0) {
    throw new ConfigError(
      settings.missing.map(
        (m) => `tenant ${key}: ${m.field}: KEY_VAULT_URL is not set, and neither is the local setting ${m.setting}.`,
      ),
    );
  }
  const config = tenantConfig(key, settings.env);
  const checkpoints =
    overrides.checkpoints ?? (await createCheckpointStore(config.checkpoint, settings.checkpointName, credential));
  const lock = await acquireTenantLock(config.checkpoint, settings.checkpointName, credential, { log });
  if (lock === undefined) {
    log.warn(`Tenant ${key} is being ingested by another run (its lock is held); this one does nothing.`);
    return { outcome: 'skipped', tenant: key, reason: 'another run holds its lock' };
  }
  try {
    let app: TokenCredential | undefined;
    try {
      app = settings.app ? await appCredential(settings.app, config, env, credential) : undefined;
    } catch (error) {
      // runOnce reports its own failures; this one happens before it, so it is reported here.
      await checkpoints.saveReport(failedReport(key, error, overrides)).catch(() => undefined);
      throw error;
    }
    const summary = await runOnce(settings.env, log, {
      overrides: { ...overrides, checkpoints, ...(app ? { mcasCredential: app, sinkCredential: app } : {}) },
      tenant: key,
      ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { outcome: 'ran', tenant: key, summary };
  } finally {
    await lock.release();
  }
}

async function findTenant(
  env: NodeJS.ProcessEnv,
  key: string,
  credential: () => Promise<TokenCredential>,
): Promise<TenantEntry> {
  const registry = await loadRegistry(env, credential);
  const entry = registry.tenants.find((t) => t.key === key);
  if (entry !== undefined) return entry;
  const problems = registry.problems.filter((p) => p.tenant === key);
  if (problems.length > 0) {
    throw new RegistryError(
      `Tenant ${key} does not run: its registry entry is invalid (${problems.map(describeProblem).join('; ')}).`,
    );
  }
  throw new RegistryError(`Tenant ${key} is not in the tenant registry.`);
}

/** The tenant's settings checked as single-tenant ones are; problems are named by tenant. */
function tenantConfig(key: string, env: NodeJS.ProcessEnv): Config {
  try {
    return readConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems.map((p) => `tenant ${key}: ${p}`));
    throw error;
  }
}

/**
 * The tenant's app registration, signing in to the customer's tenant: used for MCAS and, with the Logs Ingestion
 * sink, for the customer's DCR (where the customer gave the app's service principal Monitoring Metrics Publisher).
 */
async function appCredential(
  app: TenantApp,
  config: Config,
  env: NodeJS.ProcessEnv,
  identity: () => Promise<TokenCredential>,
): Promise<TokenCredential> {
  const value =
    config.secrets.kind === 'keyVault'
      ? await readMcasAppCredential(
          { kind: app.kind, vaultUrl: config.secrets.vaultUrl, secretName: app.secretName },
          { credential: await identity() },
        )
      : new Secret(env[localSecretSetting(app.secretName)]?.trim() ?? '');
  return createMcasCredential(
    app.kind === 'clientSecret'
      ? { kind: 'clientSecret', tenantId: app.tenantId, clientId: app.clientId, clientSecret: value }
      : { kind: 'clientCertificate', tenantId: app.tenantId, clientId: app.clientId, certificatePem: value },
    { authorityHost: config.cloud.authorityHost },
  );
}

function failedReport(key: string, error: unknown, overrides: WiringOverrides): RunReport {
  const e = ensureError(error);
  const nowMs = overrides.clock?.nowMs() ?? Date.now();
  return {
    stream: 'activities',
    tenant: key,
    outcome: 'failed',
    startedAt: new Date(nowMs).toISOString(),
    durationMs: 0,
    fetched: 0,
    sent: 0,
    flagged: 0,
    batches: 0,
    pages: 0,
    retries: 0,
    throttled: 0,
    throttleWaitMs: 0,
    lagMinutes: -1,
    moreToDo: false,
    checkpoint: '',
    error: `${e.name}: ${e.message}`.slice(0, 1_000),
  };
}
