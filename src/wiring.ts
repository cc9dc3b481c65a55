// createDependencies: the only place real clients are built from a Config and the loaded secrets.
import type { TokenCredential } from '@azure/identity';
import type { Dispatcher } from 'undici';

import type { CheckpointLocation, Config } from './config.js';
import type { CheckpointStore } from './checkpoint/CheckpointStore.js';
import { type Clock, type Sleep, sleep as realSleep, systemClock } from './clock.js';
import { SecretError } from './errors.js';
import { createAzureCredential, createMcasCredential } from './credentials.js';
import { createDispatcher } from './http.js';
import type { Logger } from './logger.js';
import {
  entraAuthorization,
  type McasAuthorization,
  readMcasAppCredential,
  tokenAuthorization,
} from './mcas/mcasAuth.js';
import { McasClient } from './mcas/McasClient.js';
import { MCAS_RETRY, type RetryInfo } from './retry.js';
import { RequestPacer, sharedPacer } from './mcas/RequestPacer.js';
import type { RunDeps } from './run.js';
import type { Secrets } from './secrets.js';
import { DataCollectorSink } from './sink/DataCollectorSink.js';
import type { LogSink } from './sink/LogSink.js';
import { ACTIVITIES, type StreamSpec } from './streams.js';
import { NO_TELEMETRY, type Telemetry } from './telemetry/RunReport.js';

export interface Runtime {
  deps: RunDeps;
  /** Retries and throttling seen so far by the clients, for the run report. */
  counters(): RunCounters;
  /** Where run reports go besides the log (Application Insights in Azure). */
  telemetry: Telemetry;
  /** Releases sockets; call when the run is over. */
  close(): Promise<void>;
}

export interface RunCounters {
  retries: number;
  throttled: number;
  throttleWaitMs: number;
}

export interface WiringOverrides {
  clock?: Clock;
  sleep?: Sleep;
  /** Stands in for the function's identity (Key Vault, storage, Logs Ingestion, telemetry). */
  credential?: TokenCredential;
  /** Stands in for the Entra credential used for MCAS (MCAS_AUTH=entra). */
  mcasCredential?: TokenCredential;
  checkpoints?: CheckpointStore;
  /**
   * Share the MCAS request pacer with the later runs of this process (timer runs, which follow each other closely), so
   * that a run starting less than a minute after the one before counts that one's requests (sharedPacer).
   */
  sharePacer?: boolean;
}

export async function createDependencies(
  config: Config,
  secrets: Secrets,
  log: Logger,
  overrides: WiringOverrides = {},
  stream: StreamSpec = ACTIVITIES,
): Promise<Runtime> {
  const clock = overrides.clock ?? systemClock;
  const sleep = overrides.sleep ?? realSleep;
  const dispatcher = createDispatcher();
  const counted = { retries: 0, throttled: 0, throttleWaitMs: 0 };
  const onRetry = (info: RetryInfo): void => {
    counted.retries++;
    if (info.throttled) {
      counted.throttled++;
      counted.throttleWaitMs += info.delayMs;
    }
  };
  const pacerOptions = { maxRequests: config.mcas.maxRequestsPerMinute, clock, sleep };
  const pacer = overrides.sharePacer
    ? sharedPacer(config.mcas.portalUrl, pacerOptions)
    : new RequestPacer(pacerOptions);
  const waitedBeforeMs = pacer.waitedMs;
  // The function's identity (Key Vault, storage, Logs Ingestion), built once and only when something needs it.
  let azure: Promise<TokenCredential> | undefined;
  const identity = (): Promise<TokenCredential> =>
    (azure ??= overrides.credential ? Promise.resolve(overrides.credential) : defaultCredential(config));
  const mcas = new McasClient({
    portalUrl: config.mcas.portalUrl,
    authorization: await mcasAuthorization(config, secrets, identity, clock, overrides),
    dispatcher,
    timeoutMs: config.mcas.requestTimeoutMs,
    clock,
    sleep,
    log,
    retry: { ...MCAS_RETRY, throttleMinDelayMs: config.mcas.throttleWaitMs },
    pacer,
    onRetry,
  });
  const sink = await createSink(config, secrets, stream, identity, { dispatcher, clock, sleep, log, onRetry });
  const checkpoints = overrides.checkpoints ?? (await createCheckpointStore(config.checkpoint, stream.name, identity));
  return {
    deps: { mcas, sink, checkpoints, clock, sleep, log },
    counters: () => ({ ...counted, throttleWaitMs: counted.throttleWaitMs + pacer.waitedMs - waitedBeforeMs }),
    telemetry: await createTelemetry(config, log, dispatcher, overrides),
    close: () => dispatcher.close(),
  };
}

/** How MCAS requests are authorized: the API token, or an Entra token of the identity or app registration. */
async function mcasAuthorization(
  config: Config,
  secrets: Secrets,
  identity: () => Promise<TokenCredential>,
  clock: Clock,
  overrides: WiringOverrides,
): Promise<McasAuthorization> {
  const auth = config.mcas.auth;
  if (auth.kind === 'token') {
    if (!secrets.mcasToken) throw new SecretError('MCAS_AUTH=token needs the MCAS API token, and none was loaded.');
    return tokenAuthorization(secrets.mcasToken);
  }
  if (overrides.mcasCredential) return entraAuthorization(overrides.mcasCredential, config.cloud.mcas.scope, { clock });
  const source = auth.credential;
  if (source.kind === 'managedIdentity') {
    // ManagedIdentityCredential, not DefaultAzureCredential: a developer's own login must never be sent to MCAS.
    const credential = await createMcasCredential({
      kind: 'managedIdentity',
      clientId: config.managedIdentityClientId,
    });
    return entraAuthorization(credential, config.cloud.mcas.scope, { clock });
  }
  if (config.secrets.kind !== 'keyVault')
    throw new SecretError('MCAS_APP_CLIENT_ID needs KEY_VAULT_URL for its secret or certificate.');
  const value = await readMcasAppCredential(
    { kind: source.kind, vaultUrl: config.secrets.vaultUrl, secretName: source.secretName },
    { credential: await identity() },
  );
  const credential = await createMcasCredential(
    source.kind === 'clientSecret'
      ? { kind: 'clientSecret', tenantId: source.tenantId, clientId: source.clientId, clientSecret: value }
      : { kind: 'clientCertificate', tenantId: source.tenantId, clientId: source.clientId, certificatePem: value },
    { authorityHost: config.cloud.authorityHost },
  );
  return entraAuthorization(credential, config.cloud.mcas.scope, { clock });
}

/** The Data Collector sink (workspace key) or the Logs Ingestion sink (the identity, through a DCR). */
async function createSink(
  config: Config,
  secrets: Secrets,
  stream: StreamSpec,
  identity: () => Promise<TokenCredential>,
  io: { dispatcher: Dispatcher; clock: Clock; sleep: Sleep; log: Logger; onRetry: (info: RetryInfo) => void },
): Promise<LogSink> {
  if (config.sink.kind === 'logsIngestion') {
    const { LogsIngestionSink } = await import('./sink/LogsIngestionSink.js');
    return new LogsIngestionSink({
      endpoint: config.sink.endpoint,
      dcrImmutableId: config.sink.dcrImmutableId,
      streamName: stream === ACTIVITIES ? config.sink.streamName : `Custom-${stream.defaultLogType}_CL`,
      credential: await identity(),
      audience: config.cloud.monitorAudience,
      timeGeneratedField: stream.timeGeneratedField,
      clock: io.clock,
      sleep: io.sleep,
      log: io.log,
      timeoutMs: config.logAnalytics.requestTimeoutMs,
      onRetry: io.onRetry,
    });
  }
  if (!secrets.workspaceKey)
    throw new SecretError('The Data Collector sink needs the workspace key, and none was loaded.');
  return new DataCollectorSink({
    endpoint: config.logAnalytics.endpoint,
    workspaceId: config.logAnalytics.workspaceId,
    workspaceKey: secrets.workspaceKey,
    logType: stream === ACTIVITIES ? config.logAnalytics.logType : stream.defaultLogType,
    timeGeneratedField: stream.timeGeneratedField,
    timeoutMs: config.logAnalytics.requestTimeoutMs,
    ...io,
  });
}

/** The store for one named stream. Storage SDKs are loaded only when the blob store is used. */
export async function createCheckpointStore(
  location: CheckpointLocation,
  name: string,
  credential: () => Promise<TokenCredential>,
): Promise<CheckpointStore> {
  if (location.kind === 'file') {
    const { FileCheckpointStore } = await import('./checkpoint/FileCheckpointStore.js');
    return new FileCheckpointStore(location.path, name);
  }
  const { BlobCheckpointStore } = await import('./checkpoint/BlobCheckpointStore.js');
  if ('connectionString' in location) {
    return BlobCheckpointStore.fromConnectionString(location.connectionString.reveal(), location.container, name);
  }
  return BlobCheckpointStore.fromServiceUrl(location.serviceUrl, await credential(), location.container, name);
}

/** The function's managed identity (a user-assigned one when AZURE_CLIENT_ID is set), or a developer login locally. */
export function defaultCredential(config: Pick<Config, 'managedIdentityClientId'>): Promise<TokenCredential> {
  return createAzureCredential(config.managedIdentityClientId);
}

/**
 * Run reports to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, with an Entra token of the
 * identity named in APPLICATIONINSIGHTS_AUTHENTICATION_STRING (local auth is off on the deployed component). A bad
 * setting turns telemetry off with a warning; it never fails a run.
 */
export async function createTelemetry(
  config: Config,
  log: Logger,
  dispatcher: Dispatcher,
  overrides: WiringOverrides = {},
): Promise<Telemetry> {
  const { connectionString, authenticationString } = config.appInsights;
  if (connectionString === undefined) return NO_TELEMETRY;
  try {
    const { AppInsightsTelemetry, parseAuthenticationString } = await import('./telemetry/AppInsightsTelemetry.js');
    const auth = parseAuthenticationString(authenticationString);
    let credential: TokenCredential | undefined = overrides.credential;
    if (auth && !credential) credential = await createAzureCredential(auth.clientId);
    return new AppInsightsTelemetry({
      connectionString,
      ...(credential ? { credential } : {}),
      dispatcher,
      clock: overrides.clock ?? systemClock,
      sleep: overrides.sleep ?? realSleep,
      log,
      timeoutMs: 5_000,
    });
  } catch (error) {
    log.warn(`Application Insights telemetry is off: ${error instanceof Error ? error.message : String(error)}`);
    return NO_TELEMETRY;
  }
}
