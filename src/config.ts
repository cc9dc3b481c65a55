// readConfig(env): every app setting the connector reads, checked at once and returned as a frozen, typed Config.
// This is the only module that names app settings. It does no I/O.
import { z } from 'zod';

import {
  AZURE_CLOUD_NAMES,
  blobServiceUrl,
  CLOUD_PROFILES,
  type CloudProfile,
  cloudProfile,
  dataCollectorEndpoint,
  describeMcasHostProblem,
  isDataCollectorHost,
  isKeyVaultHost,
  isLogsIngestionHost,
} from './cloud.js';
import { ConfigError } from './errors.js';
import { Secret } from './Secret.js';

/** Hard ceiling for one Data Collector post: the API takes 30 MB; we keep a margin for headers and rounding. */
export const MAX_POST_BYTES = 25 * 1024 * 1024;
const MIN_BATCH_BYTES = 1024 * 1024;
const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
/** Microsoft's normal listing returns at most 100 activities a request. */
export const MAX_MCAS_PAGE_SIZE = 100;

/** Where the secrets come from; a secret the chosen auth and sink do not need is left out (undefined). */
export type SecretSource =
  | { kind: 'keyVault'; vaultUrl: string; mcasTokenName: string | undefined; workspaceKeyName: string | undefined }
  | { kind: 'environment'; mcasToken: Secret | undefined; workspaceKey: Secret | undefined };

/** How requests to MCAS are authorized: the legacy API token, or an Entra token for Investigation.read. */
export type McasAuthSetting =
  | { kind: 'token' }
  | {
      kind: 'entra';
      credential:
        | { kind: 'managedIdentity' }
        | { kind: 'clientSecret' | 'clientCertificate'; tenantId: string; clientId: string; secretName: string };
    };

/** Where rows go: the HTTP Data Collector API (default) or the Logs Ingestion API through a DCR. */
export type SinkTarget =
  { kind: 'dataCollector' } | { kind: 'logsIngestion'; endpoint: string; dcrImmutableId: string; streamName: string };

export type CheckpointLocation =
  | { kind: 'blob'; connectionString: Secret; container: string }
  | { kind: 'blob'; serviceUrl: string; container: string }
  | { kind: 'file'; path: string };

export interface Config {
  mcas: {
    /** Origin of the tenant's API, e.g. https://contoso.us2.portal.cloudappsecurity.com (no trailing slash). */
    portalUrl: string;
    pageSize: number;
    /** Requests a minute this connector allows itself against the tenant (Microsoft's limit is 30). */
    maxRequestsPerMinute: number;
    /** Wait after a throttled answer that gave no Retry-After (Microsoft's own module waits a minute). */
    throttleWaitMs: number;
    /**
     * keyset (pages of up to 100, checkpoint per batch), scan (pages of up to 5,000, checkpoint per sub-window), or
     * auto (keyset near the head of the stream, scan in sub-windows for a larger backlog; src/mcas/choosePaging.ts).
     */
    paging: 'keyset' | 'scan' | 'auto';
    scanPageSize: number;
    /** Scan sub-window length; 0 reads the whole window in one scan. */
    scanWindowMs: number;
    /** Extra MCAS filters ANDed with the `created` window. */
    extraFilters: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
    requestTimeoutMs: number;
    auth: McasAuthSetting;
  };
  /** The Azure cloud: host suffixes, token scopes and authority of every service but MCAS itself. */
  cloud: CloudProfile;
  secrets: SecretSource;
  sink: SinkTarget;
  /** Whether the alerts timer copies MCAS alerts too. */
  alertsEnabled: boolean;
  logAnalytics: {
    workspaceId: string;
    /** Origin of the Data Collector API, e.g. https://<id>.ods.opinsights.azure.com. */
    endpoint: string;
    logType: string;
    maxBatchBytes: number;
    requestTimeoutMs: number;
  };
  checkpoint: CheckpointLocation;
  run: {
    initialLookbackMs: number;
    settleMs: number;
    timeBudgetMs: number;
  };
  /** NCRONTAB schedule of the timer (the host reads it through %MCAS_TIMER_SCHEDULE%). */
  schedule: string;
  /** Client id of a user-assigned managed identity, for Key Vault and Storage. */
  managedIdentityClientId: string | undefined;
  /** Where run reports go as custom events and metrics; unset locally. */
  appInsights: {
    connectionString: string | undefined;
    /** `Authorization=AAD;ClientId=...` when the component refuses instrumentation-key auth. */
    authenticationString: string | undefined;
  };
}

export const DEFAULTS = Object.freeze({
  MCAS_TOKEN_SECRET_NAME: 'mcas-api-token',
  WORKSPACE_KEY_SECRET_NAME: 'log-analytics-workspace-key',
  LOG_TYPE: 'MCAS_Activity_Log',
  MCAS_TIMER_SCHEDULE: '0 */5 * * * *',
  INITIAL_LOOKBACK_MINUTES: 1440,
  CREATED_SETTLE_SECONDS: 120,
  CHECKPOINT_STORE: 'blob',
  CHECKPOINT_CONTAINER: 'mcas-connector',
  RUN_TIME_BUDGET_SECONDS: 480,
  MAX_BATCH_BYTES: DEFAULT_BATCH_BYTES,
  MCAS_PAGE_SIZE: MAX_MCAS_PAGE_SIZE,
  MCAS_MAX_REQUESTS_PER_MINUTE: 30,
  MCAS_THROTTLE_WAIT_SECONDS: 60,
  MCAS_PAGING: 'auto',
  MCAS_SCAN_PAGE_SIZE: 5000,
  MCAS_SCAN_WINDOW_MINUTES: 60,
  AZURE_CLOUD: 'public',
  MCAS_AUTH: 'token',
  MCAS_APP_CREDENTIAL: 'secret',
  MCAS_APP_SECRET_NAME: 'mcas-app-client-secret',
  MCAS_APP_CERTIFICATE_NAME: 'mcas-app-certificate',
  LOG_SINK: 'dataCollector',
  LOGS_INGESTION_STREAM: 'Custom-MCAS_Activity_Log_CL',
  MCAS_ALERTS_ENABLED: 'false',
  HTTP_TIMEOUT_SECONDS: 60,
});

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const LOG_TYPE = /^[A-Za-z0-9_]{1,100}$/;
const DCR_IMMUTABLE_ID = /^dcr-[0-9a-f]{32}$/i;
const STREAM_NAME = /^Custom-[A-Za-z0-9_]{1,}$/;
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
const FILTER_OPERATORS = new Set([
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'range',
  'isset',
  'isnotset',
  'startswith',
  'contains',
  'text',
  'deq',
]);

/** True for hosts that never leave this machine; only these may be reached over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

type Problems = string[];

/** Longer values are not echoed in a problem: a secret pasted into the wrong setting would be. */
const MAX_ECHOED_CHARS = 40;

/** A setting's value for a problem message: quoted when short, else only its length. */
function shown(value: string): string {
  return value.length <= MAX_ECHOED_CHARS ? `"${value}"` : `a ${value.length}-character value (not shown)`;
}

/** One NCRONTAB field: *, a number, a range or a 3-letter name, each with an optional /step, comma-separated. */
const NCRONTAB_FIELD =
  /^(\*|\d{1,2}(-\d{1,2})?|[A-Za-z]{3}(-[A-Za-z]{3})?)(\/\d{1,2})?(,(\d{1,2}(-\d{1,2})?|[A-Za-z]{3}(-[A-Za-z]{3})?)(\/\d{1,2})?)*$/;

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * Parses an origin URL: https, or http on loopback only (unless `httpsOnly`); no path, query or credentials; a host
 * that `hostProblem` accepts (loopback hosts are always accepted, for local test servers).
 */
function parseOrigin(
  problems: Problems,
  name: string,
  raw: string,
  hostProblem: (host: string) => string | undefined,
  expected: string,
  httpsOnly = false,
): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${name}: expected ${expected}, got something that is not a URL.`);
    return undefined;
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && !httpsOnly)) {
    problems.push(
      httpsOnly
        ? `${name}: must use https:// (its client refuses to send a token over plain http).`
        : `${name}: must use https:// (plain http is allowed only for loopback test servers).`,
    );
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    problems.push(`${name}: give the origin only (scheme and host), expected ${expected}.`);
    return undefined;
  }
  const problem = loopback ? undefined : hostProblem(url.hostname);
  if (problem !== undefined) {
    problems.push(`${name}: ${problem}`);
    return undefined;
  }
  return url.origin;
}

function parseInt(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw);
  if (!/^-?\d+$/.test(raw) || !parsed.success) {
    problems.push(`${name}: expected a whole number from ${min} to ${max}, got ${shown(raw)}.`);
    return fallback;
  }
  return parsed.data;
}

const FilterValueSchema = z.record(z.string(), z.unknown()).refine((ops) => Object.keys(ops).length > 0, 'is empty');

function parseFilters(problems: Problems, raw: string | undefined): Record<string, Record<string, unknown>> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    problems.push(
      'MCAS_ACTIVITY_FILTERS: expected a JSON object such as {"service":{"eq":[11161]}}, got invalid JSON.',
    );
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push('MCAS_ACTIVITY_FILTERS: expected a JSON object of {"<field>": {"<operator>": value}}.');
    return {};
  }
  const filters: Record<string, Record<string, unknown>> = {};
  for (const [field, ops] of Object.entries(value)) {
    if (field === 'created') {
      problems.push('MCAS_ACTIVITY_FILTERS: "created" is set by the connector (it is the checkpoint); remove it.');
      continue;
    }
    const parsed = FilterValueSchema.safeParse(ops);
    if (!parsed.success || Array.isArray(ops)) {
      problems.push(`MCAS_ACTIVITY_FILTERS: ${shown(field)} must be an object of operators, e.g. {"eq": [...]}.`);
      continue;
    }
    const unknown = Object.keys(parsed.data).filter((op) => !FILTER_OPERATORS.has(op));
    if (unknown.length > 0) {
      problems.push(
        `MCAS_ACTIVITY_FILTERS: ${shown(field)} uses unknown operator(s) ${unknown.join(', ')}; ` +
          `known: ${[...FILTER_OPERATORS].join(', ')}.`,
      );
      continue;
    }
    filters[field] = parsed.data;
  }
  return filters;
}

/** Checks a Log Analytics workspace key: base64 of a non-empty key. Returns a problem, or undefined when fine. */
export function describeWorkspaceKeyProblem(key: string): string | undefined {
  const compact = key.trim();
  if (compact === '') return 'is empty';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) return 'is not base64';
  return undefined;
}

/**
 * Where the secrets come from, and which are needed: the MCAS API token only with MCAS_AUTH=token, the workspace key
 * only with the Data Collector sink.
 */
function parseSecrets(
  problems: Problems,
  env: NodeJS.ProcessEnv,
  cloud: CloudProfile,
  needs: { mcasToken: boolean; workspaceKey: boolean },
): SecretSource {
  const vault = text(env, 'KEY_VAULT_URL');
  if (vault !== undefined) {
    // httpsOnly: the Key Vault SDK refuses to send a bearer token over http, even to loopback.
    const vaultUrl =
      parseOrigin(
        problems,
        'KEY_VAULT_URL',
        vault,
        (h) =>
          isKeyVaultHost(cloud, h)
            ? undefined
            : `host ${shown(h)} is not a vault in AZURE_CLOUD=${cloud.name} (*.${cloud.keyVaultSuffix}).`,
        `https://<vault-name>.${cloud.keyVaultSuffix}`,
        true,
      ) ?? '';
    const secretName = (
      name: 'MCAS_TOKEN_SECRET_NAME' | 'WORKSPACE_KEY_SECRET_NAME',
      needed: boolean,
    ): string | undefined => {
      if (!needed) return undefined;
      const value = text(env, name) ?? DEFAULTS[name];
      if (!SECRET_NAME.test(value))
        problems.push(`${name}: ${shown(value)} is not a Key Vault secret name (letters, digits, -).`);
      return value;
    };
    return {
      kind: 'keyVault',
      vaultUrl,
      mcasTokenName: secretName('MCAS_TOKEN_SECRET_NAME', needs.mcasToken),
      workspaceKeyName: secretName('WORKSPACE_KEY_SECRET_NAME', needs.workspaceKey),
    };
  }
  let mcasToken: Secret | undefined;
  let workspaceKey: Secret | undefined;
  if (needs.mcasToken) {
    const token = text(env, 'MCAS_API_TOKEN');
    if (token === undefined) {
      problems.push('MCAS_API_TOKEN: required when KEY_VAULT_URL is not set (set KEY_VAULT_URL in Azure).');
    } else if (/\s/.test(token)) {
      problems.push('MCAS_API_TOKEN: contains white space; copy the token again.');
    }
    mcasToken = new Secret(token ?? '');
  }
  if (needs.workspaceKey) {
    const key = text(env, 'LOG_ANALYTICS_WORKSPACE_KEY');
    if (key === undefined) {
      problems.push(
        'LOG_ANALYTICS_WORKSPACE_KEY: required when KEY_VAULT_URL is not set (set KEY_VAULT_URL in Azure).',
      );
    } else {
      const problem = describeWorkspaceKeyProblem(key);
      if (problem)
        problems.push(`LOG_ANALYTICS_WORKSPACE_KEY: ${problem}; use the workspace's primary or secondary key.`);
    }
    workspaceKey = new Secret(key ?? '');
  }
  return { kind: 'environment', mcasToken, workspaceKey };
}

function parseMcasAuth(problems: Problems, env: NodeJS.ProcessEnv, hasVault: boolean): McasAuthSetting {
  const auth = text(env, 'MCAS_AUTH') ?? DEFAULTS.MCAS_AUTH;
  if (auth === 'token') return { kind: 'token' };
  if (auth !== 'entra') {
    problems.push(
      `MCAS_AUTH: expected "token" (the API token) or "entra" (an Entra app or managed identity), got ${shown(auth)}.`,
    );
    return { kind: 'token' };
  }
  const clientId = text(env, 'MCAS_APP_CLIENT_ID');
  if (clientId === undefined) return { kind: 'entra', credential: { kind: 'managedIdentity' } };
  if (!GUID.test(clientId))
    problems.push(`MCAS_APP_CLIENT_ID: expected the app registration's client id (a GUID), got ${shown(clientId)}.`);
  const tenantId = text(env, 'MCAS_APP_TENANT_ID');
  if (tenantId === undefined || !GUID.test(tenantId)) {
    problems.push(
      'MCAS_APP_TENANT_ID: required with MCAS_APP_CLIENT_ID: the tenant id (a GUID) of the app registration.',
    );
  }
  const kind = text(env, 'MCAS_APP_CREDENTIAL') ?? DEFAULTS.MCAS_APP_CREDENTIAL;
  if (kind !== 'secret' && kind !== 'certificate') {
    problems.push(`MCAS_APP_CREDENTIAL: expected "secret" or "certificate", got ${shown(kind)}.`);
  }
  const secretName =
    text(env, 'MCAS_APP_SECRET_NAME') ??
    (kind === 'certificate' ? DEFAULTS.MCAS_APP_CERTIFICATE_NAME : DEFAULTS.MCAS_APP_SECRET_NAME);
  if (!SECRET_NAME.test(secretName))
    problems.push(`MCAS_APP_SECRET_NAME: ${shown(secretName)} is not a Key Vault secret name.`);
  if (!hasVault)
    problems.push(
      "MCAS_APP_CLIENT_ID: the app's secret or certificate is read from Key Vault, so KEY_VAULT_URL is required.",
    );
  return {
    kind: 'entra',
    credential: {
      kind: kind === 'certificate' ? 'clientCertificate' : 'clientSecret',
      tenantId: tenantId ?? '',
      clientId,
      secretName,
    },
  };
}

function parseSink(problems: Problems, env: NodeJS.ProcessEnv, cloud: CloudProfile): SinkTarget {
  const sink = text(env, 'LOG_SINK') ?? DEFAULTS.LOG_SINK;
  if (sink === 'dataCollector') return { kind: 'dataCollector' };
  if (sink !== 'logsIngestion') {
    problems.push(`LOG_SINK: expected "dataCollector" or "logsIngestion", got ${shown(sink)}.`);
    return { kind: 'dataCollector' };
  }
  const rawEndpoint = text(env, 'LOGS_INGESTION_ENDPOINT');
  let endpoint = '';
  if (rawEndpoint === undefined) {
    problems.push(
      `LOGS_INGESTION_ENDPOINT: required with LOG_SINK=logsIngestion (the DCE's or DCR's logs ingestion endpoint, *.${cloud.logsIngestionSuffix}).`,
    );
  } else {
    endpoint =
      parseOrigin(
        problems,
        'LOGS_INGESTION_ENDPOINT',
        rawEndpoint,
        (h) =>
          isLogsIngestionHost(cloud, h)
            ? undefined
            : `host ${shown(h)} is not a logs ingestion endpoint in AZURE_CLOUD=${cloud.name} (*.${cloud.logsIngestionSuffix}).`,
        `https://<endpoint>.${cloud.logsIngestionSuffix}`,
        true,
      ) ?? '';
  }
  const dcrImmutableId = text(env, 'LOGS_INGESTION_DCR_ID');
  if (dcrImmutableId === undefined || !DCR_IMMUTABLE_ID.test(dcrImmutableId)) {
    problems.push(
      "LOGS_INGESTION_DCR_ID: required with LOG_SINK=logsIngestion: the DCR's immutable id (dcr-<32 hex digits>).",
    );
  }
  const streamName = text(env, 'LOGS_INGESTION_STREAM') ?? DEFAULTS.LOGS_INGESTION_STREAM;
  if (!STREAM_NAME.test(streamName))
    problems.push(`LOGS_INGESTION_STREAM: ${shown(streamName)} is not a custom stream name (Custom-<name>).`);
  return { kind: 'logsIngestion', endpoint, dcrImmutableId: dcrImmutableId ?? '', streamName };
}

function parseBoolean(problems: Problems, env: NodeJS.ProcessEnv, name: 'MCAS_ALERTS_ENABLED'): boolean {
  const value = (text(env, name) ?? DEFAULTS[name]).toLowerCase();
  if (value !== 'true' && value !== 'false') problems.push(`${name}: expected true or false, got ${shown(value)}.`);
  return value === 'true';
}

function parseCheckpoint(problems: Problems, env: NodeJS.ProcessEnv, cloud: CloudProfile): CheckpointLocation {
  const store = text(env, 'CHECKPOINT_STORE') ?? DEFAULTS.CHECKPOINT_STORE;
  if (store.startsWith('file:')) {
    const path = store.slice('file:'.length);
    if (path === '') problems.push('CHECKPOINT_STORE: "file:" needs a path, e.g. file:.checkpoints.');
    return { kind: 'file', path };
  }
  if (store !== 'blob') {
    problems.push(`CHECKPOINT_STORE: expected "blob" or "file:<path>", got ${shown(store)}.`);
    return { kind: 'file', path: '' };
  }
  const container = text(env, 'CHECKPOINT_CONTAINER') ?? DEFAULTS.CHECKPOINT_CONTAINER;
  if (!CONTAINER_NAME.test(container)) {
    problems.push(
      `CHECKPOINT_CONTAINER: ${shown(container)} is not a blob container name (3-63 lower-case letters, digits, -).`,
    );
  }
  const connectionString = text(env, 'AzureWebJobsStorage');
  if (connectionString !== undefined)
    return { kind: 'blob', connectionString: new Secret(connectionString), container };
  const serviceUri = text(env, 'AzureWebJobsStorage__blobServiceUri');
  const accountName = text(env, 'AzureWebJobsStorage__accountName');
  if (serviceUri !== undefined) {
    const serviceUrl = parseOrigin(
      problems,
      'AzureWebJobsStorage__blobServiceUri',
      serviceUri,
      () => undefined,
      'a blob service URL',
    );
    return { kind: 'blob', serviceUrl: serviceUrl ?? '', container };
  }
  if (accountName !== undefined) {
    if (!/^[a-z0-9]{3,24}$/.test(accountName)) {
      problems.push(`AzureWebJobsStorage__accountName: ${shown(accountName)} is not a storage account name.`);
    }
    return { kind: 'blob', serviceUrl: blobServiceUrl(cloud, accountName), container };
  }
  problems.push(
    'AzureWebJobsStorage: required for CHECKPOINT_STORE=blob (a connection string, UseDevelopmentStorage=true ' +
      'for Azurite, or AzureWebJobsStorage__blobServiceUri / __accountName for a managed identity).',
  );
  return { kind: 'blob', serviceUrl: '', container };
}

/**
 * Reads and checks every setting. Throws ConfigError listing all problems at once; never echoes a secret value.
 */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const problems: Problems = [];

  const rawCloud = text(env, 'AZURE_CLOUD');
  const cloud = cloudProfile(rawCloud) ?? CLOUD_PROFILES.public;
  if (cloudProfile(rawCloud) === undefined)
    problems.push(`AZURE_CLOUD: expected ${AZURE_CLOUD_NAMES.join(', ')}, got ${shown(rawCloud ?? '')}.`);
  const hasVault = text(env, 'KEY_VAULT_URL') !== undefined;
  const auth = parseMcasAuth(problems, env, hasVault);
  const sink = parseSink(problems, env, cloud);

  const portal = text(env, 'MCAS_PORTAL_URL');
  let portalUrl = '';
  if (portal === undefined) {
    problems.push('MCAS_PORTAL_URL: required, e.g. https://<tenant>.<region>.portal.cloudappsecurity.com.');
  } else if (/\.mcas\.ms$/i.test(safeHostname(portal))) {
    problems.push('MCAS_PORTAL_URL: *.mcas.ms is the session proxy; use the API URL (…portal.cloudappsecurity.com).');
  } else {
    portalUrl =
      parseOrigin(
        problems,
        'MCAS_PORTAL_URL',
        portal,
        (h) => describeMcasHostProblem(cloud, h, auth.kind)?.replace(h, h.length <= MAX_ECHOED_CHARS ? h : shown(h)),
        'https://<tenant>.<region>.portal.cloudappsecurity.com (or .us, gov.com)',
      ) ?? '';
  }

  // The Data Collector sink needs the workspace id and key; the Logs Ingestion sink needs neither.
  const usesDataCollector = sink.kind === 'dataCollector';
  const workspaceId = text(env, 'LOG_ANALYTICS_WORKSPACE_ID');
  if (workspaceId === undefined) {
    if (usesDataCollector) problems.push('LOG_ANALYTICS_WORKSPACE_ID: required (the workspace GUID).');
  } else if (!GUID.test(workspaceId))
    problems.push(`LOG_ANALYTICS_WORKSPACE_ID: expected a GUID, got ${shown(workspaceId)}.`);
  const endpointRaw = text(env, 'LOG_ANALYTICS_ENDPOINT');
  const endpoint =
    endpointRaw === undefined
      ? dataCollectorEndpoint(cloud, workspaceId ?? '')
      : (parseOrigin(
          problems,
          'LOG_ANALYTICS_ENDPOINT',
          endpointRaw,
          (h) =>
            isDataCollectorHost(cloud, h)
              ? undefined
              : `host ${shown(h)} is not the Data Collector API in AZURE_CLOUD=${cloud.name} (*.${cloud.dataCollectorDomain}).`,
          `https://<workspace-id>.${cloud.dataCollectorDomain}`,
        ) ?? '');

  const logType = text(env, 'LOG_TYPE') ?? DEFAULTS.LOG_TYPE;
  if (!LOG_TYPE.test(logType))
    problems.push(`LOG_TYPE: ${shown(logType)} must be 1-100 letters, digits or _ (no _CL suffix needed).`);
  else if (/_CL$/.test(logType))
    problems.push(`LOG_TYPE: ${shown(logType)} ends in _CL; the service appends _CL, so leave it off.`);

  const schedule = text(env, 'MCAS_TIMER_SCHEDULE') ?? DEFAULTS.MCAS_TIMER_SCHEDULE;
  const scheduleFields = schedule.split(/\s+/);
  if (scheduleFields.length !== 6 || !scheduleFields.every((field) => NCRONTAB_FIELD.test(field))) {
    problems.push(
      `MCAS_TIMER_SCHEDULE: expected an NCRONTAB expression with 6 fields ("{second} {minute} {hour} {day} {month} {day-of-week}"), got ${shown(schedule)}.`,
    );
  }

  const lookbackMinutes = parseInt(
    problems,
    env,
    'INITIAL_LOOKBACK_MINUTES',
    DEFAULTS.INITIAL_LOOKBACK_MINUTES,
    1,
    60 * 24 * 366,
  );
  const settleSeconds = parseInt(
    problems,
    env,
    'CREATED_SETTLE_SECONDS',
    DEFAULTS.CREATED_SETTLE_SECONDS,
    0,
    24 * 3600,
  );
  const budgetSeconds = parseInt(
    problems,
    env,
    'RUN_TIME_BUDGET_SECONDS',
    DEFAULTS.RUN_TIME_BUDGET_SECONDS,
    10,
    24 * 3600,
  );
  const maxBatchBytes = parseInt(
    problems,
    env,
    'MAX_BATCH_BYTES',
    DEFAULTS.MAX_BATCH_BYTES,
    MIN_BATCH_BYTES,
    MAX_POST_BYTES,
  );
  const pageSize = parseInt(problems, env, 'MCAS_PAGE_SIZE', DEFAULTS.MCAS_PAGE_SIZE, 1, MAX_MCAS_PAGE_SIZE);
  const maxRequestsPerMinute = parseInt(
    problems,
    env,
    'MCAS_MAX_REQUESTS_PER_MINUTE',
    DEFAULTS.MCAS_MAX_REQUESTS_PER_MINUTE,
    1,
    1_000_000,
  );
  const paging = text(env, 'MCAS_PAGING') ?? DEFAULTS.MCAS_PAGING;
  if (paging !== 'keyset' && paging !== 'scan' && paging !== 'auto')
    problems.push(`MCAS_PAGING: expected "auto", "keyset" or "scan", got ${shown(paging)}.`);
  const scanPageSize = parseInt(problems, env, 'MCAS_SCAN_PAGE_SIZE', DEFAULTS.MCAS_SCAN_PAGE_SIZE, 500, 5000);
  const scanWindowMinutes = parseInt(
    problems,
    env,
    'MCAS_SCAN_WINDOW_MINUTES',
    DEFAULTS.MCAS_SCAN_WINDOW_MINUTES,
    0,
    60 * 24 * 366,
  );
  const throttleWaitSeconds = parseInt(
    problems,
    env,
    'MCAS_THROTTLE_WAIT_SECONDS',
    DEFAULTS.MCAS_THROTTLE_WAIT_SECONDS,
    1,
    600,
  );
  const timeoutSeconds = parseInt(problems, env, 'HTTP_TIMEOUT_SECONDS', DEFAULTS.HTTP_TIMEOUT_SECONDS, 1, 600);

  const extraFilters = parseFilters(problems, text(env, 'MCAS_ACTIVITY_FILTERS'));
  const secrets = parseSecrets(problems, env, cloud, {
    mcasToken: auth.kind === 'token',
    workspaceKey: usesDataCollector,
  });
  const checkpoint = parseCheckpoint(problems, env, cloud);
  const alertsEnabled = parseBoolean(problems, env, 'MCAS_ALERTS_ENABLED');

  const clientId = text(env, 'AZURE_CLIENT_ID');
  if (clientId !== undefined && !GUID.test(clientId))
    problems.push(`AZURE_CLIENT_ID: expected a GUID, got ${shown(clientId)}.`);

  const appInsightsConnectionString = text(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING');
  const appInsightsAuthentication = text(env, 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING');

  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze({
    mcas: {
      portalUrl,
      pageSize,
      maxRequestsPerMinute,
      throttleWaitMs: throttleWaitSeconds * 1000,
      paging: paging === 'scan' || paging === 'keyset' ? paging : 'auto',
      scanPageSize,
      scanWindowMs: scanWindowMinutes * 60_000,
      extraFilters,
      requestTimeoutMs: timeoutSeconds * 1000,
      auth,
    },
    cloud,
    secrets,
    sink,
    alertsEnabled,
    logAnalytics: {
      workspaceId: (workspaceId ?? '').toLowerCase(),
      endpoint,
      logType,
      maxBatchBytes,
      requestTimeoutMs: timeoutSeconds * 1000,
    },
    checkpoint,
    run: {
      initialLookbackMs: lookbackMinutes * 60_000,
      settleMs: settleSeconds * 1000,
      timeBudgetMs: budgetSeconds * 1000,
    },
    schedule,
    managedIdentityClientId: clientId,
    appInsights: { connectionString: appInsightsConnectionString, authenticationString: appInsightsAuthentication },
  });
}

function safeHostname(raw: string): string {
  try {
    return new URL(raw).hostname;
  } catch {
    return '';
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
