// createDependencies: the only place real clients are built from a Config and the loaded secrets.
import type { TokenCredential } from '@azure/identity';
import type { Dispatcher } from 'undici';

import type { CheckpointLocation, Config } from './config.js';
import type { CheckpointStore } from './checkpoint/CheckpointStore.js';
import { type Clock, type Sleep, sleep as realSleep, systemClock } from './clock.js';
import { createDispatcher } from './http.js';
import type { Logger } from './logger.js';
import { McasClient } from './mcas/McasClient.js';
import { MCAS_RETRY, type RetryInfo } from './retry.js';
import { RequestPacer } from './mcas/RequestPacer.js';
import type { RunDeps } from './run.js';
import type { Secrets } from './secrets.js';
import { DataCollectorSink } from './sink/DataCollectorSink.js';
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
  credential?: TokenCredential;
  checkpoints?: CheckpointStore;
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
  const pacer = new RequestPacer({ maxRequests: config.mcas.maxRequestsPerMinute, windowMs: 60_000, clock, sleep });
  const mcas = new McasClient({
    portalUrl: config.mcas.portalUrl,
    token: secrets.mcasToken,
    dispatcher,
    timeoutMs: config.mcas.requestTimeoutMs,
    clock,
    sleep,
    log,
    retry: { ...MCAS_RETRY, throttleMinDelayMs: config.mcas.throttleWaitMs },
    pacer,
    onRetry,
  });
  const sink = new DataCollectorSink({
    endpoint: config.logAnalytics.endpoint,
    workspaceId: config.logAnalytics.workspaceId,
    workspaceKey: secrets.workspaceKey,
    logType: stream === ACTIVITIES ? config.logAnalytics.logType : stream.defaultLogType,
    timeGeneratedField: stream.timeGeneratedField,
    dispatcher,
    clock,
    sleep,
    log,
    timeoutMs: config.logAnalytics.requestTimeoutMs,
    onRetry,
  });
  const checkpoints =
    overrides.checkpoints ??
    (await createCheckpointStore(config.checkpoint, stream.name, async () => overrides.credential ?? defaultCredential(config)));
  return {
    deps: { mcas, sink, checkpoints, clock, sleep, log },
    counters: () => ({ ...counted, throttleWaitMs: counted.throttleWaitMs + pacer.waitedMs }),
    telemetry: await createTelemetry(config, log, dispatcher, overrides),
    close: () => dispatcher.close(),
  };
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
export async function defaultCredential(config: Pick<Config, 'managedIdentityClientId'>): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return config.managedIdentityClientId
    ? new DefaultAzureCredential({ managedIdentityClientId: config.managedIdentityClientId })
    : new DefaultAzureCredential();
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
    if (auth && !credential) {
      const { DefaultAzureCredential } = await import('@azure/identity');
      credential = new DefaultAzureCredential(auth.clientId ? { managedIdentityClientId: auth.clientId } : {});
    }
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
