// Sends each run report to Application Insights over its ingestion API (POST {IngestionEndpoint}/v2.1/track, the
// "Breeze" protocol of the official SDKs): one custom event and two custom metrics, with an Entra token when given one.
//
// Why not the Functions host or the maintained SDK. The host already sends invocations, and every log line of a run
// (the `Run report {...}` line included) as a `traces` row; but a trace is text to parse in every query, and it is
// subject to the host's adaptive sampling (host.json samples all but requests and exceptions), so an alert on it could
// miss a run. The lag and failure alerts and the workbook query customEvents/customMetrics, which only an SDK-shaped
// sender produces. Measured on this project's build machine (2 cores, shared and loaded, 5 fresh processes each, Node
// 22): `applicationinsights` 3.16 installs 177 MB of node_modules and takes 4.0-5.4 s to import plus 0.1-0.3 s to set
// up, 140 MB RSS; `@azure/monitor-opentelemetry` 1.18 installs 173 MB, 2.7-3.8 s to import, 0.1-0.2 s to set up,
// 110 MB RSS; this module adds 2-15 ms and about 1 MB to a process that has loaded the run (45 MB bare node, 82 MB
// with the run's modules). A cold start pays the SDK's import on every scale-out, for three data points a run; this
// module reuses the run's undici dispatcher, retry policy, redaction and credential.
import { hostname } from 'node:os';

import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Dispatcher } from 'undici';

import type { Clock, Sleep } from '../clock.js';
import { isLoopbackHost } from '../config.js';
import { errorCode, HttpStatusError } from '../errors.js';
import { isTransientNetworkError, redactText, sendRequest } from '../http.js';
import type { Logger } from '../logger.js';
import { type RetryPolicy, withRetry } from '../retry.js';
import type { RunReport, Telemetry } from './RunReport.js';

/** Where the official SDKs send telemetry when the connection string names no endpoint. */
export const DEFAULT_INGESTION_ENDPOINT = 'https://dc.services.visualstudio.com';
/**
 * Entra scope for ingestion: the audience `https://monitor.azure.com/` plus `/.default`, as the Python exporter and
 * earlier JS exporters send it (the current JS exporter sends `https://monitor.azure.com/.default`; Entra takes both).
 */
export const INGESTION_SCOPE = 'https://monitor.azure.com//.default';
export const RUN_EVENT_NAME = 'McasConnectorRun';
export const LAG_METRIC_NAME = 'McasLagMinutes';
export const SENT_METRIC_NAME = 'McasRecordsSent';
export const DEFAULT_ROLE_NAME = 'mcas-activity-connector';
const SDK_VERSION = 'mcas-activity-connector:0.1.0';

/** All of one report's sending (token, attempts, waits) ends within this; telemetry must not hold up a run. */
const MAX_SEND_MS = 10_000;
/**
 * Three attempts with short backoff. A Retry-After is honoured when it fits in MAX_SEND_MS; a longer one ends the
 * attempts at once (withRetry caps a delay at maxDelayMs, then refuses any wait that would pass the deadline).
 */
export const APP_INSIGHTS_RETRY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: MAX_SEND_MS,
  retryOnStatus: [408, 429, 500, 502, 503, 504],
});
/** The service's limit on a property value; longer values are cut. */
const MAX_PROPERTY_CHARS = 8_192;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AppInsightsConnection {
  instrumentationKey: string;
  /** Base URL of the ingestion API, without a trailing slash. */
  ingestionEndpoint: string;
  /** `AADAudience`, given in sovereign clouds' connection strings; the token scope is then `<audience>/.default`. */
  aadAudience?: string;
}

/** `Key=Value;Key=Value` into lower-cased keys. Errors name `what`, never the text, so nothing of it reaches a log. */
function parsePairs(value: string, what: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const segment of value.split(';')) {
    if (segment.trim() === '') continue;
    const equals = segment.indexOf('=');
    const key = equals > 0 ? segment.slice(0, equals).trim().toLowerCase() : '';
    if (key === '') throw new Error(`${what} is malformed: expected Key=Value pairs separated by ";".`);
    pairs.set(key, segment.slice(equals + 1).trim());
  }
  return pairs;
}

function parseEndpoint(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${what}: IngestionEndpoint is not a URL.`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new Error(`${what}: IngestionEndpoint must use https://.`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new Error(`${what}: IngestionEndpoint must not carry credentials, a query or a fragment.`);
  }
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

/**
 * Parses an Application Insights connection string (`InstrumentationKey=<guid>;IngestionEndpoint=https://...;...`;
 * keys in any case). Without IngestionEndpoint it uses EndpointSuffix (and Location) as the SDKs do, else the global
 * endpoint. Throws an Error that names the problem, never the string's contents.
 */
export function parseConnectionString(value: string): AppInsightsConnection {
  const what = 'Application Insights connection string';
  const pairs = parsePairs(value, what);
  if (pairs.size === 0) throw new Error(`${what} is empty.`);
  const instrumentationKey = pairs.get('instrumentationkey');
  if (!instrumentationKey) throw new Error(`${what} has no InstrumentationKey.`);
  if (!GUID.test(instrumentationKey)) throw new Error(`${what}: InstrumentationKey is not a GUID.`);
  const endpoint = pairs.get('ingestionendpoint');
  const suffix = pairs.get('endpointsuffix');
  const location = pairs.get('location');
  const ingestionEndpoint = endpoint
    ? parseEndpoint(endpoint, what)
    : suffix
      ? parseEndpoint(`https://${location ? `${location}.` : ''}dc.${suffix}`, what)
      : DEFAULT_INGESTION_ENDPOINT;
  const aadAudience = pairs.get('aadaudience');
  return aadAudience
    ? { instrumentationKey, ingestionEndpoint, aadAudience }
    : { instrumentationKey, ingestionEndpoint };
}

/**
 * Parses APPLICATIONINSIGHTS_AUTHENTICATION_STRING (`Authorization=AAD;ClientId=<guid>`, in any order and case).
 * Returns undefined when the value is absent or blank (no Entra auth asked for); `{}` for a system-assigned identity;
 * `{ clientId }` for a user-assigned one. Throws on anything else, so a typo does not silently drop telemetry.
 */
export function parseAuthenticationString(value: string | undefined): { clientId?: string } | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const what = 'Application Insights authentication string';
  const pairs = parsePairs(value, what);
  if (pairs.get('authorization')?.toLowerCase() !== 'aad') {
    throw new Error(`${what}: expected Authorization=AAD, optionally with ClientId=<client id of the identity>.`);
  }
  const clientId = pairs.get('clientid');
  if (clientId === undefined || clientId === '') return {};
  if (!GUID.test(clientId)) throw new Error(`${what}: ClientId is not a GUID.`);
  return { clientId };
}

export interface AppInsightsTelemetryOptions {
  connectionString: string;
  /** Gets the Entra token the component requires when local auth is disabled; without it no Authorization is sent. */
  credential?: TokenCredential | undefined;
  dispatcher: Dispatcher;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  timeoutMs: number;
  /** `cloud_RoleName` of the telemetry; default `mcas-activity-connector`. */
  roleName?: string | undefined;
}

/** One item of the track API's body; see telemetryItemSerializer in @azure/monitor-opentelemetry-exporter. */
interface Envelope {
  name: string;
  time: string;
  iKey: string;
  sampleRate: number;
  tags: Record<string, string>;
  data: { baseType: 'EventData' | 'MetricData'; baseData: Record<string, unknown> };
}

/** The track endpoint's answer, as far as it can be trusted: any field may be missing or of another type. */
interface TrackResponse {
  itemsReceived?: unknown;
  itemsAccepted?: unknown;
  errors?: unknown;
}

interface TrackError {
  index?: unknown;
  statusCode?: unknown;
  message?: unknown;
}

const HINTS: Readonly<Record<number, string>> = {
  400: 'the service rejected the telemetry (a bug, or an InstrumentationKey that names no component)',
  401: 'no Entra token, or one the service refused; local auth is disabled, so set APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  403: 'the identity lacks the Monitoring Metrics Publisher role on the Application Insights component',
  404: 'check the IngestionEndpoint of the connection string',
};

/** Sends run reports to Application Insights. trackRun never throws: a failure is one warning, and the run goes on. */
export class AppInsightsTelemetry implements Telemetry {
  readonly #options: AppInsightsTelemetryOptions;
  readonly #connection: AppInsightsConnection;
  readonly #trackUrl: URL;
  readonly #scope: string;
  readonly #tags: Record<string, string>;

  /** Throws when the connection string is malformed. */
  constructor(options: AppInsightsTelemetryOptions) {
    this.#options = options;
    this.#connection = parseConnectionString(options.connectionString);
    this.#trackUrl = new URL(`${this.#connection.ingestionEndpoint}/v2.1/track`);
    const audience = this.#connection.aadAudience;
    this.#scope = audience ? `${audience}/.default` : INGESTION_SCOPE;
    this.#tags = {
      'ai.cloud.role': options.roleName ?? DEFAULT_ROLE_NAME,
      'ai.cloud.roleInstance': hostname(),
      'ai.internal.sdkVersion': SDK_VERSION,
    };
  }

  async trackRun(report: RunReport): Promise<void> {
    const redact: string[] = [this.#connection.instrumentationKey];
    try {
      const response = await this.#send(this.#envelopes(report), redact);
      const rejected = describeRejectedItems(response, redact);
      if (rejected)
        this.#options.log.warn(`Application Insights refused part of the run report of ${report.stream}: ${rejected}.`);
    } catch (error) {
      this.#options.log.warn(
        `Application Insights did not take the run report of ${report.stream}: ${describeFailure(error, redact)}.`,
      );
    }
  }

  async #send(envelopes: Envelope[], redact: string[]): Promise<TrackResponse> {
    const o = this.#options;
    const signal = AbortSignal.timeout(MAX_SEND_MS);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (o.credential) {
      const token = await getToken(o.credential, this.#scope, signal);
      redact.push(token);
      headers['authorization'] = `Bearer ${token}`;
    }
    const body = JSON.stringify(envelopes);
    // App Insights is not among errors.ts's service names; it is workspace-based, so its rows land in Log Analytics.
    const send = () =>
      sendRequest(o.dispatcher, {
        service: 'Application Insights',
        method: 'POST',
        url: this.#trackUrl,
        headers,
        body,
        timeoutMs: o.timeoutMs,
        signal,
        redact,
        maxResponseBytes: 64 * 1024,
        hints: HINTS,
      });
    // Retries are routine here; they go to the info log so that a failed report costs one warning in all.
    const retryLog: Logger = { info: (m) => o.log.info(m), warn: (m) => o.log.info(m), error: (m) => o.log.error(m) };
    const response = await withRetry(send, APP_INSIGHTS_RETRY, {
      clock: o.clock,
      sleep: o.sleep,
      log: retryLog,
      operation: 'Application Insights run report',
      deadlineMs: o.clock.nowMs() + MAX_SEND_MS,
      signal,
    });
    return parseTrackResponse(response.body);
  }

  #envelopes(report: RunReport): Envelope[] {
    const time = new Date(this.#options.clock.nowMs()).toISOString();
    const envelope = (
      name: string,
      baseType: Envelope['data']['baseType'],
      baseData: Record<string, unknown>,
    ): Envelope => ({
      name,
      time,
      iKey: this.#connection.instrumentationKey,
      sampleRate: 100,
      tags: { ...this.#tags },
      data: { baseType, baseData },
    });
    const properties: Record<string, string> = {
      stream: report.stream,
      outcome: report.outcome,
      moreToDo: String(report.moreToDo),
      checkpoint: report.checkpoint,
      startedAt: report.startedAt,
    };
    if (report.error !== undefined) properties['error'] = report.error.slice(0, MAX_PROPERTY_CHARS);
    if (report.tenant !== undefined) properties['tenant'] = report.tenant;
    const measurements = finiteOnly({
      fetched: report.fetched,
      sent: report.sent,
      flagged: report.flagged,
      batches: report.batches,
      pages: report.pages,
      retries: report.retries,
      throttled: report.throttled,
      throttleWaitMs: report.throttleWaitMs,
      durationMs: report.durationMs,
      lagMinutes: report.lagMinutes,
    });
    const envelopes = [
      envelope('Microsoft.ApplicationInsights.Event', 'EventData', {
        ver: 2,
        name: RUN_EVENT_NAME,
        properties,
        measurements,
      }),
    ];
    for (const [name, value] of [
      [LAG_METRIC_NAME, report.lagMinutes],
      [SENT_METRIC_NAME, report.sent],
    ] as const) {
      if (!Number.isFinite(value)) continue;
      // One data point per item (the service stores only the first); an aggregation of one sample.
      const metric = { name, kind: 'Aggregation', value, count: 1, min: value, max: value, stdDev: 0 };
      envelopes.push(
        envelope('Microsoft.ApplicationInsights.Metric', 'MetricData', {
          ver: 2,
          metrics: [metric],
          properties: { stream: report.stream, ...(report.tenant !== undefined ? { tenant: report.tenant } : {}) },
        }),
      );
    }
    return envelopes;
  }
}

async function getToken(credential: TokenCredential, scope: string, signal: AbortSignal): Promise<string> {
  let token: AccessToken | null;
  try {
    token = await credential.getToken(scope, { abortSignal: signal });
  } catch (error) {
    throw new TokenError(error);
  }
  if (!token?.token) throw new TokenError(undefined);
  return token.token;
}

class TokenError extends Error {
  constructor(cause: unknown) {
    const reason =
      cause instanceof Error ? `${cause.name}: ${firstLine(cause.message)}` : 'the credential returned none';
    super(`no Entra token for Application Insights (${reason})`, { cause });
    this.name = 'TokenError';
  }
}

function networkCode(error: unknown): string {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = errorCode(e);
    if (code !== undefined) return code;
  }
  return 'unknown';
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function finiteOnly(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => Number.isFinite(value)));
}

function parseTrackResponse(body: Buffer): TrackResponse {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** For a 200/206 that did not accept every item: how many, and why (the service's per-item messages). */
function describeRejectedItems(response: TrackResponse, redact: readonly string[]): string | undefined {
  const { itemsReceived, itemsAccepted } = response;
  const errors: TrackError[] = Array.isArray(response.errors)
    ? response.errors.filter((e): e is TrackError => typeof e === 'object' && e !== null)
    : [];
  const short =
    typeof itemsReceived === 'number' && typeof itemsAccepted === 'number' && itemsAccepted < itemsReceived
      ? `accepted ${itemsAccepted} of ${itemsReceived} items`
      : undefined;
  if (!short && errors.length === 0) return undefined;
  const details = errors
    .slice(0, 3)
    .map((e) =>
      `item ${scalar(e.index, '?')}: ${scalar(e.statusCode, '?')} ${redactText(firstLine(scalar(e.message, '')), redact)}`.trim(),
    );
  const counts = short ?? 'some items were refused';
  return [counts, ...details].join('; ');
}

/** The reason for a warning: a status and hint, a network code, or an error name. No URL, key or token. */
function describeFailure(error: unknown, redact: readonly string[]): string {
  if (error instanceof HttpStatusError) {
    const hint = HINTS[error.status];
    const excerpt = redactText(error.bodyExcerpt, redact);
    return `status ${error.status}${hint ? `, ${hint}` : ''}${excerpt ? `; it answered ${excerpt}` : ''}`;
  }
  if (error instanceof TokenError) return redactText(error.message, redact);
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `gave up after ${MAX_SEND_MS / 1000} s`;
  }
  if (isTransientNetworkError(error)) return `network error ${networkCode(error)}`;
  return error instanceof Error ? `${error.name}: ${redactText(firstLine(error.message), redact)}` : 'unknown error';
}

/** A number or string from the service's answer as text; anything else (missing, an object) as `fallback`. */
function scalar(value: unknown, fallback: string): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
}
