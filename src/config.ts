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

/** Where a stream's rows go: its Log-Type (Data Collector API) and its DCR stream (Logs Ingestion API). */
export interface StreamDestination {
  logType: string;
  streamName: string;
}

/** The table MCAS alerts go to (MCAS_Alert_Log_CL); not a setting. */
export const ALERTS_LOG_TYPE = 'MCAS_Alert_Log';

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
  /**
   * Each stream's destination, resolved once here, by the resource a stream reads: a backfill (a copy of the
   * activities stream under another checkpoint name) goes where the live activities go.
   */
  destinations: Readonly<Record<'activities' | 'alerts', StreamDestination>>;
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

/** Longer values are not echoed in a problem: a secret pasted into the wrong setting would be. */
const MAX_ECHOED_CHARS = 40;

/**
 * A setting's value for a problem message: quoted when short and plainly not a secret, else described. A run of 16 or
 * more letters and digits (with + / = _ -) mixing both looks like a token or a key pasted into the wrong setting.
 */
function shown(value: string): string {
  if (value.length > MAX_ECHOED_CHARS) return `a ${value.length}-character value (not shown)`;
  const looksSecret = (value.match(/[A-Za-z0-9+/=_-]{16,}/g) ?? []).some(
    (run) => /\d/.test(run) && /[A-Za-z]/.test(run),
  );
  return looksSecret ? `a ${value.length}-character value that looks like a key or token (not shown)` : `"${value}"`;
}

/** One NCRONTAB field: *, a number, a range or a 3-letter name, each with an optional /step, comma-separated. */
const NCRONTAB_FIELD =
  /^(\*|\d{1,2}(-\d{1,2})?|[A-Za-z]{3}(-[A-Za-z]{3})?)(\/\d{1,2})?(,(\d{1,2}(-\d{1,2})?|[A-Za-z]{3}(-[A-Za-z]{3})?)(\/\d{1,2})?)*$/;

/** Collects a problem with one setting. */
type Report = (setting: string, message: string) => void;

/**
 * Parses an origin URL: https, or http on loopback only (unless `httpsOnly`); no path, query or credentials; a host
 * that `hostProblem` accepts (loopback hosts are always accepted, for local test servers).
 */
function parseOrigin(
  report: Report,
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
    report(name, `expected ${expected}, got something that is not a URL.`);
    return undefined;
  }
  const loopback = isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && !httpsOnly)) {
    report(
      name,
      httpsOnly
        ? 'must use https:// (its client refuses to send a token over plain http).'
        : 'must use https:// (plain http is allowed only for loopback test servers).',
    );
    return undefined;
  }
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    report(name, `give the origin only (scheme and host), expected ${expected}.`);
    return undefined;
  }
  const problem = loopback ? undefined : hostProblem(url.hostname);
  if (problem !== undefined) {
    report(name, problem);
    return undefined;
  }
  return url.origin;
}

// ---------------------------------------------------------------------------------------------------------------
// Each setting on its own: a zod schema of the app settings. A bad value is reported and replaced by its default, so
// that the checks across settings below still run and every problem is reported at once.

/** A setting's text, trimmed; unset and blank are both undefined. */
const Text = z
  .string()
  .optional()
  .transform((value) => {
    const trimmed = value?.trim();
    return trimmed === '' ? undefined : trimmed;
  });

/** A setting read by `read`, which reports what is wrong with the value and returns what to go on with. */
function rule<T>(read: (raw: string | undefined, problem: (message: string) => void) => T) {
  return Text.transform((raw, ctx) =>
    read(raw, (message) => ctx.addIssue({ code: 'custom', message, continue: true })),
  );
}

function wholeNumber(fallback: number, min: number, max: number) {
  return rule((raw, problem) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (/^-?\d+$/.test(raw) && value >= min && value <= max) return value;
    problem(`expected a whole number from ${min} to ${max}, got ${shown(raw)}.`);
    return fallback;
  });
}

function oneOf<const T extends string>(values: readonly T[], fallback: T, expected?: string) {
  return rule((raw, problem): T => {
    const value = raw ?? fallback;
    const found = values.find((v) => v === value);
    if (found === undefined)
      problem(`expected ${expected ?? values.map((v) => `"${v}"`).join(' or ')}, got ${shown(value)}.`);
    return found ?? fallback;
  });
}

const Guid = rule((raw, problem) => {
  if (raw !== undefined && !GUID.test(raw)) problem(`expected a GUID, got ${shown(raw)}.`);
  return raw;
});

const SettingsSchema = z.object({
  AZURE_CLOUD: rule((raw, problem) => {
    const cloud = cloudProfile(raw);
    if (cloud === undefined) problem(`expected ${AZURE_CLOUD_NAMES.join(', ')}, got ${shown(raw ?? '')}.`);
    return cloud ?? CLOUD_PROFILES.public;
  }),
  MCAS_PORTAL_URL: Text,
  MCAS_AUTH: oneOf(
    ['token', 'entra'],
    DEFAULTS.MCAS_AUTH,
    '"token" (the API token) or "entra" (an Entra app or managed identity)',
  ),
  MCAS_APP_CLIENT_ID: Text,
  MCAS_APP_TENANT_ID: Text,
  MCAS_APP_CREDENTIAL: oneOf(['secret', 'certificate'], DEFAULTS.MCAS_APP_CREDENTIAL),
  MCAS_APP_SECRET_NAME: Text,
  MCAS_PAGE_SIZE: wholeNumber(DEFAULTS.MCAS_PAGE_SIZE, 1, MAX_MCAS_PAGE_SIZE),
  MCAS_MAX_REQUESTS_PER_MINUTE: wholeNumber(DEFAULTS.MCAS_MAX_REQUESTS_PER_MINUTE, 1, 1_000_000),
  MCAS_THROTTLE_WAIT_SECONDS: wholeNumber(DEFAULTS.MCAS_THROTTLE_WAIT_SECONDS, 1, 600),
  MCAS_PAGING: oneOf(['auto', 'keyset', 'scan'], DEFAULTS.MCAS_PAGING, '"auto", "keyset" or "scan"'),
  MCAS_SCAN_PAGE_SIZE: wholeNumber(DEFAULTS.MCAS_SCAN_PAGE_SIZE, 500, 5000),
  MCAS_SCAN_WINDOW_MINUTES: wholeNumber(DEFAULTS.MCAS_SCAN_WINDOW_MINUTES, 0, 60 * 24 * 366),
  MCAS_ACTIVITY_FILTERS: rule((raw, problem) => parseFilters(raw, problem)),
  MCAS_ALERTS_ENABLED: rule((raw, problem) => {
    const value = (raw ?? DEFAULTS.MCAS_ALERTS_ENABLED).toLowerCase();
    if (value !== 'true' && value !== 'false') problem(`expected true or false, got ${shown(value)}.`);
    return value === 'true';
  }),
  HTTP_TIMEOUT_SECONDS: wholeNumber(DEFAULTS.HTTP_TIMEOUT_SECONDS, 1, 600),
  KEY_VAULT_URL: Text,
  MCAS_TOKEN_SECRET_NAME: Text,
  WORKSPACE_KEY_SECRET_NAME: Text,
  MCAS_API_TOKEN: Text,
  LOG_ANALYTICS_WORKSPACE_KEY: Text,
  LOG_SINK: oneOf(['dataCollector', 'logsIngestion'], DEFAULTS.LOG_SINK),
  LOGS_INGESTION_ENDPOINT: Text,
  LOGS_INGESTION_DCR_ID: Text,
  LOGS_INGESTION_STREAM: Text,
  LOG_ANALYTICS_WORKSPACE_ID: Guid,
  LOG_ANALYTICS_ENDPOINT: Text,
  LOG_TYPE: rule((raw, problem) => {
    const logType = raw ?? DEFAULTS.LOG_TYPE;
    if (!LOG_TYPE.test(logType))
      problem(`${shown(logType)} must be 1-100 letters, digits or _ (no _CL suffix needed).`);
    else if (/_CL$/.test(logType)) problem(`${shown(logType)} ends in _CL; the service appends _CL, so leave it off.`);
    return logType;
  }),
  MAX_BATCH_BYTES: wholeNumber(DEFAULTS.MAX_BATCH_BYTES, MIN_BATCH_BYTES, MAX_POST_BYTES),
  CHECKPOINT_STORE: Text,
  CHECKPOINT_CONTAINER: Text,
  AzureWebJobsStorage: Text,
  AzureWebJobsStorage__blobServiceUri: Text,
  AzureWebJobsStorage__accountName: Text,
  MCAS_TIMER_SCHEDULE: rule((raw, problem) => {
    const schedule = raw ?? DEFAULTS.MCAS_TIMER_SCHEDULE;
    const fields = schedule.split(/\s+/);
    if (fields.length !== 6 || !fields.every((field) => NCRONTAB_FIELD.test(field)))
      problem(
        'expected an NCRONTAB expression with 6 fields ("{second} {minute} {hour} {day} {month} {day-of-week}"), ' +
          `got ${shown(schedule)}.`,
      );
    return schedule;
  }),
  INITIAL_LOOKBACK_MINUTES: wholeNumber(DEFAULTS.INITIAL_LOOKBACK_MINUTES, 1, 60 * 24 * 366),
  CREATED_SETTLE_SECONDS: wholeNumber(DEFAULTS.CREATED_SETTLE_SECONDS, 0, 24 * 3600),
  RUN_TIME_BUDGET_SECONDS: wholeNumber(DEFAULTS.RUN_TIME_BUDGET_SECONDS, 10, 24 * 3600),
  AZURE_CLIENT_ID: Guid,
  APPLICATIONINSIGHTS_CONNECTION_STRING: Text,
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: Text,
});

type Settings = z.infer<typeof SettingsSchema>;

/** Every app setting the connector reads; those with a default are the keys of DEFAULTS. */
export const SETTING_NAMES: readonly string[] = Object.freeze(Object.keys(SettingsSchema.shape));

const FilterValueSchema = z.record(z.string(), z.unknown()).refine((ops) => Object.keys(ops).length > 0, 'is empty');

function parseFilters(
  raw: string | undefined,
  problem: (message: string) => void,
): Record<string, Record<string, unknown>> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    problem('expected a JSON object such as {"service":{"eq":[11161]}}, got invalid JSON.');
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problem('expected a JSON object of {"<field>": {"<operator>": value}}.');
    return {};
  }
  // Built with defineProperty-like semantics (Object.fromEntries), and every key checked as given: an assignment
  // (filters[field] = ...) or a schema's copy would drop a key such as "__proto__" silently, and the run would read
  // everything instead of what the filter selects.
  const entries: [string, Record<string, unknown>][] = [];
  for (const [field, ops] of Object.entries(value)) {
    if (field === 'created') {
      problem('"created" is set by the connector (it is the checkpoint); remove it.');
      continue;
    }
    if (field === '__proto__') {
      problem('"__proto__" is not an MCAS filter field; remove it.');
      continue;
    }
    const parsed = FilterValueSchema.safeParse(ops);
    if (!parsed.success || Array.isArray(ops)) {
      problem(`${shown(field)} must be an object of operators, e.g. {"eq": [...]}.`);
      continue;
    }
    const unknown = Object.keys(ops as object).filter((op) => !FILTER_OPERATORS.has(op));
    if (unknown.length > 0) {
      problem(
        `${shown(field)} uses unknown operator(s) ${unknown.join(', ')}; known: ${[...FILTER_OPERATORS].join(', ')}.`,
      );
      continue;
    }
    entries.push([field, Object.fromEntries(Object.entries(ops as object))]);
  }
  return Object.fromEntries(entries);
}

/** Checks a Log Analytics workspace key: base64 of a non-empty key. Returns a problem, or undefined when fine. */
export function describeWorkspaceKeyProblem(key: string): string | undefined {
  const compact = key.trim();
  if (compact === '') return 'is empty';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || compact.length % 4 !== 0) return 'is not base64';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Settings that depend on one another: hosts checked against the cloud, the secrets the chosen MCAS auth and sink
// need, the checkpoint store's connection.

/**
 * Where the secrets come from, and which are needed: the MCAS API token only with MCAS_AUTH=token, the workspace key
 * only with the Data Collector sink.
 */
function toSecretSource(s: Settings, report: Report): SecretSource {
  const cloud = s.AZURE_CLOUD;
  const needsToken = s.MCAS_AUTH === 'token';
  const needsKey = s.LOG_SINK === 'dataCollector';
  if (s.KEY_VAULT_URL !== undefined) {
    // httpsOnly: the Key Vault SDK refuses to send a bearer token over http, even to loopback.
    const vaultUrl =
      parseOrigin(
        report,
        'KEY_VAULT_URL',
        s.KEY_VAULT_URL,
        (h) =>
          isKeyVaultHost(cloud, h)
            ? undefined
            : `host ${shown(h)} is not a vault in AZURE_CLOUD=${cloud.name} (*.${cloud.keyVaultSuffix}).`,
        `https://<vault-name>.${cloud.keyVaultSuffix}`,
        true,
      ) ?? '';
    const secretName = (name: 'MCAS_TOKEN_SECRET_NAME' | 'WORKSPACE_KEY_SECRET_NAME', needed: boolean) => {
      if (!needed) return undefined;
      const value = s[name] ?? DEFAULTS[name];
      if (!SECRET_NAME.test(value))
        report(name, `${shown(value)} is not a Key Vault secret name (letters, digits, -).`);
      return value;
    };
    return {
      kind: 'keyVault',
      vaultUrl,
      mcasTokenName: secretName('MCAS_TOKEN_SECRET_NAME', needsToken),
      workspaceKeyName: secretName('WORKSPACE_KEY_SECRET_NAME', needsKey),
    };
  }
  const token = s.MCAS_API_TOKEN;
  if (needsToken && token === undefined)
    report('MCAS_API_TOKEN', 'required when KEY_VAULT_URL is not set (set KEY_VAULT_URL in Azure).');
  else if (needsToken && token !== undefined && /\s/.test(token))
    report('MCAS_API_TOKEN', 'contains white space; copy the token again.');
  const key = s.LOG_ANALYTICS_WORKSPACE_KEY;
  const keyProblem = key === undefined ? undefined : describeWorkspaceKeyProblem(key);
  if (needsKey && key === undefined)
    report('LOG_ANALYTICS_WORKSPACE_KEY', 'required when KEY_VAULT_URL is not set (set KEY_VAULT_URL in Azure).');
  else if (needsKey && keyProblem)
    report('LOG_ANALYTICS_WORKSPACE_KEY', `${keyProblem}; use the workspace's primary or secondary key.`);
  return {
    kind: 'environment',
    mcasToken: needsToken ? new Secret(token ?? '') : undefined,
    workspaceKey: needsKey ? new Secret(key ?? '') : undefined,
  };
}

function toMcasAuth(s: Settings, report: Report): McasAuthSetting {
  if (s.MCAS_AUTH === 'token') return { kind: 'token' };
  const clientId = s.MCAS_APP_CLIENT_ID;
  if (clientId === undefined) return { kind: 'entra', credential: { kind: 'managedIdentity' } };
  if (!GUID.test(clientId))
    report('MCAS_APP_CLIENT_ID', `expected the app registration's client id (a GUID), got ${shown(clientId)}.`);
  const tenantId = s.MCAS_APP_TENANT_ID;
  if (tenantId === undefined || !GUID.test(tenantId))
    report('MCAS_APP_TENANT_ID', 'required with MCAS_APP_CLIENT_ID: the tenant id (a GUID) of the app registration.');
  const certificate = s.MCAS_APP_CREDENTIAL === 'certificate';
  const secretName =
    s.MCAS_APP_SECRET_NAME ?? (certificate ? DEFAULTS.MCAS_APP_CERTIFICATE_NAME : DEFAULTS.MCAS_APP_SECRET_NAME);
  if (!SECRET_NAME.test(secretName))
    report('MCAS_APP_SECRET_NAME', `${shown(secretName)} is not a Key Vault secret name.`);
  if (s.KEY_VAULT_URL === undefined)
    report(
      'MCAS_APP_CLIENT_ID',
      "the app's secret or certificate is read from Key Vault, so KEY_VAULT_URL is required.",
    );
  return {
    kind: 'entra',
    credential: {
      kind: certificate ? 'clientCertificate' : 'clientSecret',
      tenantId: tenantId ?? '',
      clientId,
      secretName,
    },
  };
}

function toSink(s: Settings, report: Report): SinkTarget {
  if (s.LOG_SINK === 'dataCollector') return { kind: 'dataCollector' };
  const cloud = s.AZURE_CLOUD;
  let endpoint = '';
  if (s.LOGS_INGESTION_ENDPOINT === undefined) {
    report(
      'LOGS_INGESTION_ENDPOINT',
      `required with LOG_SINK=logsIngestion (the DCE's or DCR's logs ingestion endpoint, *.${cloud.logsIngestionSuffix}).`,
    );
  } else {
    endpoint =
      parseOrigin(
        report,
        'LOGS_INGESTION_ENDPOINT',
        s.LOGS_INGESTION_ENDPOINT,
        (h) =>
          isLogsIngestionHost(cloud, h)
            ? undefined
            : `host ${shown(h)} is not a logs ingestion endpoint in AZURE_CLOUD=${cloud.name} (*.${cloud.logsIngestionSuffix}).`,
        `https://<endpoint>.${cloud.logsIngestionSuffix}`,
        true,
      ) ?? '';
  }
  const dcrImmutableId = s.LOGS_INGESTION_DCR_ID;
  if (dcrImmutableId === undefined || !DCR_IMMUTABLE_ID.test(dcrImmutableId))
    report(
      'LOGS_INGESTION_DCR_ID',
      "required with LOG_SINK=logsIngestion: the DCR's immutable id (dcr-<32 hex digits>).",
    );
  const streamName = s.LOGS_INGESTION_STREAM ?? DEFAULTS.LOGS_INGESTION_STREAM;
  if (!STREAM_NAME.test(streamName))
    report('LOGS_INGESTION_STREAM', `${shown(streamName)} is not a custom stream name (Custom-<name>).`);
  return { kind: 'logsIngestion', endpoint, dcrImmutableId: dcrImmutableId ?? '', streamName };
}

function toCheckpoint(s: Settings, report: Report): CheckpointLocation {
  const store = s.CHECKPOINT_STORE ?? DEFAULTS.CHECKPOINT_STORE;
  if (store.startsWith('file:')) {
    const path = store.slice('file:'.length);
    if (path === '') report('CHECKPOINT_STORE', '"file:" needs a path, e.g. file:.checkpoints.');
    return { kind: 'file', path };
  }
  if (store !== 'blob') {
    report('CHECKPOINT_STORE', `expected "blob" or "file:<path>", got ${shown(store)}.`);
    return { kind: 'file', path: '' };
  }
  const container = s.CHECKPOINT_CONTAINER ?? DEFAULTS.CHECKPOINT_CONTAINER;
  if (!CONTAINER_NAME.test(container))
    report(
      'CHECKPOINT_CONTAINER',
      `${shown(container)} is not a blob container name (3-63 lower-case letters, digits, -).`,
    );
  if (s.AzureWebJobsStorage !== undefined)
    return { kind: 'blob', connectionString: new Secret(s.AzureWebJobsStorage), container };
  const serviceUri = s.AzureWebJobsStorage__blobServiceUri;
  if (serviceUri !== undefined) {
    const name = 'AzureWebJobsStorage__blobServiceUri';
    const serviceUrl = parseOrigin(report, name, serviceUri, () => undefined, 'a blob service URL');
    return { kind: 'blob', serviceUrl: serviceUrl ?? '', container };
  }
  const accountName = s.AzureWebJobsStorage__accountName;
  if (accountName !== undefined) {
    if (!/^[a-z0-9]{3,24}$/.test(accountName))
      report('AzureWebJobsStorage__accountName', `${shown(accountName)} is not a storage account name.`);
    return { kind: 'blob', serviceUrl: blobServiceUrl(s.AZURE_CLOUD, accountName), container };
  }
  report(
    'AzureWebJobsStorage',
    'required for CHECKPOINT_STORE=blob (a connection string, UseDevelopmentStorage=true for Azurite, or ' +
      'AzureWebJobsStorage__blobServiceUri / __accountName for a managed identity).',
  );
  return { kind: 'blob', serviceUrl: '', container };
}

function toPortalUrl(s: Settings, auth: McasAuthSetting, report: Report): string {
  const portal = s.MCAS_PORTAL_URL;
  if (portal === undefined) {
    report('MCAS_PORTAL_URL', 'required, e.g. https://<tenant>.<region>.portal.cloudappsecurity.com.');
    return '';
  }
  if (/\.mcas\.ms$/i.test(safeHostname(portal))) {
    report('MCAS_PORTAL_URL', '*.mcas.ms is the session proxy; use the API URL (…portal.cloudappsecurity.com).');
    return '';
  }
  return (
    parseOrigin(
      report,
      'MCAS_PORTAL_URL',
      portal,
      (h) =>
        describeMcasHostProblem(s.AZURE_CLOUD, h, auth.kind)?.replace(h, h.length <= MAX_ECHOED_CHARS ? h : shown(h)),
      'https://<tenant>.<region>.portal.cloudappsecurity.com (or .us, gov.com)',
    ) ?? ''
  );
}

/** The Data Collector API's origin; the workspace id is required only when that sink is used. */
function toDataCollectorEndpoint(s: Settings, report: Report): string {
  const cloud = s.AZURE_CLOUD;
  if (s.LOG_ANALYTICS_WORKSPACE_ID === undefined && s.LOG_SINK === 'dataCollector')
    report('LOG_ANALYTICS_WORKSPACE_ID', 'required (the workspace GUID).');
  if (s.LOG_ANALYTICS_ENDPOINT === undefined) return dataCollectorEndpoint(cloud, s.LOG_ANALYTICS_WORKSPACE_ID ?? '');
  return (
    parseOrigin(
      report,
      'LOG_ANALYTICS_ENDPOINT',
      s.LOG_ANALYTICS_ENDPOINT,
      (h) =>
        isDataCollectorHost(cloud, h)
          ? undefined
          : `host ${shown(h)} is not the Data Collector API in AZURE_CLOUD=${cloud.name} (*.${cloud.dataCollectorDomain}).`,
      `https://<workspace-id>.${cloud.dataCollectorDomain}`,
    ) ?? ''
  );
}

/** The Config the settings describe; what is wrong across settings goes to `report`. */
function toConfig(s: Settings, report: Report): Config {
  const auth = toMcasAuth(s, report);
  const timeoutMs = s.HTTP_TIMEOUT_SECONDS * 1000;
  const sink = toSink(s, report);
  return {
    mcas: {
      portalUrl: toPortalUrl(s, auth, report),
      pageSize: s.MCAS_PAGE_SIZE,
      maxRequestsPerMinute: s.MCAS_MAX_REQUESTS_PER_MINUTE,
      throttleWaitMs: s.MCAS_THROTTLE_WAIT_SECONDS * 1000,
      paging: s.MCAS_PAGING,
      scanPageSize: s.MCAS_SCAN_PAGE_SIZE,
      scanWindowMs: s.MCAS_SCAN_WINDOW_MINUTES * 60_000,
      extraFilters: s.MCAS_ACTIVITY_FILTERS,
      requestTimeoutMs: timeoutMs,
      auth,
    },
    cloud: s.AZURE_CLOUD,
    secrets: toSecretSource(s, report),
    sink,
    alertsEnabled: s.MCAS_ALERTS_ENABLED,
    logAnalytics: {
      workspaceId: (s.LOG_ANALYTICS_WORKSPACE_ID ?? '').toLowerCase(),
      endpoint: toDataCollectorEndpoint(s, report),
      logType: s.LOG_TYPE,
      maxBatchBytes: s.MAX_BATCH_BYTES,
      requestTimeoutMs: timeoutMs,
    },
    checkpoint: toCheckpoint(s, report),
    destinations: streamDestinations(s.LOG_TYPE, sink),
    run: {
      initialLookbackMs: s.INITIAL_LOOKBACK_MINUTES * 60_000,
      settleMs: s.CREATED_SETTLE_SECONDS * 1000,
      timeBudgetMs: s.RUN_TIME_BUDGET_SECONDS * 1000,
    },
    schedule: s.MCAS_TIMER_SCHEDULE,
    managedIdentityClientId: s.AZURE_CLIENT_ID,
    appInsights: {
      connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
      authenticationString: s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING,
    },
  };
}

/** Every setting checked on its own, then across settings (even when some failed, so all are reported at once). */
const ConfigSchema = SettingsSchema.superRefine(
  (settings, ctx) => {
    toConfig(settings, (setting, message) => ctx.addIssue({ code: 'custom', path: [setting], message }));
  },
  { when: () => true },
).transform((settings) => toConfig(settings, () => undefined));

/**
 * Reads and checks every setting. Throws ConfigError listing all problems at once; never echoes a secret value.
 */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return deepFreeze(parsed.data);
}

/** Activities go where LOG_TYPE and LOGS_INGESTION_STREAM say; alerts to their own table. */
function streamDestinations(logType: string, sink: SinkTarget): Config['destinations'] {
  return {
    activities: {
      logType,
      streamName: sink.kind === 'logsIngestion' ? sink.streamName : DEFAULTS.LOGS_INGESTION_STREAM,
    },
    alerts: { logType: ALERTS_LOG_TYPE, streamName: `Custom-${ALERTS_LOG_TYPE}_CL` },
  };
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
