// Reads the tenant registry named by TENANT_REGISTRY: `blob:<container>/<blobName>` in the function's own storage
// account, or `file:<path>` for local runs; unset or empty means single-tenant mode.
import { readFile } from 'node:fs/promises';

import type { TokenCredential } from '@azure/identity';

import { CLOUD_PROFILES, cloudProfile } from '../cloud.js';
import { ConfigError, ensureError, RegistryError } from '../errors.js';
import { containerClient, storageAccess } from './tenantStorage.js';
import { parseRegistry, type TenantRegistry } from './TenantRegistry.js';

export type RegistryLocation = { kind: 'blob'; container: string; blobName: string } | { kind: 'file'; path: string };

const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
/** A registry is a few KB per hundred tenants; anything far larger is not one. */
const MAX_REGISTRY_BYTES = 4 * 1024 * 1024;

/** The TENANT_REGISTRY setting, or undefined in single-tenant mode. Throws ConfigError when it is malformed. */
export function registryLocation(env: NodeJS.ProcessEnv): RegistryLocation | undefined {
  const raw = env['TENANT_REGISTRY']?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (raw.startsWith('file:') && raw.length > 'file:'.length) return { kind: 'file', path: raw.slice('file:'.length) };
  const blob = /^blob:([^/]+)\/(.+)$/.exec(raw);
  if (blob?.[1] !== undefined && blob[2] !== undefined && CONTAINER_NAME.test(blob[1])) {
    return { kind: 'blob', container: blob[1], blobName: blob[2] };
  }
  throw new ConfigError([
    'TENANT_REGISTRY: expected blob:<container>/<blobName> (e.g. blob:mcas-connector/tenants.json) or file:<path>.',
  ]);
}

/** Reads and checks the registry. Throws RegistryError when it cannot be read or is unusable as a whole. */
export async function loadRegistry(
  env: NodeJS.ProcessEnv,
  credential: () => Promise<TokenCredential>,
): Promise<TenantRegistry> {
  const location = registryLocation(env);
  if (location === undefined) throw new ConfigError(['TENANT_REGISTRY: not set, so there is no tenant registry.']);
  const cloud = cloudProfile(env['AZURE_CLOUD']) ?? CLOUD_PROFILES.public;
  return parseRegistry(await readRegistryText(env, location, credential), cloud);
}

async function readRegistryText(
  env: NodeJS.ProcessEnv,
  location: RegistryLocation,
  credential: () => Promise<TokenCredential>,
): Promise<string> {
  const where = describeLocation(location);
  try {
    if (location.kind === 'file') return await readFile(location.path, 'utf8');
    const container = await containerClient(storageAccess(env), location.container, credential);
    const buffer = await container.getBlobClient(location.blobName).downloadToBuffer();
    if (buffer.length > MAX_REGISTRY_BYTES) throw new Error(`it is over ${MAX_REGISTRY_BYTES} bytes`);
    return buffer.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const e = ensureError(error) as Error & { statusCode?: number; code?: string };
    // Status and code only: storage SDK messages can quote a URL with its SAS query.
    const detail = e.statusCode !== undefined ? `status ${e.statusCode}${e.code ? `, ${e.code}` : ''}` : e.message;
    const hint =
      e.statusCode === 403
        ? " Give the function's identity Storage Blob Data Reader (or Contributor) on the storage account."
        : e.statusCode === 404
          ? ' Upload the registry there (see README, "Many tenants").'
          : '';
    throw new RegistryError(`Could not read the tenant registry ${where} (${detail.slice(0, 200)}).${hint}`);
  }
}

export function describeLocation(location: RegistryLocation): string {
  return location.kind === 'file' ? `file ${location.path}` : `blob ${location.container}/${location.blobName}`;
}
