// How McasClient authenticates: the legacy API token (`Authorization: Token <token>`), or an Entra access token for the
// Defender for Cloud Apps application (`Authorization: Bearer <token>`) from a managed identity or an app registration.
// Credentials are built in credentials.ts; an app registration's secret or certificate is read with keyVault.ts.
import type { AccessToken, TokenCredential } from '@azure/identity';

import { MCAS_ACTIVITIES_APP_ROLE, MCAS_RESOURCE_APP_ID, MCAS_SCOPE } from '../cloud.js';
import { type Clock, systemClock } from '../clock.js';
import { McasAuthError, SecretError } from '../errors.js';
import { openVault, type VaultOptions } from '../keyVault.js';
import { Secret } from '../Secret.js';

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

export { McasAuthError } from '../errors.js';

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
  return { kind: 'token', hints: TOKEN_HINTS, header: () => Promise.resolve(`Token ${token.reveal()}`) };
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

export { createMcasCredential, type McasCredentialOptions, type McasCredentialSource } from '../credentials.js';

/** Where an app registration's secret or certificate is kept. */
export interface McasAppCredentialLocation {
  kind: 'clientSecret' | 'clientCertificate';
  vaultUrl: string;
  /** Default mcas-app-client-secret or mcas-app-certificate. */
  secretName?: string;
}

/** The credential for Key Vault (the function's managed identity), and pipeline options for the SecretClient. */
export type ReadMcasAppCredentialOptions = VaultOptions;

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
  const vault = await openVault(location.vaultUrl, options);
  const value = await vault.read(name);
  if (certificate) {
    const hasCertificate = /-----BEGIN CERTIFICATE-----/.test(value);
    const hasKey = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(value);
    if (!hasCertificate || !hasKey) {
      const pkcs12 = !value.includes('-----BEGIN') && /^[A-Za-z0-9+/=\s]+$/.test(value);
      const found = pkcs12
        ? 'PKCS#12 (the Key Vault default)'
        : `PEM without ${hasCertificate ? 'a private key' : 'a certificate'}`;
      throw new SecretError(
        `Secret '${name}' in Key Vault ${location.vaultUrl} is ${found}; import the certificate with content type ` +
          'application/x-pem-file, so that its secret holds the certificate and its private key as PEM.',
      );
    }
  }
  return new Secret(value);
}
