// A loopback stand-in for the App Service / Azure Functions managed identity endpoint (IDENTITY_ENDPOINT +
// IDENTITY_HEADER, api-version 2019-08-01), so the real DefaultAzureCredential can get a token in tests.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ManagedIdentityEmulatorOptions {
  /** The access token to hand out (the Key Vault emulator's expectedToken). */
  token: string;
  /** Client ids of the user-assigned identities "assigned to the app"; any other client_id gets App Service's 400. */
  clientIds?: readonly string[];
  /** Whether the app has a system-assigned identity (a request without client_id). Default true. */
  systemAssigned?: boolean;
  /** Token lifetime in seconds. Default 3600. */
  lifetimeSeconds?: number;
  /** Current time, for expires_on. Default Date.now. */
  nowMs?: () => number;
}

/** One token request as the emulator saw it. */
export interface RecordedTokenRequest {
  resource: string | undefined;
  clientId: string | undefined;
  apiVersion: string | undefined;
  /** Whether X-IDENTITY-HEADER carried the expected value. */
  identityHeaderOk: boolean;
  status: number;
}

export interface ManagedIdentityEmulator {
  /** The IDENTITY_ENDPOINT value, e.g. http://127.0.0.1:40123/msi/token. */
  endpoint: string;
  /** The IDENTITY_HEADER value the endpoint expects in X-IDENTITY-HEADER. */
  identityHeader: string;
  /** The environment variables that make ManagedIdentityCredential (via MSAL's AppService source) use this endpoint. */
  env: { IDENTITY_ENDPOINT: string; IDENTITY_HEADER: string };
  requests: RecordedTokenRequest[];
  close(): Promise<void>;
}

const TOKEN_PATH = '/msi/token';
const API_VERSION = '2019-08-01';
const SYSTEM_ASSIGNED_CLIENT_ID = '00000000-0000-4000-8000-00000000a11d';

/** Starts the endpoint on 127.0.0.1 over http, as App Service serves it (it never leaves the machine). */
export async function startManagedIdentityEmulator(
  options: ManagedIdentityEmulatorOptions,
): Promise<ManagedIdentityEmulator> {
  const identityHeader = `test-identity-header-${randomUUID()}`;
  const nowMs = options.nowMs ?? Date.now;
  const requests: RecordedTokenRequest[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const resource = url.searchParams.get('resource') ?? undefined;
    const clientId = url.searchParams.get('client_id') ?? undefined;
    const apiVersion = url.searchParams.get('api-version') ?? undefined;
    const identityHeaderOk = req.headers['x-identity-header'] === identityHeader;
    const answer = (status: number, body: unknown): void => {
      requests.push({ resource, clientId, apiVersion, identityHeaderOk, status });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    // Error bodies are App Service's: {"statusCode":400,"message":"Unable to load the proper Managed Identity.",...}
    // (seen in Azure/azure-sdk-for-net#43691).
    const fail = (status: number, message: string): void =>
      answer(status, { statusCode: status, message, correlationId: randomUUID() });

    if (req.method !== 'GET' || url.pathname !== TOKEN_PATH) {
      fail(404, 'Not found.');
      return;
    }
    if (!identityHeaderOk) {
      fail(401, 'The X-IDENTITY-HEADER header is missing or wrong.');
      return;
    }
    if (apiVersion !== API_VERSION) {
      fail(400, `Unsupported api-version; expected ${API_VERSION}.`);
      return;
    }
    if (!resource) {
      fail(400, 'The resource parameter is required.');
      return;
    }
    const known =
      clientId === undefined ? (options.systemAssigned ?? true) : (options.clientIds ?? []).includes(clientId);
    if (!known) {
      fail(400, 'Unable to load the proper Managed Identity.');
      return;
    }
    answer(200, {
      access_token: options.token,
      // App Service sends epoch seconds as a string.
      expires_on: String(Math.floor(nowMs() / 1000) + (options.lifetimeSeconds ?? 3600)),
      resource,
      token_type: 'Bearer',
      client_id: clientId ?? SYSTEM_ASSIGNED_CLIENT_ID,
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}${TOKEN_PATH}`;
  return {
    endpoint,
    identityHeader,
    env: { IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: identityHeader },
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
