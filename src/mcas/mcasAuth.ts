// How McasClient authenticates: the legacy API token (`Authorization: Token <token>`), or an Entra access token for the
// Defender for Cloud Apps application (`Authorization: Bearer <token>`) from a managed identity or an app registration.
// The Azure SDK modules are loaded when a credential is built, not at import: a run with the API token needs neither.
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { SecretClientOptions } from '@azure/keyvault-secrets';

import { CLOUD_PROFILES, MCAS_ACTIVITIES_APP_ROLE, MCAS_RESOURCE_APP_ID } from '../cloud.js';
import { type Clock, systemClock } from '../clock.js';
import { credentialAdvice, whoNeedsTheRole } from '../credentialAdvice.js';
import { SecretError } from '../errors.js';
import { Secret } from '../Secret.js';

/** The scope of MCAS API tokens (api-authentication-application: `05a65629-…/.default`). */
export const MCAS_SCOPE = `${MCAS_RESOURCE_APP_ID}/.default`;
export const DEFAULT_APP_SECRET_NAME = 'mcas-app-client-secret';
export const DEFAULT_APP_CERTIFICATE_NAME = 'mcas-app-certificate';
/** A cached token is renewed this long before it expires, unless the credential says when to refresh. */
const REFRESH_MARGIN_MS = 5 * 60_000;
const MAX_DETAIL_CHARS = 300;

/** Produces the Authorization header of each MCAS request, and says what to check when MCAS refuses it. */
export interface McasAuthorization {
  readonly kind: 'token' | 'entra';
  /** The header value for the next request. Throws McasAuthError when no Entra token can be had. */
  header(signal?: AbortSignal): Promise<string>;
  /** Operator advice by HTTP status (401, 403) for this kind of credential. */
  readonly hints: Readonly<Record<number, string>>;
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

const TOKEN_HINTS: Readonly<Record<number, string>> = Object.freeze({
  401: 'Check the MCAS API token (Settings > Security extensions > API tokens) and that MCAS_PORTAL_URL is its tenant.',
  403: 'The token is not allowed to read activities; use a token of an admin with access to activities.',
});

const CONSENT =
  `the application permission ${MCAS_ACTIVITIES_APP_ROLE} of 'Microsoft Cloud App Security' (${MCAS_RESOURCE_APP_ID}) ` +
  'with admin consent (for a managed identity: an app role assignment on that service principal)';

const ENTRA_HINTS: Readonly<Record<number, string>> = Object.freeze({
  401:
    `Defender for Cloud Apps refused the Entra token. Give the app registration or managed identity ${CONSENT}, ` +
    "and check that MCAS_PORTAL_URL belongs to the identity's tenant.",
  403:
    `The Entra token does not allow listing activities: it needs ${CONSENT}; ` +
    'tokens issued before the consent lack it for up to an hour.',
});

/** `Authorization: Token <api token>`: the legacy token from the portal (on Microsoft's deprecation path). */
export function tokenAuthorization(token: Secret): McasAuthorization {
  return { kind: 'token', hints: TOKEN_HINTS, header: async () => `Token ${token.reveal()}` };
}

/**
 * `Authorization: Bearer <Entra token>` for `scope` (default MCAS_SCOPE). The token is kept until shortly before it
 * expires; concurrent callers share one request for it.
 */
export function entraAuthorization(
  credential: TokenCredential,
  scope: string = MCAS_SCOPE,
  options: { clock?: Clock } = {},
): McasAuthorization {
  const clock = options.clock ?? systemClock;
  let cached: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;
  const isFresh = (token: AccessToken) =>
    clock.nowMs() < (token.refreshAfterTimestamp ?? token.expiresOnTimestamp - REFRESH_MARGIN_MS);

  const fetchToken = async (signal: AbortSignal | undefined): Promise<AccessToken> => {
    let token: AccessToken | null;
    try {
      token = await credential.getToken(scope, signal ? { abortSignal: signal } : {});
    } catch (error) {
      if (signal?.aborted) throw error;
      throw describeTokenFailure(error, scope);
    }
    if (!token)
      throw new McasAuthError(`The credential returned no Entra token for Defender for Cloud Apps (${scope}).`);
    return token;
  };

  return {
    kind: 'entra',
    hints: ENTRA_HINTS,
    async header(signal) {
      if (!cached || !isFresh(cached)) {
        pending ??= fetchToken(signal).finally(() => {
          pending = undefined;
        });
        cached = await pending;
      }
      return `Bearer ${cached.token}`;
    },
  };
}

function describeTokenFailure(error: unknown, scope: string): McasAuthError {
  const name = error instanceof Error ? error.name : 'Error';
  const detail = error instanceof Error ? error.message.split('\n')[0]?.slice(0, MAX_DETAIL_CHARS) : String(error);
  return new McasAuthError(
    `Could not get an Entra token for Defender for Cloud Apps (scope ${scope}): ${name}: ${detail} ` +
      'For a managed identity, turn it on for the Function App (AZURE_CLIENT_ID names a user-assigned one); for an app ' +
      'registration, check its tenant id, client id and that its secret or certificate is current.',
    // Credential errors carry Entra's error description and correlation id, never the client secret or key.
    { cause: error },
  );
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

/** Where an app registration's secret or certificate is kept. */
export interface McasAppCredentialLocation {
  kind: 'clientSecret' | 'clientCertificate';
  vaultUrl: string;
  /** Default mcas-app-client-secret or mcas-app-certificate. */
  secretName?: string;
}

export interface ReadMcasAppCredentialOptions {
  /** Credential for Key Vault: the function's managed identity. */
  credential: TokenCredential;
  /** Pipeline options for the SecretClient (tests pass tlsOptions). */
  clientOptions?: SecretClientOptions;
}

/**
 * Reads the app registration's client secret, or its certificate, from Key Vault. A certificate must be PEM with its
 * private key: the secret behind a Key Vault certificate imported with content type application/x-pem-file. Throws
 * SecretError naming the vault and secret, never a value.
 */
export async function readMcasAppCredential(
  location: McasAppCredentialLocation,
  options: ReadMcasAppCredentialOptions,
): Promise<Secret> {
  const certificate = location.kind === 'clientCertificate';
  const name = location.secretName ?? (certificate ? DEFAULT_APP_CERTIFICATE_NAME : DEFAULT_APP_SECRET_NAME);
  const where = `secret '${name}' in Key Vault ${location.vaultUrl}`;
  const { SecretClient } = await import('@azure/keyvault-secrets');
  const client = new SecretClient(location.vaultUrl, options.credential, options.clientOptions);
  let value: string;
  try {
    value = ((await client.getSecret(name)).value ?? '').trim();
  } catch (error) {
    throw describeVaultFailure(error, where, name, location.vaultUrl);
  }
  if (value === '') {
    throw new SecretError(
      `The ${where} is empty; store the app registration's ${certificate ? 'certificate' : 'client secret'}.`,
    );
  }
  if (certificate) {
    const hasCertificate = /-----BEGIN CERTIFICATE-----/.test(value);
    const hasKey = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(value);
    if (!hasCertificate || !hasKey) {
      const pkcs12 = !value.includes('-----BEGIN') && /^[A-Za-z0-9+/=\s]+$/.test(value);
      const found = pkcs12
        ? 'PKCS#12 (the Key Vault default)'
        : `PEM without ${hasCertificate ? 'a private key' : 'a certificate'}`;
      throw new SecretError(
        `The ${where} is ${found}; import the certificate with content type application/x-pem-file, so that its ` +
          'secret holds the certificate and its private key as PEM.',
      );
    }
  }
  return new Secret(value);
}

function describeVaultFailure(error: unknown, where: string, name: string, vaultUrl: string): SecretError {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  const errorName = error instanceof Error ? error.name : 'Error';
  if (errorName === 'RestError' && status === 404) {
    const fix = `az keyvault secret set --name ${name}, or az keyvault certificate import`;
    return new SecretError(`The ${where} was not found; create it (${fix}).`, { cause: error });
  }
  if (errorName === 'RestError' && (status === 401 || status === 403)) {
    return new SecretError(
      `Key Vault ${vaultUrl} refused to let this app read secret '${name}' (HTTP ${status}); give ` +
        `${whoNeedsTheRole(process.env)} the 'Key Vault Secrets User' role on the vault.`,
      { cause: error },
    );
  }
  if (/Credential|Authentication/.test(errorName) && error instanceof Error) {
    return new SecretError(
      `Could not get a token for Key Vault ${vaultUrl} to read secret '${name}': ${credentialAdvice(error, process.env)}`,
      { cause: error },
    );
  }
  // Other errors are described by name and code only: a RestError for a 2xx that failed to parse quotes the body.
  const code = (error as { code?: unknown } | null)?.code;
  return new SecretError(
    `Could not read the ${where} (${typeof code === 'string' ? `${errorName} ${code}` : errorName}).`,
  );
}
