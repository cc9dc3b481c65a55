// One run per tenant at a time: a lock taken before the first MCAS request, beside the tenant's checkpoint. The
// checkpoint's ETag condition still stops a second writer; the lock stops a second reader before it fetches or posts
// anything, so two invocations never send the same rows. A blob lease in storage; an exclusive lock file locally.
import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import type { TokenCredential } from '@azure/identity';
import type { BlobLeaseClient, ContainerClient } from '@azure/storage-blob';

import type { CheckpointLocation } from '../config.js';
import { ensureError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface TenantLock {
  /** Gives the lock up; never throws (an unreleased lease expires on its own). */
  release(): Promise<void>;
}

export interface TenantLockOptions {
  log: Logger;
  /** How often the lock is renewed while held. Default 20 s (a lease lasts LEASE_SECONDS). */
  renewEveryMs?: number;
}

/** Blob leases last 15-60 s or forever; 60 s, renewed every 20 s, frees a crashed run's tenant within a minute. */
export const LEASE_SECONDS = 60;
/** A lock file not renewed for this long belongs to a process that died. */
const STALE_LOCK_MS = 3 * LEASE_SECONDS * 1000;
const DEFAULT_RENEW_MS = 20_000;

/**
 * Takes the lock of checkpoint `name` in `location`, or returns undefined when another run holds it. Throws when the
 * store cannot be reached (the run fails and is retried, as any storage failure is).
 */
export async function acquireTenantLock(
  location: CheckpointLocation,
  name: string,
  credential: () => Promise<TokenCredential>,
  options: TenantLockOptions,
): Promise<TenantLock | undefined> {
  if (location.kind === 'file') return acquireFileLock(join(location.path, `${name}.lock`), options);
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const service =
    'connectionString' in location
      ? BlobServiceClient.fromConnectionString(location.connectionString.reveal())
      : new BlobServiceClient(location.serviceUrl, await credential());
  return acquireBlobLease(service.getContainerClient(location.container), `${name}.lock`, options);
}

async function acquireBlobLease(
  container: ContainerClient,
  blobName: string,
  options: TenantLockOptions,
): Promise<TenantLock | undefined> {
  const blob = container.getBlockBlobClient(blobName);
  const where = `${container.containerName}/${blobName}`;
  try {
    await ensureLockBlob(container, blobName);
    const lease = blob.getBlobLeaseClient();
    try {
      await lease.acquireLease(LEASE_SECONDS);
    } catch (error) {
      if (statusOf(error) === 409) return undefined; // LeaseAlreadyPresent: another run holds the tenant
      throw error;
    }
    return renewing(
      options,
      () => lease.renewLease().then(() => undefined),
      () => releaseLease(lease),
    );
  } catch (error) {
    // eslint-disable-next-line preserve-caught-error -- described, not attached: a storage error carries its request
    throw new Error(`Could not take the tenant lock ${where} (${describeStorageError(error)}).`);
  }
}

async function ensureLockBlob(container: ContainerClient, blobName: string): Promise<void> {
  const blob = container.getBlockBlobClient(blobName);
  const create = () => blob.upload('', 0, { conditions: { ifNoneMatch: '*' } });
  try {
    await create();
  } catch (error) {
    const status = statusOf(error);
    // 409: it exists already (BlobAlreadyExists, or leased by another run: LeaseIdMissing); both are fine here.
    if (status === 409 || status === 412) return;
    if (status !== 404) throw error;
    await container.createIfNotExists();
    await create().catch((again: unknown) => {
      if (statusOf(again) !== 409) throw again;
    });
  }
}

async function releaseLease(lease: BlobLeaseClient): Promise<void> {
  await lease.releaseLease().catch(() => undefined);
}

async function acquireFileLock(path: string, options: TenantLockOptions): Promise<TenantLock | undefined> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, acquiredAt: new Date().toISOString() }));
      await handle.close();
      return renewing(
        options,
        async () => {
          const now = new Date();
          await utimes(path, now, now);
        },
        async () => {
          await rm(path, { force: true });
        },
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const modifiedMs = await stat(path).then(
        (s) => s.mtimeMs,
        () => 0,
      );
      if (Date.now() - modifiedMs < STALE_LOCK_MS) return undefined;
      options.log.warn(`Removing the stale tenant lock ${path} (${await readFile(path, 'utf8').catch(() => '')}).`);
      await rm(path, { force: true });
    }
  }
  return undefined;
}

/** Renews the lock on a timer until released; a failed renewal is logged (the checkpoint's ETag still guards). */
function renewing(options: TenantLockOptions, renew: () => Promise<void>, release: () => Promise<void>): TenantLock {
  const timer = setInterval(() => {
    renew().catch((error: unknown) => {
      options.log.warn(`Could not renew the tenant lock: ${describeStorageError(error)}`);
    });
  }, options.renewEveryMs ?? DEFAULT_RENEW_MS);
  timer.unref();
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      clearInterval(timer);
      await release();
    },
  };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Status and code only: storage SDK messages can quote a URL with its SAS query. */
function describeStorageError(error: unknown): string {
  const status = statusOf(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (status !== undefined) return `status ${status}${typeof code === 'string' ? `, ${code}` : ''}`;
  return ensureError(error).message.split('\n')[0]?.slice(0, 200) ?? 'unknown';
}
