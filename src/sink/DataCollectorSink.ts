// Sends batches to the Log Analytics HTTP Data Collector API, signed per attempt, with retries for 429/5xx/resets.
import type { Dispatcher } from 'undici';

import { splitBatchInHalf } from '../batch/BatchBuilder.js';
import { HttpStatusError } from '../errors.js';
import { type HttpRequest, sendRequest } from '../http.js';
import { LOG_ANALYTICS_RETRY, withRetry } from '../retry.js';
import type { Secret } from '../Secret.js';
import type { Batch, LogSink, SinkRuntimeOptions } from './LogSink.js';
import { sharedKeyAuthorization } from './sharedKeyAuthorization.js';

const API_VERSION = '2016-04-01';

export interface DataCollectorSinkOptions extends SinkRuntimeOptions {
  /** Origin, e.g. https://<workspaceId>.ods.opinsights.azure.com, or a loopback server in tests. */
  endpoint: string;
  workspaceId: string;
  workspaceKey: Secret;
  logType: string;
  /** Name of an ISO 8601 field in every row that becomes TimeGenerated. */
  timeGeneratedField: string;
  dispatcher: Dispatcher;
}

const HINTS: Readonly<Record<number, string>> = {
  400: 'The service rejected the data or a header (see its error code); this is a bug or a bad LOG_TYPE.',
  401: 'Check the workspace key.',
  403: "Check LOG_ANALYTICS_WORKSPACE_ID and the workspace key (primary or secondary), and that this machine's clock is right (x-ms-date).",
  404: 'Check LOG_ANALYTICS_WORKSPACE_ID and LOG_ANALYTICS_ENDPOINT.',
  413: 'The batch is over the 30 MB post limit; lower MAX_BATCH_BYTES.',
};

function isTooLarge(error: unknown): boolean {
  return error instanceof HttpStatusError && (error.status === 413 || error.status === 404);
}

export class DataCollectorSink implements LogSink {
  readonly #options: DataCollectorSinkOptions;
  readonly #keyBytes: Buffer;
  readonly #url: URL;

  constructor(options: DataCollectorSinkOptions) {
    this.#options = options;
    this.#keyBytes = Buffer.from(options.workspaceKey.reveal(), 'base64');
    this.#url = new URL(`/api/logs?api-version=${API_VERSION}`, options.endpoint);
  }

  async send(batch: Batch, options: { signal?: AbortSignal; deadlineMs?: number } = {}): Promise<void> {
    try {
      await this.#sendWithRetry(batch, options);
    } catch (error) {
      // 413, or 404 (IIS's 404.13, "request too large", per Microsoft's status table): split once; a half that is
      // refused again fails the run, so a wrong URL still fails after one extra request instead of looping.
      if (!isTooLarge(error) || batch.recordCount < 2) throw error;
      this.#options.log.warn(
        `Log Analytics refused a ${batch.body.length}-byte batch (${(error as HttpStatusError).status}); sending it in two halves.`,
      );
      for (const half of splitBatchInHalf(batch)) await this.#sendWithRetry(half, options);
    }
  }

  async #sendWithRetry(batch: Batch, options: { signal?: AbortSignal; deadlineMs?: number }): Promise<void> {
    const o = this.#options;
    await withRetry(() => this.#post(batch, options), o.retry ?? LOG_ANALYTICS_RETRY, {
      clock: o.clock,
      sleep: o.sleep,
      log: o.log,
      operation: `Log Analytics batch of ${batch.recordCount} records`,
      deadlineMs: options.deadlineMs,
      signal: options.signal,
      onRetry: o.onRetry,
    });
  }

  /** One attempt, built from scratch: a fresh x-ms-date and signature each time. */
  async #post(batch: Batch, { signal, deadlineMs }: { signal?: AbortSignal; deadlineMs?: number }): Promise<void> {
    const o = this.#options;
    const rfc1123Date = new Date(o.clock.nowMs()).toUTCString();
    const request: HttpRequest = {
      service: 'Log Analytics',
      method: 'POST',
      url: this.#url,
      headers: {
        'content-type': 'application/json',
        'log-type': o.logType,
        'x-ms-date': rfc1123Date,
        'time-generated-field': o.timeGeneratedField,
        authorization: sharedKeyAuthorization({
          workspaceId: o.workspaceId,
          keyBytes: this.#keyBytes,
          rfc1123Date,
          contentLengthBytes: batch.body.length,
        }),
      },
      body: batch.body,
      timeoutMs: o.timeoutMs,
      budgetMs: deadlineMs === undefined ? undefined : deadlineMs - o.clock.nowMs(),
      signal,
      redact: [o.workspaceKey.reveal()],
      maxResponseBytes: 64 * 1024,
      hints: HINTS,
    };
    await sendRequest(o.dispatcher, request);
  }
}
