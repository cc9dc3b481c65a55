// The function's own storage account (AzureWebJobsStorage) as multi-tenant mode uses it: the registry blob and the
// tenant queue. A connection string locally (Azurite), the managed identity and service URIs in Azure. No I/O here
// beyond building clients; the Azure SDKs are loaded only when asked for.
import type { TokenCredential } from '@azure/identity';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';

import { blobServiceUrl, CLOUD_PROFILES, cloudProfile } from '../cloud.js';
import { ConfigError } from '../errors.js';

/** The app settings multi-tenant mode reads besides config.ts's: the registry's place and the queue's name. */
export const TENANT_SETTING_NAMES: readonly string[] = Object.freeze(['TENANT_REGISTRY', 'TENANT_QUEUE_NAME']);

/** Where the queue of tenant runs lives; its poison queue is `<name>-poison` (the Functions host's convention). */
export const DEFAULT_TENANT_QUEUE_NAME = 'mcas-tenant-runs';
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

export type StorageAccess =
  | { kind: 'connectionString'; connectionString: string }
  | { kind: 'identity'; blobServiceUrl: string; queueServiceUrl: string };

function setting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** AzureWebJobsStorage as the Functions host reads it: a connection string, or `__*ServiceUri` / `__accountName`. */
export function storageAccess(env: NodeJS.ProcessEnv): StorageAccess {
  const connectionString = setting(env, 'AzureWebJobsStorage');
  if (connectionString !== undefined) return { kind: 'connectionString', connectionString };
  const cloud = cloudProfile(setting(env, 'AZURE_CLOUD')) ?? CLOUD_PROFILES.public;
  const account = setting(env, 'AzureWebJobsStorage__accountName');
  const blob =
    setting(env, 'AzureWebJobsStorage__blobServiceUri') ??
    (account !== undefined ? blobServiceUrl(cloud, account) : undefined);
  const queue =
    setting(env, 'AzureWebJobsStorage__queueServiceUri') ??
    (account !== undefined ? `https://${account}.${cloud.blobSuffix.replace(/^blob\./, 'queue.')}` : undefined);
  if (blob === undefined || queue === undefined) {
    throw new ConfigError([
      'AzureWebJobsStorage: multi-tenant mode needs the function storage account: a connection string ' +
        '(UseDevelopmentStorage=true for Azurite), or AzureWebJobsStorage__blobServiceUri and __queueServiceUri ' +
        '(or __accountName) for the managed identity.',
    ]);
  }
  return { kind: 'identity', blobServiceUrl: blob, queueServiceUrl: queue };
}

/** TENANT_QUEUE_NAME, default mcas-tenant-runs. Never throws: the queue function's registration reads it at import. */
export function tenantQueueName(env: NodeJS.ProcessEnv): string {
  return setting(env, 'TENANT_QUEUE_NAME') ?? DEFAULT_TENANT_QUEUE_NAME;
}

export function checkTenantQueueName(name: string): string {
  // The poison queue's name must be legal too: 63 characters at most, so the queue's at most 56.
  if (!QUEUE_NAME.test(name) || name.length > 56) {
    throw new ConfigError([
      `TENANT_QUEUE_NAME: "${name.slice(0, 63)}" is not a queue name (3-56 lower-case letters, digits, single -).`,
    ]);
  }
  return name;
}

export async function containerClient(
  access: StorageAccess,
  container: string,
  credential: () => Promise<TokenCredential>,
): Promise<ContainerClient> {
  const { BlobServiceClient } = await import('@azure/storage-blob');
  const service =
    access.kind === 'connectionString'
      ? BlobServiceClient.fromConnectionString(access.connectionString)
      : new BlobServiceClient(access.blobServiceUrl, await credential());
  return service.getContainerClient(container);
}

export async function queueClient(
  access: StorageAccess,
  name: string,
  credential: () => Promise<TokenCredential>,
): Promise<QueueClient> {
  const { QueueServiceClient } = await import('@azure/storage-queue');
  const service =
    access.kind === 'connectionString'
      ? QueueServiceClient.fromConnectionString(access.connectionString)
      : new QueueServiceClient(access.queueServiceUrl, await credential());
  return service.getQueueClient(checkTenantQueueName(name));
}
