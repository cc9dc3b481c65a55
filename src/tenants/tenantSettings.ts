// The app settings one tenant's run sees: the deployment's shared settings (cloud, Key Vault, storage, budget) with
// every tenant-specific one replaced from its registry entry, so no value of the deployment's own tenant, or of
// another tenant, can reach this tenant's run. Pure: it reads only the env it is given.
import { type CheckpointLocation, readConfig } from '../config.js';
import type { TenantEntry } from './TenantRegistry.js';

/** Settings that describe one tenant. They are never inherited from the deployment's settings. */
const TENANT_SPECIFIC = [
  'MCAS_PORTAL_URL',
  'MCAS_AUTH',
  'MCAS_API_TOKEN',
  'MCAS_TOKEN_SECRET_NAME',
  'MCAS_APP_CLIENT_ID',
  'MCAS_APP_TENANT_ID',
  'MCAS_APP_CREDENTIAL',
  'MCAS_APP_SECRET_NAME',
  'LOG_SINK',
  'LOG_ANALYTICS_WORKSPACE_ID',
  'LOG_ANALYTICS_ENDPOINT',
  'LOG_ANALYTICS_WORKSPACE_KEY',
  'WORKSPACE_KEY_SECRET_NAME',
  'LOGS_INGESTION_ENDPOINT',
  'LOGS_INGESTION_DCR_ID',
  'LOGS_INGESTION_STREAM',
  'MCAS_ACTIVITY_FILTERS',
  'MCAS_PAGING',
  'MCAS_PAGE_SIZE',
  'MCAS_SCAN_PAGE_SIZE',
  'MCAS_SCAN_WINDOW_MINUTES',
  'MCAS_ALERTS_ENABLED',
] as const;

/** Local runs only (no KEY_VAULT_URL): the secret named `name` is read from this app setting instead of the vault. */
export function localSecretSetting(secretName: string): string {
  return `TENANT_SECRET_${secretName.toUpperCase().replace(/-/g, '_')}`;
}

/** The Entra app a tenant signs in with; its credential is built by the runner (it needs the vault). */
export interface TenantApp {
  kind: 'clientSecret' | 'clientCertificate';
  clientId: string;
  tenantId: string;
  secretName: string;
}

export interface TenantRunSettings {
  /** App settings for the tenant's run (readConfig / runOnce). */
  env: NodeJS.ProcessEnv;
  /** Set for `auth.kind: entraApp`. */
  app: TenantApp | undefined;
  /** Name of the tenant's checkpoint (and report, and lock) in the checkpoint store. */
  checkpointName: string;
  /** Local runs: local secret settings the entry needs that are not set, by registry field. */
  missing: { field: string; setting: string }[];
}

export function tenantCheckpointName(key: string): string {
  return `tenant-${key}`;
}

/** The deployment's settings without any tenant-specific one or local tenant secret. */
function sharedSettings(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (name.startsWith('TENANT_SECRET_') || (TENANT_SPECIFIC as readonly string[]).includes(name)) continue;
    env[name] = value;
  }
  return env;
}

/**
 * Where every tenant's checkpoint is kept (CHECKPOINT_STORE, CHECKPOINT_CONTAINER, AzureWebJobsStorage), for readers
 * that need no tenant's secrets (`cli status --all`). These are deployment settings, but readConfig checks them together
 * with a tenant's, so a placeholder tenant on loopback, with placeholder local secrets, stands in. Throws ConfigError.
 */
export function tenantCheckpointLocation(base: NodeJS.ProcessEnv): CheckpointLocation {
  const env = sharedSettings(base);
  delete env['KEY_VAULT_URL'];
  return readConfig({
    ...env,
    MCAS_PORTAL_URL: 'http://127.0.0.1',
    MCAS_AUTH: 'token',
    MCAS_API_TOKEN: 'placeholder',
    LOG_SINK: 'dataCollector',
    LOG_ANALYTICS_WORKSPACE_ID: '00000000-0000-0000-0000-000000000000',
    LOG_ANALYTICS_WORKSPACE_KEY: Buffer.from('placeholder').toString('base64'),
  }).checkpoint;
}

export function tenantRunSettings(entry: TenantEntry, base: NodeJS.ProcessEnv): TenantRunSettings {
  const env = sharedSettings(base);
  const vault = (base['KEY_VAULT_URL'] ?? '').trim() !== '';
  const missing: TenantRunSettings['missing'] = [];
  /** In Azure the vault secret's name; locally the value of its TENANT_SECRET_ setting. */
  const secret = (field: string, name: string, vaultSetting: string, localSetting: string): void => {
    if (vault) {
      env[vaultSetting] = name;
      return;
    }
    const value = base[localSecretSetting(name)];
    if (value === undefined || value.trim() === '') missing.push({ field, setting: localSecretSetting(name) });
    else env[localSetting] = value;
  };

  env['MCAS_PORTAL_URL'] = entry.portalUrl;
  let app: TenantApp | undefined;
  if (entry.auth.kind === 'token') {
    env['MCAS_AUTH'] = 'token';
    secret('auth.tokenSecretName', entry.auth.tokenSecretName, 'MCAS_TOKEN_SECRET_NAME', 'MCAS_API_TOKEN');
  } else {
    // MCAS_AUTH=entra without MCAS_APP_CLIENT_ID: the runner hands the app's credential to the wiring, which then uses
    // it instead of the function's identity (the identity lives in the provider's tenant, not the customer's).
    env['MCAS_AUTH'] = 'entra';
    const certificate = entry.auth.certificateSecretName !== undefined;
    app = {
      kind: certificate ? 'clientCertificate' : 'clientSecret',
      clientId: entry.auth.clientId,
      tenantId: entry.auth.tenantId,
      secretName: entry.auth.certificateSecretName ?? entry.auth.clientSecretName ?? '',
    };
    if (!vault && (base[localSecretSetting(app.secretName)] ?? '').trim() === '') {
      const field = certificate ? 'auth.certificateSecretName' : 'auth.clientSecretName';
      missing.push({ field, setting: localSecretSetting(app.secretName) });
    }
  }

  if (entry.sink.kind === 'dataCollector') {
    env['LOG_SINK'] = 'dataCollector';
    env['LOG_ANALYTICS_WORKSPACE_ID'] = entry.sink.workspaceId;
    if (entry.sink.endpoint !== undefined) env['LOG_ANALYTICS_ENDPOINT'] = entry.sink.endpoint;
    secret('sink.keySecretName', entry.sink.keySecretName, 'WORKSPACE_KEY_SECRET_NAME', 'LOG_ANALYTICS_WORKSPACE_KEY');
  } else {
    env['LOG_SINK'] = 'logsIngestion';
    env['LOGS_INGESTION_ENDPOINT'] = entry.sink.endpoint;
    env['LOGS_INGESTION_DCR_ID'] = entry.sink.dcrImmutableId;
    if (entry.sink.streamName !== undefined) env['LOGS_INGESTION_STREAM'] = entry.sink.streamName;
  }

  if (entry.filters !== undefined) env['MCAS_ACTIVITY_FILTERS'] = JSON.stringify(entry.filters);
  if (entry.paging?.mode === 'scan') {
    env['MCAS_PAGING'] = 'scan';
    if (entry.paging.pageSize !== undefined) env['MCAS_SCAN_PAGE_SIZE'] = String(entry.paging.pageSize);
    if (entry.paging.windowMinutes !== undefined) env['MCAS_SCAN_WINDOW_MINUTES'] = String(entry.paging.windowMinutes);
  } else if (entry.paging?.pageSize !== undefined) {
    env['MCAS_PAGE_SIZE'] = String(entry.paging.pageSize);
  }
  if (entry.maxRequestsPerMinute !== undefined)
    env['MCAS_MAX_REQUESTS_PER_MINUTE'] = String(entry.maxRequestsPerMinute);
  return { env, app, checkpointName: tenantCheckpointName(entry.key), missing };
}
