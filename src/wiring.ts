// createDependencies: the only place real clients are built from a Config and the loaded secrets.
import type { TokenCredential } from '@azure/identity';
import type { Dispatcher } from 'undici';

import type { CheckpointLocation, Config } from './config.js';
import type { CheckpointStore } from './checkpoint/CheckpointStore.js';
import { type Clock, type Sleep, sleep as realSleep, systemClock } from './clock.js';
import { SecretError } from './errors.js';
import { createAzureCredential, createMcasCredential } from './credentials.js';
import { createDispatcher } from './http.js';
import { type Logger, safeLogger } from './logger.js';
import {
  entraAuthorization,
  type McasAuthorization,
  readMcasAppCredential,
  tokenAuthorization,
} from './mcas/mcasAuth.js';
import { McasClient } from './mcas/McasClient.js';
import { MCAS_RETRY, type RetryInfo } from './retry.js';
import { RequestPacer, sharedPacer } from './mcas/RequestPacer.js';
import { SourceClock } from './mcas/sourceClock.js';
import { Redactor } from './redact.js';
import type { RunDeps } from './run.js';
import { checkpointTarget, mcasTarget, sinkTarget } from './serviceTargets.js';
import type { Secrets } from './secrets.js';
import { DataCollectorSink } from './sink/DataCollectorSink.js';
import type { LogSink } from './sink/LogSink.js';
import { ACTIVITIES, type StreamSpec } from './streams.js';
import { NO_TELEMETRY, type Telemetry } from './telemetry/RunReport.js';
import { explainUnreachable } from './unreachable.js';

export interface Runtime {
  deps: RunDeps;
  /** Retries and throttling seen so far by the clients, for the run report. */
  counters(): RunCounters;
  /** Where run reports go besides the log (Application Insights in Azure). */
  telemetry: Telemetry;
  /** Releases sockets; call when the run is over. */
  close(): Promise<void>;
  /** Finds the run's secrets in any text (an error, a report) in every form a server can echo them in. */
  redactor: Redactor;
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
  /** Stands in for the function's identity for the Logs Ingestion sink only (a tenant's own app registration). */
  sinkCredential?: TokenCredential;
  /** The request pacer's window instead of a minute, so a bench can run MCAS's limit faster. */
  pacerWindowMs?: number;
  /** Told before the run waits for MCAS (its rate limit, or after a throttled answer), for progress displays. */
  onWait?: (wait: McasWait) => void;
  /**
   * Share the MCAS request pacer with the later runs of this process (timer runs, which follow each other closely), so
   * that a run starting less than a minute after the one before counts that one's requests (sharedPacer).
   */
  sharePacer?: boolean;
}

/** A wait for MCAS that a person watching should hear about. */
export interface McasWait {
  /** rateLimit: the pacer keeps the run under MCAS_MAX_REQUESTS_PER_MINUTE. throttled: MCAS answered "slow down". */
  kind: 'rateLimit' | 'throttled';
  waitMs: number;
  requestsPerMinute: number;
}

export async function createDependencies(
  config: Config,
  secrets: Secrets,
  rawLog: Logger,
  overrides: WiringOverrides = {},
  stream: StreamSpec = ACTIVITIES,
): Promise<Runtime> {
  // Every line the run writes has its secrets redacted and its control characters escaped, whatever it quotes.
  const redactor = new Redactor([secrets.mcasToken?.reveal(), secrets.workspaceKey?.reveal()]);
  const log = safeLogger(rawLog, redactor);
  const clock = overrides.clock ?? systemClock;
  const sleep = overrides.sleep ?? realSleep;
  const dispatcher = createDispatcher();
  const counted = { retries: 0, throttled: 0, throttleWaitMs: 0 };
  const requestsPerMinute = config.mcas.maxRequestsPerMinute;
  const onRetry = (info: RetryInfo): void => {
    counted.retries++;
    if (info.throttled) {
      counted.throttled++;
      counted.throttleWaitMs += info.delayMs;
    }
  };
  const sourceClock = new SourceClock();
  const pacerOptions = {
    maxRequests: requestsPerMinute,
    windowMs: overrides.pacerWindowMs,
    clock,
    sleep,
    onWait: (waitMs: number) => overrides.onWait?.({ kind: 'rateLimit', waitMs, requestsPerMinute }),
  };
  const pacer = overrides.sharePacer
    ? sharedPacer(config.mcas.portalUrl, pacerOptions)
    : new RequestPacer(pacerOptions);
  const waitedBeforeMs = pacer.waitedMs;
  // The function's identity (Key Vault, storage, Logs Ingestion), built once and only when something needs it.
  let azure: Promise<TokenCredential> | undefined;
  const identity = (): Promise<TokenCredential> =>
    (azure ??= overrides.credential ? Promise.resolve(overrides.credential) : defaultCredential(config));
  const mcasClient = new McasClient({
    portalUrl: config.mcas.portalUrl,
    authorization: await mcasAuthorization(config, secrets, identity, clock, overrides),
    dispatcher,
    timeoutMs: config.mcas.requestTimeoutMs,
    clock,
    sleep,
    log,
    retry: { ...MCAS_RETRY, throttleMinDelayMs: config.mcas.throttleWaitMs },
    pacer,
    onRetry: (info) => {
      onRetry(info);
      if (info.throttled) overrides.onWait?.({ kind: 'throttled', waitMs: info.delayMs, requestsPerMinute });
    },
    sourceClock,
  });
  // Failures to reach a service are worded with the setting that points at it (src/unreachable.ts).
  const mcasAt = mcasTarget(config);
  const mcas: RunDeps['mcas'] = {
    list: (...args) => explainUnreachable(mcasAt, () => mcasClient.list(...args)),
  };
  const sinkAt = sinkTarget(config);
  const { sinkCredential } = overrides;
  const sinkIdentity = sinkCredential ? () => Promise.resolve(sinkCredential) : identity;
  const sending = await createSink(config, secrets, stream, sinkIdentity, { dispatcher, clock, sleep, log, onRetry });
  const sink: LogSink = { send: (...args) => explainUnreachable(sinkAt, () => sending.send(...args)) };
  const checkpoints =
    overrides.checkpoints ??
    (await createCheckpointStore(config.checkpoint, stream.name, identity, { log, clock, sleep }));
  return {
    deps: { mcas, sink, checkpoints, clock, sleep, log, sourceClock },
    counters: () => ({ ...counted, throttleWaitMs: counted.throttleWaitMs + pacer.waitedMs - waitedBeforeMs }),
    telemetry: await createTelemetry(config, log, dispatcher, overrides),
    close: () => dispatcher.close(),
    redactor,
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
      streamName: config.destinations[stream.resource].streamName,
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
    logType: config.destinations[stream.resource].logType,
    timeGeneratedField: stream.timeGeneratedField,
    timeoutMs: config.logAnalytics.requestTimeoutMs,
    ...io,
  });
}

/**
 * The store for one named stream. Storage SDKs are loaded only when the blob store is used. A blob store retries
 * through the connector's retry loop, logging each retry to `io.log` (the SDK's own retries are off), and names the
 * setting to check when the account cannot be reached.
 */
export async function createCheckpointStore(
  location: CheckpointLocation,
  name: string,
  credential: () => Promise<TokenCredential>,
  io: { log?: Logger; clock?: Clock; sleep?: Sleep } = {},
): Promise<CheckpointStore> {
  if (location.kind === 'file') {
    const { FileCheckpointStore } = await import('./checkpoint/FileCheckpointStore.js');
    return new FileCheckpointStore(location.path, name);
  }
  const { BlobCheckpointStore } = await import('./checkpoint/BlobCheckpointStore.js');
  const { RetryingCheckpointStore } = await import('./checkpoint/RetryingCheckpointStore.js');
  const sdkOptions = { retryOptions: { maxTries: 1 } };
  const blob =
    'connectionString' in location
      ? BlobCheckpointStore.fromConnectionString(
          location.connectionString.reveal(),
          location.container,
          name,
          sdkOptions,
        )
      : BlobCheckpointStore.fromServiceUrl(
          location.serviceUrl,
          await credential(),
          location.container,
          name,
          sdkOptions,
        );
  return new RetryingCheckpointStore(blob, {
    target: checkpointTarget(location),
    log: io.log ?? SILENT,
    clock: io.clock ?? systemClock,
    sleep: io.sleep ?? realSleep,
  });
}

const SILENT: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

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
