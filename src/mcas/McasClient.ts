// The Defender for Cloud Apps Activities API: one method per call, with auth, timeouts, retries and envelope checks.
import type { Dispatcher } from 'undici';
import type { z } from 'zod';

import type { Clock, Sleep } from '../clock.js';
import { PageSyntaxError, ResponseShapeError } from '../errors.js';
import { headerValue, ReceiveBuffer, sendRequest } from '../http.js';
import { escapeControlCharacters, redactSecrets } from '../redact.js';
import type { Logger } from '../logger.js';
import { MCAS_RETRY, type RetryInfo, type RetryPolicy, withRetry } from '../retry.js';
import type { McasAuthorization } from './mcasAuth.js';
import type { RequestPacer } from './RequestPacer.js';
import { indexPage, type PageIndex } from './indexPage.js';
import { type McasPage, McasPageSchema, type PageRecords } from './schema.js';
import type { SourceClock } from './sourceClock.js';

/** The list resources we read: POST /api/v1/<resource>/. */
export type McasResource = 'activities' | 'alerts';

/** The body of POST /api/v1/activities/ and /api/v1/alerts/ (Microsoft's api-activities-list, api-alerts-list). */
export interface ActivitiesQuery {
  filters: Record<string, unknown>;
  sortField: 'created' | 'date';
  sortDirection: 'asc' | 'desc';
  skip: number;
  limit: number;
  isScan?: boolean;
}

export interface McasClientOptions {
  /** Origin of the tenant's API, e.g. https://contoso.us2.portal.cloudappsecurity.com or a loopback server. */
  portalUrl: string;
  /** tokenAuthorization(secret) (the API token) or entraAuthorization(credential), from ./mcasAuth.js. */
  authorization: McasAuthorization;
  dispatcher: Dispatcher;
  timeoutMs: number;
  clock: Clock;
  sleep: Sleep;
  log: Logger;
  retry?: RetryPolicy;
  onRetry?: (info: RetryInfo) => void;
  /** Spaces requests to stay under the tenant's rate limit; every attempt, retries included, takes a slot. */
  pacer?: RequestPacer;
  /** Learns MCAS's own time from the Date header of every page, so windows and cursors never run ahead of it. */
  sourceClock?: SourceClock;
}

/** What to check, by status; 401 and 403 come from the authorization in use (token or Entra). */
const HINTS: Readonly<Record<number, string>> = {
  400: 'MCAS rejected the query; check MCAS_ACTIVITY_FILTERS against the error in the response.',
  404: 'Check MCAS_PORTAL_URL: it should be the API URL shown beside the API token.',
};

export class McasClient {
  readonly #options: McasClientOptions;
  /** Every page is gathered into this one buffer and parsed before the next request (see ReceiveBuffer). */
  readonly #receiveBuffer = new ReceiveBuffer();

  constructor(options: McasClientOptions) {
    this.#options = options;
  }

  /** One page of a list resource. Throws HttpStatusError (after retries) or ResponseShapeError. */
  async list(
    resource: McasResource,
    query: ActivitiesQuery,
    options: { signal?: AbortSignal; deadlineMs?: number } = {},
  ): Promise<McasPage> {
    const o = this.#options;
    const url = new URL(`/api/v1/${resource}/`, o.portalUrl);
    const body = JSON.stringify(query);
    const page = await withRetry(
      async () => {
        const release = await o.pacer?.acquire({ signal: options.signal, deadlineMs: options.deadlineMs });
        try {
          // Per attempt: a token that expired during a long backoff is renewed (entraAuthorization caches it).
          const authorization = await o.authorization.header(options.signal);
          const secret = authorization.slice(authorization.indexOf(' ') + 1);
          const response = await sendRequest(o.dispatcher, {
            service: 'MCAS',
            method: 'POST',
            url,
            headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
            body,
            timeoutMs: o.timeoutMs,
            budgetMs: options.deadlineMs === undefined ? undefined : options.deadlineMs - o.clock.nowMs(),
            signal: options.signal,
            redact: [secret],
            hints: { ...HINTS, ...o.authorization.hints },
            receiveBuffer: this.#receiveBuffer,
            // MCAS counted the request before it answered: the slot's window can start at the answer's headers, so
            // reading and parsing a large page does not stretch the request rate (the finally covers failures).
            ...(release ? { onResponse: release } : {}),
          });
          o.sourceClock?.observe(headerValue(response.headers, 'date'), o.clock.nowMs());
          // Indexed here, before the next request may read into the same buffer. A page that is not JSON fails with a
          // ResponseShapeError, which is never retried. A scan page (up to 5,000 records, about 22 MB) keeps its
          // bytes and parses each record as it is read, freeing the buffer after the last; other pages (at most 100
          // records) are parsed at once and free it now.
          let lazy = false;
          try {
            const page = parsePage(response.body, {
              lazy: query.isScan === true,
              release: response.release,
              redact: [secret],
            });
            lazy = query.isScan === true;
            return page;
          } finally {
            if (!lazy) response.release();
          }
        } finally {
          release?.();
        }
      },
      o.retry ?? MCAS_RETRY,
      {
        clock: o.clock,
        sleep: o.sleep,
        log: o.log,
        operation: `MCAS ${resource} page`,
        deadlineMs: options.deadlineMs,
        signal: options.signal,
        onRetry: o.onRetry,
      },
    );
    return page;
  }
}

/**
 * Parses a page: the envelope is checked with McasPageSchema and the records are parsed one by one from the bytes
 * (indexPage), never as one page-long string (BENCHMARKS.md, CPU and Memory). With `lazy`, each record is parsed only
 * when iterated and `release` is called once the last one was (or `data.release()`), so `body` must stay untouched
 * until then. Throws ResponseShapeError for a body that is not JSON or an envelope of another shape; a lazy page throws
 * it from its iterator when a record turns out not to be JSON.
 */
export function parsePage(
  body: Buffer,
  options: { lazy?: boolean; release?: () => void; redact?: readonly string[] } = {},
): McasPage {
  let index: PageIndex;
  try {
    index = indexPage(body);
  } catch (error) {
    if (!(error instanceof PageSyntaxError)) throw error;
    // JSON of another shape (null, an array, a string) is told apart from a body that is not JSON at all.
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw notJson(body, options.redact ?? []);
    }
    throw envelopeError(McasPageSchema.safeParse(json).error);
  }
  const parsed = McasPageSchema.safeParse(index.starts ? { ...index.envelope, data: [] } : index.envelope);
  if (!parsed.success) throw envelopeError(parsed.error);
  const starts = index.starts ?? [];
  const records = new LazyRecords(body, starts, index.ends, options.release);
  return { ...parsed.data, data: options.lazy ? records : [...records] };
}

function envelopeError(error: z.ZodError | undefined): ResponseShapeError {
  const issues = (error?.issues ?? []).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return new ResponseShapeError(`MCAS page envelope did not match the expected shape: ${issues}.`);
}

function notJson(body: Buffer, redact: readonly string[]): ResponseShapeError {
  // Redacted over the whole first kilobyte, so that a secret cut by the 40-character excerpt is still recognised.
  const text = redactSecrets(body.subarray(0, 1024).toString('utf8'), redact);
  const start = escapeControlCharacters(text.slice(0, 40).replace(/\s+/g, ' '));
  return new ResponseShapeError(
    `MCAS answered with a body that is not JSON (it starts "${start}"); a proxy or an outage page?`,
  );
}

/** The records of one page, parsed from its bytes one at a time as they are iterated (once). */
class LazyRecords implements PageRecords {
  readonly #body: Buffer;
  readonly #starts: readonly number[];
  readonly #ends: readonly number[];
  #release: (() => void) | undefined;

  constructor(body: Buffer, starts: readonly number[], ends: readonly number[], release: (() => void) | undefined) {
    this.#body = body;
    this.#starts = starts;
    this.#ends = ends;
    this.#release = release;
  }

  get length(): number {
    return this.#starts.length;
  }

  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  *[Symbol.iterator](): Generator {
    try {
      for (let i = 0; i < this.#starts.length; i++) {
        const text = this.#body.toString('utf8', this.#starts[i], this.#ends[i]);
        let record: unknown;
        try {
          record = JSON.parse(text);
        } catch {
          throw new ResponseShapeError(`MCAS answered with a page whose record ${i + 1} is not JSON.`);
        }
        yield record;
      }
    } finally {
      this.release();
    }
  }
}
