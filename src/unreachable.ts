// Failures to reach a service, worded for the person who has to fix them: which service, the setting that points at
// it, and what to check. Node, undici and the Azure SDK report these as bare codes (`getaddrinfo ENOTFOUND …`,
// `connect ECONNREFUSED …`); this module recognises the code and says what it means. Pure: no I/O.
import { isConnectFailureCode, ServiceUnreachableError } from './errors.js';

/** A service the connector talks to, as an operator knows it. */
export interface ServiceTarget {
  /** e.g. "MCAS", "Log Analytics", "the checkpoint storage". */
  service: string;
  /** Where the connector was trying to go: an origin and path, never a query. */
  url: string;
  /** The setting that points at it, e.g. MCAS_PORTAL_URL. */
  setting: string;
  /** What to check, one or two sentences. */
  check: string;
}

/** The code and address of the network failure in `error` (its causes and aggregated errors included), if any. */
export function connectionFailure(error: unknown): { code: string; address?: string } | undefined {
  const seen = new Set<unknown>();
  const visit = (e: unknown, depth: number): { code: string; address?: string } | undefined => {
    if (typeof e !== 'object' || e === null || seen.has(e) || depth > 5) return undefined;
    seen.add(e);
    const { code, address, cause, errors } = e as {
      code?: unknown;
      address?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === 'string' && isConnectFailureCode(code)) {
      const nested = Array.isArray(errors) ? errors.map((inner) => visit(inner, depth + 1)).find(Boolean) : undefined;
      return {
        code,
        ...(typeof address === 'string' ? { address } : nested?.address ? { address: nested.address } : {}),
      };
    }
    for (const inner of [cause, ...(Array.isArray(errors) ? (errors as unknown[]) : [])]) {
      const found = visit(inner, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  return visit(error, 0);
}

/** 127.0.0.0/8, ::1 and localhost: this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1';
}

/**
 * True when a service on this machine refused the connection: nothing listens there, and retrying will not start it
 * (an emulator or Azurite that is not running), so the run should fail at once with advice rather than back off.
 */
export function isRefusedByLoopback(error: unknown, url?: string): boolean {
  const failure = connectionFailure(error);
  if (failure?.code !== 'ECONNREFUSED') return false;
  if (failure.address !== undefined) return isLoopbackHost(failure.address);
  return url !== undefined && isLoopbackHost(new URL(url).hostname);
}

/** `error` worded for `target` when it is a failure to reach it; undefined for anything else (statuses, bugs). */
export function describeUnreachable(error: unknown, target: ServiceTarget): ServiceUnreachableError | undefined {
  if (error instanceof ServiceUnreachableError) return undefined;
  const failure = connectionFailure(error);
  return failure ? new ServiceUnreachableError(target, failure.code, { cause: error }) : undefined;
}

/** Runs `action`; a failure to reach `target` is rethrown as a ServiceUnreachableError, anything else unchanged. */
export async function explainUnreachable<T>(target: ServiceTarget, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw describeUnreachable(error, target) ?? error;
  }
}

/** The endpoint of a storage connection string, for messages: never its key or SAS. */
export function storageEndpoint(connectionString: string): string {
  const parts = new Map(
    connectionString
      .split(';')
      .map((part) => part.split('=', 2) as [string, string | undefined])
      .filter((pair): pair is [string, string] => pair[1] !== undefined)
      .map(([key, value]) => [key.trim().toLowerCase(), value.trim()]),
  );
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') return 'http://127.0.0.1:10000/devstoreaccount1';
  const explicit = parts.get('blobendpoint');
  if (explicit) {
    try {
      const url = new URL(explicit);
      return `${url.origin}${url.pathname.replace(/\/$/, '')}`;
    } catch {
      return 'its BlobEndpoint';
    }
  }
  const account = parts.get('accountname') ?? '<account>';
  return `${parts.get('defaultendpointsprotocol') ?? 'https'}://${account}.blob.${parts.get('endpointsuffix') ?? 'core.windows.net'}`;
}
