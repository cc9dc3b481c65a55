// Sends batches to the Azure Monitor Logs Ingestion API (a DCR stream): cuts the batch's own bytes into gzip calls under
// 1 MB at row boundaries, posts up to five at once with a token of the function's identity, and counts the batch as
// sent only when every one of its rows was accepted. Rows are serialized once, by the run; nothing here parses them.
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type Pipeline,
} from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';

import { rowRanges } from '../batch/BatchBuilder.js';
import { ensureError, errorCode, HttpStatusError, isCredentialError } from '../errors.js';
import { bodyExcerpt } from '../http.js';
import { LOG_ANALYTICS_RETRY, withRetry } from '../retry.js';
import type { Batch, LogSink, SinkRuntimeOptions } from './LogSink.js';

const gzip = promisify(gzipCallback);

export const DEFAULT_STREAM_NAME = 'Custom-MCAS_Activity_Log_CL';
const API_VERSION = '2023-01-01';
/** The API's limit on one call, before compression. */
export const MAX_CALL_BYTES = 1024 * 1024;
/** Calls at once, as @azure/monitor-ingestion makes them; a default 4 MiB batch is about five calls, so one round. */
const MAX_CONCURRENCY = 5;
/** The public cloud's audience; a sovereign cloud's comes from its cloud profile (monitorAudience). */
const DEFAULT_AUDIENCE = 'https://monitor.azure.com';
const MAX_DETAIL_CHARS = 300;

export interface LogsIngestionSinkOptions extends SinkRuntimeOptions {
  /** Data collection endpoint, or the DCR's own logs ingestion endpoint: https://<name>.<region>-1.ingest.monitor.azure.com. */
  endpoint: string;
  /** The DCR's immutable id, dcr-<32 hex>. */
  dcrImmutableId: string;
  /** A stream declared in the DCR. Default Custom-MCAS_Activity_Log_CL. */
  streamName?: string;
  /** The function's managed identity in Azure; it needs Monitoring Metrics Publisher on the DCR. */
  credential: TokenCredential;
  /** Entra audience of the API (cloud profile monitorAudience); the token is asked for `<audience>/.default`. */
  audience?: string;
  /** The row's ISO 8601 field copied into TimeGenerated (the stream's timeGeneratedField). Default ActivityTime. */
  timeGeneratedField?: string;
  /** TLS options of the HTTP client, for a loopback endpoint in tests. */
  clientOptions?: { tlsOptions?: { ca?: string } };
}

const HINTS: Readonly<Record<number, string>> = {
  400: 'The service rejected the rows (see its error code); check that the DCR stream declares every column the rows carry.',
  401: "The token was refused; check the function's managed identity and AZURE_CLOUD (the token audience).",
  403:
    "Give the function's managed identity the 'Monitoring Metrics Publisher' role on the data collection rule " +
    '(a new assignment can take up to 30 minutes to apply).',
  404:
    'Check LOGS_INGESTION_DCR_ID (the immutable id, dcr-...), LOGS_INGESTION_STREAM (a stream the DCR declares, ' +
    "Custom-...) and LOGS_INGESTION_ENDPOINT (the DCE, or the DCR's own endpoint, in the DCR's region).",
  413: 'One row is over the 1 MB call limit by itself; mapping truncates fields, so this is a bug: report it.',
};

/** One call's worth of rows: a JSON array, not yet compressed. */
interface Call {
  body: Buffer;
  rowCount: number;
}

/**
 * The calls of a batch as the DCR stream takes them: each row with `TimeGenerated` first, copied from the row's
 * `timeGeneratedField` (the activity time), else `CreatedTime` (when MCAS saved it), else `nowIso`, in JSON arrays of
 * at most `maxCallBytes` (a row larger than that alone goes in a call of its own). A DCR transformation cannot turn
 * epoch milliseconds into a datetime, and DCR-based tables need TimeGenerated, so it is sent as ISO 8601. The rows'
 * bytes are copied as they are; rows must not carry TimeGenerated themselves.
 */
export function toIngestionCalls(
  batch: Batch,
  nowIso: string,
  timeGeneratedField: string,
  maxCallBytes: number,
): Call[] {
  const calls: Call[] = [];
  let rows: Buffer[] = [];
  let bytes = 2; // the brackets
  const close = (): void => {
    if (rows.length === 0) return;
    const parts = rows.flatMap((row, i) => (i === 0 ? [OPEN, row] : [COMMA, row]));
    calls.push({ body: Buffer.concat([...parts, CLOSE]), rowCount: rows.length });
    rows = [];
    bytes = 2;
  };
  for (const [start, end] of rowRanges(batch.body)) {
    const original = batch.body.subarray(start, end);
    const time = topLevelString(original, timeGeneratedField) ?? topLevelString(original, 'CreatedTime') ?? nowIso;
    const head = `{"TimeGenerated":${JSON.stringify(time)}${original.length > 2 ? ',' : ''}`;
    const row = Buffer.concat([Buffer.from(head, 'utf8'), original.subarray(1)]);
    if (rows.length > 0 && bytes + 1 + row.length > maxCallBytes) close();
    bytes += row.length + (rows.length > 0 ? 1 : 0);
    rows.push(row);
  }
  close();
  return calls;
}

const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');
const COMMA = Buffer.from(',');

/**
 * The value of a top-level string field of one serialized row, read from its bytes: the keys JSON.stringify writes
 * for our column names need no escapes, so the key's quoted text is matched as it is, at depth 1 outside strings.
 */
function topLevelString(row: Buffer, field: string): string | undefined {
  const key = Buffer.from(`${JSON.stringify(field)}:"`, 'utf8');
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < row.length; i++) {
    const byte = row[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === 0x5c) escaped = true;
      else if (byte === 0x22) inString = false;
      continue;
    }
    if (byte === 0x7b || byte === 0x5b) depth++;
    else if (byte === 0x7d || byte === 0x5d) depth--;
    else if (byte === 0x22) {
      const previous = row[i - 1];
      if (depth === 1 && (previous === 0x7b || previous === 0x2c) && row.subarray(i, i + key.length).equals(key)) {
        const valueStart = i + key.length;
        const valueEnd = row.indexOf(0x22, valueStart);
        const value = row.subarray(valueStart, valueEnd).toString('utf8');
        // An ISO 8601 time has no escapes; a value with one is not a time.
        return valueEnd > valueStart && !value.includes('\\') ? value : undefined;
      }
      inString = true;
    }
  }
  return undefined;
}

// Retries are ours, not the SDK pipeline's (maxRetries 0), because its policy (a) gives up on a 429 without
// Retry-After, (b) honours any Retry-After uncapped and past the run's deadline, (c) sleeps on real timers that a test
// cannot fake, and (d) logs nothing we see. withRetry posts again only the calls that failed.
export class LogsIngestionSink implements LogSink {
  readonly #options: LogsIngestionSinkOptions;
  readonly #pipeline: Pipeline;
  readonly #httpClient: HttpClient;
  /** Origin and path of the stream; the query (api-version) is added per request. */
  readonly #url: string;

  constructor(options: LogsIngestionSinkOptions) {
    this.#options = options;
    const stream = options.streamName ?? DEFAULT_STREAM_NAME;
    const path = `/dataCollectionRules/${encodeURIComponent(options.dcrImmutableId)}/streams/${encodeURIComponent(stream)}`;
    const url = new URL(path, options.endpoint);
    this.#url = url.origin + url.pathname;
    this.#pipeline = createPipelineFromOptions({
      ...(options.clientOptions?.tlsOptions ? { tlsOptions: options.clientOptions.tlsOptions } : {}),
      retryOptions: { maxRetries: 0 },
    });
    this.#pipeline.addPolicy(
      bearerTokenAuthenticationPolicy({
        credential: options.credential,
        scopes: `${options.audience ?? DEFAULT_AUDIENCE}/.default`,
      }),
    );
    this.#httpClient = createDefaultHttpClient();
  }

  async send(batch: Batch, options: { signal?: AbortSignal; deadlineMs?: number } = {}): Promise<void> {
    const o = this.#options;
    const nowIso = new Date(o.clock.nowMs()).toISOString();
    let pending = toIngestionCalls(batch, nowIso, o.timeGeneratedField ?? 'ActivityTime', MAX_CALL_BYTES);
    await withRetry(
      async () => {
        const outcome = await this.#post(pending, batch.recordCount, options.signal);
        pending = outcome.left;
        if (outcome.error) throw outcome.error;
      },
      o.retry ?? LOG_ANALYTICS_RETRY,
      {
        clock: o.clock,
        sleep: o.sleep,
        log: o.log,
        operation: `Logs Ingestion batch of ${batch.recordCount} records`,
        deadlineMs: options.deadlineMs,
        signal: options.signal,
        onRetry: o.onRetry,
      },
    );
  }

  /**
   * Posts `calls`, up to MAX_CONCURRENCY at once: the calls still to send (those that failed) and why, or none left.
   * A call that was accepted is not sent again.
   */
  async #post(calls: Call[], total: number, signal: AbortSignal | undefined): Promise<{ left: Call[]; error?: Error }> {
    if (signal?.aborted) throw signal.reason;
    // timeoutMs bounds one round of concurrent calls; more calls get a multiple of it.
    const timeout = AbortSignal.timeout(this.#options.timeoutMs * Math.ceil(calls.length / MAX_CONCURRENCY));
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const failures: { call: Call; error: Error }[] = [];
    for (let next = 0; next < calls.length; next += MAX_CONCURRENCY) {
      const round = calls.slice(next, next + MAX_CONCURRENCY);
      const results = await Promise.allSettled(round.map((call) => this.#postCall(call, abortSignal)));
      results.forEach((result, i) => {
        if (result.status === 'rejected') failures.push({ call: round[i] as Call, error: ensureError(result.reason) });
      });
    }
    // Which calls of an aborted round went through is unknown: all of them are sent again. A duplicate, never a gap.
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      const message = `Logs Ingestion upload of ${total} rows timed out; none of the batch counts as sent.`;
      throw Object.assign(new Error(message), { code: 'ETIMEDOUT' });
    }
    if (failures.length === 0) return { left: [] };
    const left = failures.map((f) => f.call);
    const failedRows = left.reduce((sum, call) => sum + call.rowCount, 0);
    return {
      left,
      error: this.#describe(
        failures.map((f) => f.error),
        failedRows,
        total,
      ),
    };
  }

  async #postCall(call: Call, abortSignal: AbortSignal): Promise<void> {
    const request = createPipelineRequest({
      url: `${this.#url}?api-version=${API_VERSION}`,
      method: 'POST',
      body: await gzip(call.body),
      abortSignal,
    });
    request.headers.set('content-type', 'application/json');
    request.headers.set('content-encoding', 'gzip');
    request.headers.set('accept', 'application/json');
    const response = await this.#pipeline.sendRequest(this.#httpClient, request);
    if (response.status === 204 || response.status === 200) return;
    throw new HttpStatusError({
      service: 'Log Analytics',
      status: response.status,
      method: 'POST',
      url: this.#url,
      retryAfterHeader: response.headers.get('retry-after'),
      bodyExcerpt: bodyExcerpt(Buffer.from(response.bodyAsText ?? ''), []),
    });
  }

  /** One error for a partly failed upload: a permanent refusal first, else a retryable one, with the counts. */
  #describe(errors: Error[], failedRows: number, total: number): Error {
    const chunks = `${errors.length} chunk${errors.length === 1 ? '' : 's'}`;
    const counts = `${failedRows} of ${total} rows (${chunks}) were not accepted; none of the batch counts as sent.`;
    const retryOn = (this.#options.retry ?? LOG_ANALYTICS_RETRY).retryOnStatus;
    const refusals = errors.filter((e): e is HttpStatusError => e instanceof HttpStatusError);
    const refusal = refusals.find((e) => !retryOn.includes(e.status)) ?? refusals[0];
    if (refusal) {
      return new HttpStatusError({
        service: refusal.service,
        status: refusal.status,
        method: refusal.method,
        url: refusal.url,
        retryAfterHeader: refusal.retryAfterHeader,
        bodyExcerpt: refusal.bodyExcerpt,
        hint: `${HINTS[refusal.status] ?? ''} ${counts}`.trim(),
      });
    }
    const cause = errors[0] ?? new Error('unknown failure');
    if (isCredentialError(cause)) {
      return new Error(
        `Could not get a token for the Logs Ingestion API: ${cause.message.slice(0, MAX_DETAIL_CHARS)} ` +
          `Turn on the function's managed identity (or set AZURE_CLIENT_ID to a user-assigned one). ${counts}`,
      );
    }
    const code = errorCode(cause);
    if (code !== undefined && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) {
      // Keeps `code`, so that retry.ts treats resets and timeouts as transient.
      return Object.assign(new Error(`Could not reach the Logs Ingestion API (${code}). ${counts}`), { code });
    }
    return new Error(
      `Logs Ingestion upload failed (${cause.name}: ${cause.message.slice(0, MAX_DETAIL_CHARS)}). ${counts}`,
    );
  }
}
