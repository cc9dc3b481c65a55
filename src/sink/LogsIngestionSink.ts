// Sends batches to the Azure Monitor Logs Ingestion API (a DCR stream) through @azure/monitor-ingestion, which chunks
// under 1 MB, gzips and uploads chunks concurrently. A batch counts as sent only when every one of its rows was accepted.
import type { TokenCredential } from '@azure/identity';
import {
  isAggregateLogsUploadError,
  LogsIngestionClient,
  type LogsIngestionClientOptions,
  type LogsUploadFailure,
} from '@azure/monitor-ingestion';

import { HttpStatusError, isCredentialError } from '../errors.js';
import { bodyExcerpt } from '../http.js';
import { LOG_ANALYTICS_RETRY, withRetry } from '../retry.js';
import type { Batch, LogSink, SinkRuntimeOptions } from './LogSink.js';

export const DEFAULT_STREAM_NAME = 'Custom-MCAS_Activity_Log_CL';
/** Chunks uploaded at once; the SDK's default. A default 4 MiB batch is about five chunks, so one round. */
export const DEFAULT_MAX_CONCURRENCY = 5;
/** The SDK's chunk size (splitDataToChunksHelper.ts), for estimating how long one upload may take. */
const SDK_CHUNK_BYTES = 1_000_000;
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
  /** Entra audience of the API (cloud profile monitorAudience); the client asks for `<audience>/.default`. */
  audience?: string;
  /** The row's ISO 8601 field copied into TimeGenerated (the stream's timeGeneratedField). Default ActivityTime. */
  timeGeneratedField?: string;
  /** timeoutMs bounds one round of concurrent chunk uploads; an upload of more chunks gets a multiple of it. */
  maxConcurrency?: number;
  /** Pipeline options for the client, e.g. tlsOptions in tests. Retries are ours (see below), so none are taken here. */
  clientOptions?: Omit<LogsIngestionClientOptions, 'retryOptions' | 'audience'>;
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

/**
 * The rows of a batch as the DCR stream takes them: the mapped rows plus `TimeGenerated`, copied from the row's
 * `timeGeneratedField` (the activity time), else `CreatedTime` (when MCAS saved it), else now. A DCR transformation
 * cannot turn epoch milliseconds into a datetime, and DCR-based tables need TimeGenerated, so it is sent as ISO 8601.
 */
export function toIngestionRows(
  batch: Batch,
  nowMs: number,
  timeGeneratedField = 'ActivityTime',
): Record<string, unknown>[] {
  const parsed: unknown = JSON.parse(batch.body.toString('utf8'));
  if (!Array.isArray(parsed)) throw new TypeError('A batch body must be a JSON array of rows.');
  return parsed.map((row: unknown) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row))
      throw new TypeError('A batch row must be a JSON object.');
    const fields = row as Record<string, unknown>;
    const time = [fields[timeGeneratedField], fields['CreatedTime']].find(
      (v): v is string => typeof v === 'string' && v !== '',
    );
    return { TimeGenerated: time ?? new Date(nowMs).toISOString(), ...fields };
  });
}

// Retries are ours, not the SDK pipeline's (retryOptions.maxRetries = 0), because its policy (a) gives up on a 429
// without Retry-After, (b) honours any Retry-After uncapped and past the run's deadline, (c) sleeps on real timers
// that a test cannot fake, and (d) logs nothing we see. withRetry re-uploads only the rows of the failed chunks.
export class LogsIngestionSink implements LogSink {
  readonly #options: LogsIngestionSinkOptions;
  readonly #client: LogsIngestionClient;
  readonly #stream: string;
  readonly #url: string;

  constructor(options: LogsIngestionSinkOptions) {
    this.#options = options;
    this.#stream = options.streamName ?? DEFAULT_STREAM_NAME;
    const path = `/dataCollectionRules/${encodeURIComponent(options.dcrImmutableId)}/streams/${encodeURIComponent(this.#stream)}`;
    const url = new URL(path, options.endpoint);
    this.#url = url.origin + url.pathname;
    this.#client = new LogsIngestionClient(options.endpoint, options.credential, {
      ...options.clientOptions,
      ...(options.audience ? { audience: options.audience } : {}),
      retryOptions: { maxRetries: 0 },
    });
  }

  async send(batch: Batch, options: { signal?: AbortSignal; deadlineMs?: number } = {}): Promise<void> {
    const o = this.#options;
    const total = batch.recordCount;
    let pending = toIngestionRows(batch, o.clock.nowMs(), o.timeGeneratedField);
    await withRetry(
      async () => {
        const outcome = await this.#upload(pending, total, options.signal, options.deadlineMs);
        pending = outcome.left;
        if (outcome.error) throw outcome.error;
      },
      o.retry ?? LOG_ANALYTICS_RETRY,
      {
        clock: o.clock,
        sleep: o.sleep,
        log: o.log,
        operation: `Logs Ingestion batch of ${total} records`,
        deadlineMs: options.deadlineMs,
        signal: options.signal,
        onRetry: o.onRetry,
      },
    );
  }

  /** One upload of `rows`: the rows still to send (the failed chunks') and why, or no rows left. */
  async #upload(
    rows: Record<string, unknown>[],
    total: number,
    signal: AbortSignal | undefined,
    deadlineMs: number | undefined,
  ): Promise<{ left: Record<string, unknown>[]; error?: Error }> {
    const o = this.#options;
    const concurrency = Math.max(1, o.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY);
    const rounds = Math.max(1, Math.ceil(Buffer.byteLength(JSON.stringify(rows)) / SDK_CHUNK_BYTES / concurrency));
    // Never past the run's time budget, however slowly the service answers.
    const budgetMs = deadlineMs === undefined ? Infinity : Math.max(1, deadlineMs - o.clock.nowMs());
    const timeout = AbortSignal.timeout(Math.min(o.timeoutMs * rounds, budgetMs));
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let failures: LogsUploadFailure[] = [];
    try {
      await this.#client.upload(o.dcrImmutableId, this.#stream, rows, { maxConcurrency: concurrency, abortSignal });
    } catch (error) {
      if (!isAggregateLogsUploadError(error)) throw error;
      failures = error.errors;
    }
    // On abort, upload() returns without reporting the chunks it never started (concurrentPoolHelper.ts), so which
    // rows went through is unknown: all of them stay pending. Re-sending accepted ones is a duplicate, never a gap.
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      const message = `Logs Ingestion upload of ${rows.length} rows timed out; none of the batch counts as sent.`;
      throw Object.assign(new Error(message), { code: 'ETIMEDOUT' });
    }
    if (failures.length === 0) return { left: [] };
    const left = failures.flatMap((f) => f.failedLogs);
    return { left, error: this.#describe(failures, left.length, total) };
  }

  /** One error for a partly failed upload: a permanent refusal first, else a retryable one, with the counts. */
  #describe(failures: LogsUploadFailure[], failedRows: number, total: number): Error {
    const chunks = `${failures.length} chunk${failures.length === 1 ? '' : 's'}`;
    const counts = `${failedRows} of ${total} rows (${chunks}) were not accepted; none of the batch counts as sent.`;
    const retryOn = (this.#options.retry ?? LOG_ANALYTICS_RETRY).retryOnStatus;
    const withStatus = failures.filter((f) => statusOf(f.cause) !== undefined);
    const chosen = withStatus.find((f) => !retryOn.includes(statusOf(f.cause) ?? 0)) ?? withStatus[0] ?? failures[0];
    const cause = chosen?.cause ?? new Error('unknown failure');
    const status = statusOf(cause);
    if (status !== undefined) {
      const response = (cause as { response?: { headers?: { get(name: string): string | undefined } } }).response;
      const code = (cause as { code?: unknown }).code;
      return new HttpStatusError({
        service: 'Log Analytics',
        status,
        method: 'POST',
        url: this.#url,
        retryAfterHeader: response?.headers?.get('retry-after') ?? undefined,
        bodyExcerpt: bodyExcerpt(
          Buffer.from(typeof code === 'string' ? `${code}: ${cause.message}` : cause.message),
          [],
        ),
        hint: `${HINTS[status] ?? ''} ${counts}`.trim(),
      });
    }
    if (isCredentialError(cause)) {
      return new Error(
        `Could not get a token for the Logs Ingestion API: ${cause.message.slice(0, MAX_DETAIL_CHARS)} ` +
          `Turn on the function's managed identity (or set AZURE_CLIENT_ID to a user-assigned one). ${counts}`,
      );
    }
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code)) {
      // Keeps `code`, so that retry.ts treats resets and timeouts as transient.
      return Object.assign(new Error(`Could not reach the Logs Ingestion API (${code}). ${counts}`), { code });
    }
    return new Error(
      `Logs Ingestion upload failed (${cause.name}: ${cause.message.slice(0, MAX_DETAIL_CHARS)}). ${counts}`,
    );
  }
}

/** The HTTP status of a RestError from the SDK, when the service answered. */
function statusOf(error: Error): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}
