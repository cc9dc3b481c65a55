// A loopback HTTPS stand-in for the Microsoft Entra v2.0 endpoints an app registration uses through MSAL: the OpenID
// discovery document and the client-credentials token request, with a client secret or a certificate-signed assertion.
// Not for production traffic. createTestCertificate() makes a throwaway self-signed RSA certificate for the second.
import { constants, createVerify, generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { readBody, startLoopbackServer } from './httpServer.js';
import { loadTestTls } from './testTls.js';

export interface EntraAppRegistration {
  clientId: string;
  /** The client secret value the app accepts. */
  clientSecret?: string;
  /** PEM of the certificate registered on the app (public part); assertions must be signed by its key. */
  certificatePem?: string;
}

export interface EntraTokenEmulatorOptions {
  tenantId: string;
  apps: readonly EntraAppRegistration[];
  /** The access token handed out. */
  accessToken: string;
  /** Token lifetime in seconds. Default 3599, as Entra answers. */
  lifetimeSeconds?: number;
  /** Current time for assertion expiry checks. Default Date.now. */
  nowMs?: () => number;
  tls?: { cert: string; key: string };
}

/** One request as the emulator saw it. */
export interface RecordedEntraRequest {
  kind: 'discovery' | 'token' | 'other';
  method: string;
  tenant: string | undefined;
  clientId: string | undefined;
  grantType: string | undefined;
  scope: string | undefined;
  /** How the client proved itself on a token request. */
  clientAuth: 'secret' | 'assertion' | 'none' | undefined;
  status: number;
  /** The AADSTS code of an error answer. */
  errorCode: string | undefined;
}

export interface EntraTokenEmulator {
  /** The authorityHost to give the credential, https://127.0.0.1:<port>. */
  readonly authorityHost: string;
  readonly requests: RecordedEntraRequest[];
  close(): Promise<void>;
}

const DISCOVERY = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
const TOKEN = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Starts the endpoints on 127.0.0.1 with an ephemeral port. */
export async function startEntraTokenEmulator(options: EntraTokenEmulatorOptions): Promise<EntraTokenEmulator> {
  const tls = options.tls ?? loadTestTls();
  const nowMs = options.nowMs ?? Date.now;
  const requests: RecordedEntraRequest[] = [];
  let origin = '';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', origin);
    const discovery = DISCOVERY.exec(url.pathname);
    const token = TOKEN.exec(url.pathname);
    const form = new URLSearchParams((await readBody(req, 64 * 1024)).bytes.toString('utf8'));
    const record: RecordedEntraRequest = {
      kind: discovery ? 'discovery' : token ? 'token' : 'other',
      method: req.method ?? '',
      tenant: (discovery ?? token)?.[1],
      clientId: form.get('client_id') ?? undefined,
      grantType: form.get('grant_type') ?? undefined,
      scope: form.get('scope') ?? undefined,
      clientAuth: undefined,
      status: 0,
      errorCode: undefined,
    };
    requests.push(record);
    const answer = (status: number, body: unknown): void => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    // Entra's error body: {"error":"invalid_client","error_description":"AADSTS7000215: ...","error_codes":[7000215],...}
    const fail = (status: number, error: string, code: number, description: string): void => {
      record.errorCode = `AADSTS${code}`;
      const timestamp = new Date(nowMs()).toISOString();
      answer(status, { error, error_description: `AADSTS${code}: ${description}`, error_codes: [code], timestamp });
    };

    if (record.tenant !== undefined && record.tenant !== options.tenantId) {
      fail(400, 'invalid_tenant', 90002, `Tenant '${record.tenant}' not found.`);
      return;
    }
    if (discovery && req.method === 'GET') {
      const base = `${origin}/${options.tenantId}`;
      answer(200, {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        issuer: `${base}/v2.0`,
        jwks_uri: `${origin}/${options.tenantId}/discovery/v2.0/keys`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        tenant_region_scope: 'NA',
      });
      return;
    }
    if (!token || req.method !== 'POST') {
      fail(404, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
      return;
    }

    const app = options.apps.find((a) => a.clientId === record.clientId);
    if (record.grantType !== 'client_credentials') {
      fail(400, 'unsupported_grant_type', 70003, 'Only client_credentials is emulated.');
      return;
    }
    if (!app) {
      const text = `Application with identifier '${record.clientId}' was not found in the directory.`;
      fail(400, 'unauthorized_client', 700016, text);
      return;
    }
    if (!record.scope?.endsWith('/.default')) {
      const text =
        'Client credential flows must have a scope value with /.default suffixed to the resource identifier.';
      fail(400, 'invalid_scope', 1002012, text);
      return;
    }
    const secret = form.get('client_secret');
    const assertion = form.get('client_assertion');
    record.clientAuth = secret !== null ? 'secret' : assertion !== null ? 'assertion' : 'none';
    if (secret !== null) {
      if (app.clientSecret === undefined || secret !== app.clientSecret) {
        const text =
          'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ' +
          'not the client secret ID, for a secret added to app.';
        fail(401, 'invalid_client', 7000215, text);
        return;
      }
    } else if (assertion !== null && form.get('client_assertion_type') === JWT_BEARER) {
      const problem = checkAssertion(assertion, app, `${origin}/${options.tenantId}/oauth2/v2.0/token`, nowMs());
      if (problem) {
        fail(401, 'invalid_client', 700027, problem);
        return;
      }
    } else {
      const text = "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";
      fail(401, 'invalid_client', 7000218, text);
      return;
    }
    const lifetime = options.lifetimeSeconds ?? 3599;
    answer(200, {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: options.accessToken,
    });
  };

  const server = await startLoopbackServer(handle, { tls });
  origin = server.url;
  return { authorityHost: origin, requests, close: () => server.close() };
}

/** Why a client assertion is refused (RFC 7523 as Entra checks it), or undefined when it is good. */
function checkAssertion(jwt: string, app: EntraAppRegistration, audience: string, nowMs: number): string | undefined {
  if (!app.certificatePem) return 'No certificate is registered on the application.';
  const [headerPart, payloadPart, signaturePart, extra] = jwt.split('.');
  if (!headerPart || !payloadPart || !signaturePart || extra !== undefined) return 'The client assertion is not a JWT.';
  const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  const payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as Record<string, unknown>;
  const certificate = new X509Certificate(app.certificatePem);
  const thumbprint = (fingerprint: string) => Buffer.from(fingerprint.replace(/:/g, ''), 'hex').toString('base64url');
  const registered =
    header['x5t#S256'] === thumbprint(certificate.fingerprint256) ||
    header['x5t'] === thumbprint(certificate.fingerprint);
  if (!registered) {
    return 'The certificate with identifier used to sign the client assertion is not registered on application.';
  }
  const verifier = createVerify('sha256').update(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const valid =
    header['alg'] === 'RS256'
      ? verifier.verify(certificate.publicKey, signature)
      : header['alg'] === 'PS256'
        ? verifier.verify(
            { key: certificate.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
            signature,
          )
        : false;
  if (!valid) return 'Client assertion failed signature validation.';
  if (payload['aud'] !== audience) return `The audience claim must be ${audience}.`;
  if (payload['iss'] !== app.clientId || payload['sub'] !== app.clientId)
    return 'The iss and sub claims must be the client id.';
  if (typeof payload['exp'] !== 'number' || payload['exp'] * 1000 <= nowMs) return 'The client assertion has expired.';
  return undefined;
}

/** A throwaway self-signed RSA certificate and its key, as PEM: what an app registration's certificate looks like. */
export function createTestCertificate(commonName: string): { certificatePem: string; privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sha256WithRsa = seq(der(0x06, Buffer.from('2a864886f70d01010b', 'hex')), Buffer.from([0x05, 0x00]));
  const name = seq(der(0x31, seq(der(0x06, Buffer.from('550403', 'hex')), der(0x0c, Buffer.from(commonName)))));
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([0x02]))), // version 3
    der(0x02, Buffer.from([0x01, 0x5e])), // serial number
    sha256WithRsa,
    name,
    seq(der(0x17, Buffer.from('000101000000Z')), der(0x18, Buffer.from('21251231235959Z'))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = seq(tbs, sha256WithRsa, der(0x03, Buffer.concat([Buffer.from([0x00]), signature])));
  const body = certificate.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** One DER element: tag, definite length, content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  if (body.length < 0x80) return Buffer.concat([Buffer.from([tag, body.length]), body]);
  const hex = body.length.toString(16);
  const length = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  return Buffer.concat([Buffer.from([tag, 0x80 | length.length]), length, body]);
}

function seq(...content: Buffer[]): Buffer {
  return der(0x30, ...content);
}
