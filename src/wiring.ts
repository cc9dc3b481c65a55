// createDependencies: the only place real clients are built from a Config and the loaded secrets.
import type { TokenCredential } from '@azure/identity';

import type { CheckpointLocation, Config } from './config.js';
import type { CheckpointStore } from './checkpoint/CheckpointStore.js';
import { type Clock, type Sleep, sleep as realSleep, systemClock } from './clock.js';
import { createDispatcher } from './http.js';
import type { Logger } from './logger.js';
import { McasClient } from './mcas/McasClient.js';
import { MCAS_RETRY } from './retry.js';
import { RequestPacer } from './mcas/RequestPacer.js';
import type { RunDeps } from './run.js';
import type { Secrets } from './secrets.js';
import { DataCollectorSink } from './sink/DataCollectorSink.js';

/** The checkpoint stream of the live activities timer. */
export const ACTIVITIES_STREAM = 'activities';

export interface Runtime {
  deps: RunDeps;
  /** Releases sockets; call when the run is over. */
  close(): Promise<void>;
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
): Promise<Runtime> {
  const clock = overrides.clock ?? systemClock;
  const sleep = overrides.sleep ?? realSleep;
  const dispatcher = createDispatcher();
  const mcas = new McasClient({
    portalUrl: config.mcas.portalUrl,
    token: secrets.mcasToken,
    dispatcher,
    timeoutMs: config.mcas.requestTimeoutMs,
    clock,
    sleep,
    log,
    retry: { ...MCAS_RETRY, throttleMinDelayMs: config.mcas.throttleWaitMs },
    pacer: new RequestPacer({ maxRequests: config.mcas.maxRequestsPerMinute, windowMs: 60_000, clock, sleep }),
  });
  const sink = new DataCollectorSink({
    endpoint: config.logAnalytics.endpoint,
    workspaceId: config.logAnalytics.workspaceId,
    workspaceKey: secrets.workspaceKey,
    logType: config.logAnalytics.logType,
    timeGeneratedField: 'ActivityTime',
    dispatcher,
    clock,
    sleep,
    log,
    timeoutMs: config.logAnalytics.requestTimeoutMs,
  });
  const checkpoints =
    overrides.checkpoints ??
    (await createCheckpointStore(config.checkpoint, ACTIVITIES_STREAM, async () => overrides.credential ?? defaultCredential(config)));
  return { deps: { mcas, sink, checkpoints, clock, sleep, log }, close: () => dispatcher.close() };
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
