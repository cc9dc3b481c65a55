// The error classes a run can end with. Each says when it is thrown and what an operator should do about it.
// Messages never contain a secret, a request body we sent, or a URL query.
import { plural } from './plural.js';
import type { ServiceTarget } from './unreachable.js';

/** Settings are missing or malformed. The message lists every problem at once; the fix is in the app settings. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid settings (${problems.length}):\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A secret could not be read (vault unreachable, secret missing or empty). Names the vault and secret, never a value. */
export class SecretError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SecretError';
  }
}

export type ServiceName = 'MCAS' | 'Log Analytics' | 'Application Insights';

export interface HttpStatusErrorDetails {
  service: ServiceName;
  status: number;
  method: string;
  /** Origin and path only; never the query. */
  url: string;
  /** The raw Retry-After header (seconds or an HTTP date); src/retry.ts turns it into a delay against its clock. */
  retryAfterHeader?: string | undefined;
  /** At most 500 characters of the response body. */
  bodyExcerpt: string;
  /** What an operator should check, when we know. */
  hint?: string | undefined;
}

/**
 * A non-2xx answer from MCAS or Log Analytics. 429 and 5xx are retried before this reaches a run;
 * other statuses are permanent: the run fails and the checkpoint stays where it was.
 */
export class HttpStatusError extends Error {
  readonly service: ServiceName;
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly retryAfterHeader: string | undefined;
  readonly bodyExcerpt: string;
  constructor(details: HttpStatusErrorDetails) {
    const hint = details.hint ? ` ${details.hint}` : '';
    const body = details.bodyExcerpt ? ` Response: ${details.bodyExcerpt}` : '';
    super(`${details.service} answered ${details.status} to ${details.method} ${details.url}.${hint}${body}`);
    this.name = 'HttpStatusError';
    this.service = details.service;
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
    this.retryAfterHeader = details.retryAfterHeader;
    this.bodyExcerpt = details.bodyExcerpt;
  }
}

/** A page envelope from MCAS did not match its schema. The API changed or a proxy answered; a person needs to look. */
export class ResponseShapeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResponseShapeError';
  }
}

/** One mapped record alone is larger than a post may be. Mapping truncates fields, so this is a bug: report it. */
export class RecordTooLargeError extends Error {
  readonly recordBytes: number;
  readonly maxBatchBytes: number;
  constructor(recordId: string, recordBytes: number, maxBatchBytes: number) {
    super(`Record ${recordId} is ${recordBytes} bytes after mapping, over the ${maxBatchBytes}-byte batch limit.`);
    this.name = 'RecordTooLargeError';
    this.recordBytes = recordBytes;
    this.maxBatchBytes = maxBatchBytes;
  }
}

/**
 * Another run advanced the checkpoint since this run read it (ETag mismatch). This run stops without
 * writing; the other run's progress stands. Nothing to do unless it happens every time (two schedules?).
 */
export class CheckpointConflictError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CheckpointConflictError';
  }
}

/** Some batches of a run were accepted and a later one was not. The checkpoint covers exactly the accepted ones. */
export class PartialSendError extends Error {
  readonly batchesSent: number;
  readonly recordsSent: number;
  constructor(batchesSent: number, recordsSent: number, cause: Error) {
    super(
      `Sent ${plural(recordsSent, 'record', 'records')} in ${plural(batchesSent, 'batch', 'batches')}, then failed: ` +
        `${cause.message} ` +
        'The checkpoint covers the accepted batches; the next run resumes from there.',
      { cause },
    );
    this.name = 'PartialSendError';
    this.batchesSent = batchesSent;
    this.recordsSent = recordsSent;
  }
}

/**
 * The run's time budget would be passed by the next wait. Not a failure: the run stops between pages, saves what was
 * accepted and reports more to do; the next run continues.
 */
export class DeadlineReachedError extends Error {
  constructor(what: string) {
    super(`Stopped early: ${what}.`);
    this.name = 'DeadlineReachedError';
  }
}

const CREDENTIAL_ERROR_NAMES = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
  'AuthenticationRequiredError',
]);

/** True for @azure/identity's failures to get a token (no managed identity, a refused secret, ...). */
export function isCredentialError(error: unknown): boolean {
  return error instanceof Error && CREDENTIAL_ERROR_NAMES.has(error.name);
}

/** The string `code` a thrown value carries (Node's `ECONNRESET`, undici's `UND_ERR_…`, an SDK's `BlobNotFound`), if any. */
export function errorCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The HTTP status an Azure SDK error (RestError) carries when the service answered, if any. */
export function errorStatus(error: unknown): number | undefined {
  const status =
    typeof error === 'object' && error !== null ? (error as { statusCode?: unknown }).statusCode : undefined;
  return typeof status === 'number' ? status : undefined;
}

/**
 * No Entra token could be had for Defender for Cloud Apps (no managed identity, wrong tenant/client id, bad or expired
 * secret or certificate). The run fails before MCAS is called; fix the identity settings. Never holds a secret.
 */
export class McasAuthError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'McasAuthError';
  }
}

/** An aborted signal's reason as an Error (AbortSignal allows any value), for rejecting with it. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(typeof reason === 'string' ? reason : 'The request was aborted.');
}

/** Turns any thrown value into an Error, at the boundaries where unknown values can arrive. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : `Non-error thrown: ${String(value)}`);
}

/**
 * MCAS (or something in front of it) sent a page that breaks what paging relies on. The run delivered the records that
 * came before that page and stopped with this error; the checkpoint did not pass them. Nothing in the settings causes
 * it. If it repeats, the message says what MCAS sent: report it to Microsoft, or look for a proxy rewriting answers.
 */
export class UntrustedPageError extends Error {
  constructor(message: string) {
    super(`${message} Stopped before delivering that page; the checkpoint stays before it.`);
    this.name = 'UntrustedPageError';
  }
}

/**
 * The checkpoint's cursor is in MCAS's future: nothing MCAS saves before that time would ever be read. A run refuses
 * to save such a cursor, and one that finds it stored fails instead of reporting "nothing to read"; `status` reports
 * it unhealthy. Usually a host clock that ran ahead, or a checkpoint edited by hand: set the checkpoint back (or
 * delete it, to start again from the initial lookback) once the host's clock is right.
 */
export class CursorAheadOfSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CursorAheadOfSourceError';
  }
}

/** The body is not the JSON object an MCAS page is; `offset` is where reading stopped. */
export class PageSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'PageSyntaxError';
    this.offset = offset;
  }
}

/** The registry document itself is unusable (not JSON, no `tenants` array): no tenant runs. Fix the document. */
export class RegistryError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/**
 * A service could not be reached: refused, unknown host, timed out, unreachable network, or a TLS certificate that
 * did not verify.
 * The message names the service, its setting and what to check; it holds no secret (URLs are shown without query).
 * `code` is the network error's code, so retry decisions made on it still work after wording.
 */
export class ServiceUnreachableError extends Error {
  readonly service: string;
  readonly setting: string;
  readonly code: string;
  constructor(target: ServiceTarget, code: string, options?: ErrorOptions) {
    super(
      `Could not reach ${target.service} at ${target.url} (${target.setting}): ${describeNetworkCode(code)} ` +
        `(${code}). ${target.check}`,
      options,
    );
    this.name = 'ServiceUnreachableError';
    this.service = target.service;
    this.setting = target.setting;
    this.code = code;
  }
}

const TLS_REASON =
  'its TLS certificate could not be verified; a proxy that inspects TLS needs its CA in NODE_EXTRA_CA_CERTS';

/**
 * What each code of a failure to connect means, in words. A connection that was made and then broke (a reset, a body
 * cut short, a stalled answer) is not here: those are retried and reported as they are.
 */
const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'the connection was refused, so nothing is listening there',
  ENOTFOUND: 'the host name was not found',
  EAI_AGAIN: 'the host name could not be looked up (DNS did not answer)',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable from this machine (network, VPN or firewall)',
  ENETUNREACH: 'the network is unreachable from this machine (network, VPN or firewall)',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another host name',
  DEPTH_ZERO_SELF_SIGNED_CERT: TLS_REASON,
  SELF_SIGNED_CERT_IN_CHAIN: TLS_REASON,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: TLS_REASON,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: TLS_REASON,
};

/** A network error code in words, e.g. "the host name was not found" for ENOTFOUND. */
export function describeNetworkCode(code: string): string {
  return REASONS[code] ?? 'the connection failed';
}

/** True for the codes of a failure to connect at all (those describeNetworkCode has words for). */
export function isConnectFailureCode(code: string): boolean {
  return Object.hasOwn(REASONS, code);
}
