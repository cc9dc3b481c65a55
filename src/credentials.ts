// Every Entra credential the connector uses is built here: the function's own identity (Key Vault, storage, Logs
// Ingestion, Application Insights) and the credential MCAS tokens are asked with. @azure/identity is loaded when one
// is built, not at import: a local run with the MCAS API token and the workspace key needs none.
import type { TokenCredential } from '@azure/identity';

import { CLOUD_PROFILES } from './cloud.js';
import type { Secret } from './Secret.js';

/**
 * The function's identity for Azure resources: its managed identity in Azure (a user-assigned one when
 * `managedIdentityClientId` is set, e.g. AZURE_CLIENT_ID), or a developer's login locally (DefaultAzureCredential).
 * Never used for MCAS, where a developer's own login must never be sent (createMcasCredential).
 */
export async function createAzureCredential(managedIdentityClientId?: string): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return managedIdentityClientId
    ? new DefaultAzureCredential({ managedIdentityClientId })
    : new DefaultAzureCredential();
}

/** Where the Entra token for MCAS comes from. */
export type McasCredentialSource =
  /** The function's managed identity; `clientId` names a user-assigned one. */
  | { kind: 'managedIdentity'; clientId?: string | undefined }
  /** An app registration with a client secret. */
  | { kind: 'clientSecret'; tenantId: string; clientId: string; clientSecret: Secret }
  /** An app registration with a certificate: PEM holding the certificate and its private key. */
  | { kind: 'clientCertificate'; tenantId: string; clientId: string; certificatePem: Secret };

export interface McasCredentialOptions {
  /** Entra authority host for app registrations: the cloud profile's authorityHost. Default the public cloud's. */
  authorityHost?: string;
  /** Skips MSAL's instance discovery (authority validation); only for a loopback token endpoint in tests. */
  disableInstanceDiscovery?: boolean;
  /** TLS options of the credential's HTTP client (tests trust the loopback certificate). */
  tlsOptions?: { ca?: string };
}

/** Builds the credential; tokens are cached by it (MSAL) and again by entraAuthorization. Does no network I/O itself. */
export async function createMcasCredential(
  source: McasCredentialSource,
  options: McasCredentialOptions = {},
): Promise<TokenCredential> {
  const { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } =
    await import('@azure/identity');
  const common = {
    authorityHost: options.authorityHost ?? CLOUD_PROFILES.public.authorityHost,
    ...(options.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
    ...(options.tlsOptions ? { tlsOptions: options.tlsOptions } : {}),
  };
  switch (source.kind) {
    case 'managedIdentity': {
      const tls = options.tlsOptions ? { tlsOptions: options.tlsOptions } : {};
      return source.clientId
        ? new ManagedIdentityCredential({ clientId: source.clientId, ...tls })
        : new ManagedIdentityCredential(tls);
    }
    case 'clientSecret':
      return new ClientSecretCredential(source.tenantId, source.clientId, source.clientSecret.reveal(), common);
    case 'clientCertificate':
      return new ClientCertificateCredential(
        source.tenantId,
        source.clientId,
        { certificate: source.certificatePem.reveal() },
        common,
      );
  }
}
