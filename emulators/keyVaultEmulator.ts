// A loopback HTTPS stand-in for the Key Vault secrets API as @azure/keyvault-secrets calls it: the bearer challenge,
// GET /secrets/{name}[/{version}], and the service's error bodies. It checks the token the client presents.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import { loadTestTls } from './testTls.js';

export interface KeyVaultEmulatorOptions {
  /** Secret name -> value, as stored in the vault. */
  secrets: Record<string, string>;
  /** The only bearer token the vault accepts (the one the managed identity emulator issues). */
  expectedToken: string;
  /** Answer every authenticated request with 403, as a vault does for an identity without a role. */
  forbidden?: boolean;
  /** Tenant id in the challenge's authorization URL. */
  tenantId?: string;
  /** TLS certificate and key; default the committed test-only certificate for 127.0.0.1. */
  tls?: { cert: string; key: string };
}

/** One request as the emulator saw it. `authorization` is the raw header (test tokens only). */
export interface RecordedVaultRequest {
  method: string;
  path: string;
  secretName: string | undefined;
  apiVersion: string | undefined;
  authorization: string | undefined;
  status: number;
}

export interface KeyVaultEmulator {
  /** The vault URL to give SecretClient, https://127.0.0.1:<port>. */
  vaultUrl: string;
  /** The resource the challenge names; a managed identity token is requested for it. */
  resource: string;
  requests: RecordedVaultRequest[];
  close(): Promise<void>;
}

const SECRET_PATH = /^\/secrets\/([0-9a-zA-Z-]+)\/?([0-9a-f]{32})?\/?$/;
const CREATED_EPOCH_SECONDS = 1_700_000_000;

/** Starts the vault on 127.0.0.1 with an ephemeral port. */
export async function startKeyVaultEmulator(options: KeyVaultEmulatorOptions): Promise<KeyVaultEmulator> {
  const tls = options.tls ?? loadTestTls();
  const requests: RecordedVaultRequest[] = [];
  let vaultUrl = '';
  let challenge = '';

  const server = createServer({ cert: tls.cert, key: tls.key }, (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', vaultUrl);
    const match = SECRET_PATH.exec(url.pathname);
    const secretName = match?.[1];
    const version = match?.[2];
    const apiVersion = url.searchParams.get('api-version') ?? undefined;
    const authorization = req.headers.authorization;
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      requests.push({ method: req.method ?? '', path: url.pathname, secretName, apiVersion, authorization, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, headers?: Record<string, string>): void =>
      answer(status, { error: { code, message } }, headers);

    // Key Vault answers an unauthenticated request with a challenge naming the tenant and resource; the SDK sends
    // its first request without a token on purpose to learn them (keyvault-common keyVaultAuthenticationPolicy).
    if (authorization === undefined) {
      error(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', {
        'www-authenticate': challenge,
      });
      return;
    }
    if (authorization !== `Bearer ${options.expectedToken}`) {
      error(401, 'Unauthorized', 'AKV10022: Invalid audience or token.', { 'www-authenticate': challenge });
      return;
    }
    if (options.forbidden) {
      error(
        403,
        'Forbidden',
        "Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'. " +
          'Assignment: (not found). DecisionReason: DeniedWithNoValidRBAC.',
      );
      return;
    }
    if (req.method !== 'GET' || secretName === undefined) {
      error(405, 'BadParameter', 'Only GET of a secret is emulated.');
      return;
    }
    if (apiVersion === undefined) {
      error(400, 'BadParameter', 'The api-version query parameter is required.');
      return;
    }

    const value = options.secrets[secretName];
    const current = versionOf(secretName);
    if (value === undefined || (version !== undefined && version !== current)) {
      error(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${version ? `${secretName}/${version}` : secretName} was not found in this key vault. ` +
          'If you recently deleted this secret you may be able to recover it using the correct recovery command.',
      );
      return;
    }
    answer(200, {
      value,
      id: `${vaultUrl}/secrets/${secretName}/${current}`,
      attributes: {
        enabled: true,
        created: CREATED_EPOCH_SECONDS,
        updated: CREATED_EPOCH_SECONDS,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      tags: {},
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  vaultUrl = `https://127.0.0.1:${port}`;
  const resource = challengeResourceFor('127.0.0.1');
  const tenant = options.tenantId ?? '00000000-0000-4000-8000-0000000000aa';
  // The authority is only parsed for the tenant id; a managed identity never calls it.
  challenge = `Bearer authorization="https://login.microsoftonline.com/${tenant}", resource="${resource}"`;

  return {
    vaultUrl,
    resource,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * The SDK checks that the vault host ends with "." + the challenge resource's host (as x.vault.azure.net does with
 * https://vault.azure.net). For 127.0.0.1 that host is "0.0.1", but an https URL would read it as the IPv4 address
 * 0.0.0.1; a non-special scheme keeps the host as written, so verification passes without being turned off.
 */
function challengeResourceFor(host: string): string {
  return `kv-emulator://${host.split('.').slice(1).join('.')}`;
}

/** A stable 32-hex version per secret name, like a real secret version id. */
function versionOf(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 32);
}
