// Tests for MCAS authentication: the legacy Token header, Entra Bearer tokens from the real @azure/identity credentials
// against a loopback Entra token endpoint (client secret, certificate) and the managed identity emulator, secrets read
// from the Key Vault emulator, and an activities call to the MCAS emulator with each header.
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import { inspect } from 'node:util';

import type { TokenCredential } from '@azure/identity';

import { generateActivities } from '../../emulators/activityGenerator.js';
import {
  createTestCertificate,
  type EntraAppRegistration,
  startEntraTokenEmulator,
} from '../../emulators/entraTokenEmulator.js';
import { startKeyVaultEmulator } from '../../emulators/keyVaultEmulator.js';
import { startManagedIdentityEmulator } from '../../emulators/managedIdentityEmulator.js';
import { ACTIVITIES_PATH, startMcasEmulator } from '../../emulators/mcasEmulator.js';
import { loadTestTls } from '../../emulators/testTls.js';
import { MCAS_RESOURCE_APP_ID, MCAS_SCOPE } from '../../src/cloud.js';
import { HttpStatusError, SecretError } from '../../src/errors.js';
import { createDispatcher, sendRequest } from '../../src/http.js';
import { parsePage } from '../../src/mcas/McasClient.js';
import {
  createMcasCredential,
  entraAuthorization,
  McasAuthError,
  type McasAuthorization,
  readMcasAppCredential,
  tokenAuthorization,
} from '../../src/mcas/mcasAuth.js';
import { Secret } from '../../src/Secret.js';
import { FakeClock } from '../helpers/fakeTime.js';
import { runNodeScript } from '../helpers/processEnv.js';

const TENANT = '11111111-2222-4333-8444-555555555555';
const CLIENT_ID = '66666666-7777-4888-9999-aaaaaaaaaaaa';
const CLIENT_SECRET = 'test-only-client-secret~not-a-real-one';
const ENTRA_TOKEN = 'test-entra-access-token-for-mcas';
const API_TOKEN = 'test-mcas-api-token-0f3c9a7e';
const tls = { ca: loadTestTls().cert };

const dispatcher = createDispatcher();
after(() => dispatcher.close());

async function startMcas(t: TestContext) {
  const activities = generateActivities({ count: 3, startCreatedMs: Date.UTC(2026, 10, 1), seed: 7 });
  const mcas = await startMcasEmulator({ activities, token: API_TOKEN, bearerToken: ENTRA_TOKEN });
  t.after(() => mcas.close());
  return mcas;
}

/** One activities request as McasClient sends it, with the header and hints of `auth`. */
async function listWith(auth: McasAuthorization, portalUrl: string) {
  const header = await auth.header();
  const response = await sendRequest(dispatcher, {
    service: 'MCAS',
    method: 'POST',
    url: new URL(ACTIVITIES_PATH, portalUrl),
    headers: { authorization: header, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ filters: {}, sortField: 'created', sortDirection: 'asc', skip: 0, limit: 100 }),
    timeoutMs: 5_000,
    redact: [header.slice(header.indexOf(' ') + 1)],
    hints: auth.hints,
  });
  return parsePage(response.body);
}

function credentialReturning(
  tokens: string[],
  scopes: string[],
  clock: FakeClock,
  lifetimeMs = 3_600_000,
): TokenCredential {
  return {
    getToken: (requested) => {
      scopes.push(...(Array.isArray(requested) ? requested : [requested]));
      return Promise.resolve({
        token: tokens[scopes.length - 1] ?? 'no-more-tokens',
        expiresOnTimestamp: clock.nowMs() + lifetimeMs,
      });
    },
  };
}

async function startEntra(t: TestContext, apps: EntraAppRegistration[]) {
  const entra = await startEntraTokenEmulator({ tenantId: TENANT, apps, accessToken: ENTRA_TOKEN });
  t.after(() => entra.close());
  return entra;
}

function appCredential(entraAuthorityHost: string, source: Parameters<typeof createMcasCredential>[0]) {
  return createMcasCredential(source, {
    authorityHost: entraAuthorityHost,
    disableInstanceDiscovery: true,
    tlsOptions: tls,
  });
}

describe('tokenAuthorization', () => {
  it('sends Token <api token> and lists activities with it', async (t) => {
    const mcas = await startMcas(t);
    const auth = tokenAuthorization(new Secret(API_TOKEN));

    assert.equal(await auth.header(), `Token ${API_TOKEN}`);
    assert.equal((await listWith(auth, mcas.url)).data.length, 3);
    assert.equal(auth.kind, 'token');
    assert.match(auth.hints[401] ?? '', /API token/);
  });
});

describe('entraAuthorization', () => {
  it('asks for the Defender for Cloud Apps scope and sends Bearer <token>', async () => {
    const clock = new FakeClock();
    const scopes: string[] = [];
    const auth = entraAuthorization(credentialReturning(['t1'], scopes, clock), undefined, { clock });

    assert.equal(await auth.header(), 'Bearer t1');
    assert.deepEqual(scopes, ['05a65629-4c1b-48c1-a78b-804c4abdd4af/.default']);
    assert.equal(MCAS_SCOPE, scopes[0]);
  });

  it('reuses a token until five minutes before it expires, then gets a new one', async () => {
    const clock = new FakeClock();
    const scopes: string[] = [];
    const auth = entraAuthorization(credentialReturning(['t1', 't2'], scopes, clock), MCAS_SCOPE, { clock });

    assert.deepEqual(await Promise.all([auth.header(), auth.header()]), ['Bearer t1', 'Bearer t1']);
    clock.advance(54 * 60_000);
    assert.equal(await auth.header(), 'Bearer t1');
    assert.equal(scopes.length, 1);
    clock.advance(2 * 60_000);
    assert.equal(await auth.header(), 'Bearer t2');
    assert.equal(scopes.length, 2);
  });

  it('turns a credential failure into McasAuthError that says what to check', async () => {
    const failing: TokenCredential = {
      getToken: () =>
        Promise.reject(
          Object.assign(new Error('ManagedIdentityCredential: no managed identity endpoint found.'), {
            name: 'CredentialUnavailableError',
          }),
        ),
    };
    await assert.rejects(entraAuthorization(failing).header(), McasAuthError);
    await assert.rejects(
      entraAuthorization(failing).header(),
      /Could not get an Entra token for Defender for Cloud Apps .*CredentialUnavailableError: .*no managed identity endpoint.*turn it on/,
    );
  });

  it('explains a 401 from MCAS in Entra mode with the Investigation.read app role and admin consent', async (t) => {
    const mcas = await startMcas(t);
    const clock = new FakeClock();
    const refused = 'test-entra-token-without-the-app-role';
    const auth = entraAuthorization(credentialReturning([refused], [], clock), MCAS_SCOPE, { clock });

    const failure = listWith(auth, mcas.url);
    await assert.rejects(failure, HttpStatusError);
    const error = (await failure.catch((e: unknown) => e)) as HttpStatusError;
    assert.equal(error.status, 401);
    assert.match(
      error.message,
      /Investigation\.read of 'Microsoft Cloud App Security' \(05a65629-4c1b-48c1-a78b-804c4abdd4af\)/,
    );
    assert.match(error.message, /admin consent/);
    assert.ok(!error.message.includes(refused));
  });
});

describe('createMcasCredential with an app registration and a loopback Entra token endpoint', () => {
  it('gets a token with the client secret through OpenID discovery, and lists activities with it', async (t) => {
    const entra = await startEntra(t, [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }]);
    const mcas = await startMcas(t);
    const credential = await appCredential(entra.authorityHost, {
      kind: 'clientSecret',
      tenantId: TENANT,
      clientId: CLIENT_ID,
      clientSecret: new Secret(CLIENT_SECRET),
    });
    const auth = entraAuthorization(credential);

    const page = await listWith(auth, mcas.url);

    assert.equal(page.data.length, 3);
    assert.equal(mcas.requests.at(-1)?.headers['authorization'], `Bearer ${ENTRA_TOKEN}`);
    assert.deepEqual(
      entra.requests.map((r) => [r.kind, r.status]),
      [
        ['discovery', 200],
        ['token', 200],
      ],
    );
    const token = entra.requests.find((r) => r.kind === 'token');
    assert.deepEqual(
      { grantType: token?.grantType, clientId: token?.clientId, scope: token?.scope, clientAuth: token?.clientAuth },
      { grantType: 'client_credentials', clientId: CLIENT_ID, scope: MCAS_SCOPE, clientAuth: 'secret' },
    );
  });

  it("fails with McasAuthError carrying Entra's AADSTS code for a wrong secret, and never quotes the secret", async (t) => {
    const entra = await startEntra(t, [{ clientId: CLIENT_ID, clientSecret: 'test-only-the-current-secret' }]);
    const credential = await appCredential(entra.authorityHost, {
      kind: 'clientSecret',
      tenantId: TENANT,
      clientId: CLIENT_ID,
      clientSecret: new Secret(CLIENT_SECRET),
    });

    const failure = entraAuthorization(credential).header();
    await assert.rejects(failure, McasAuthError);
    const error = await failure.catch((e: unknown) => e);
    assert.match(String(error), /AADSTS7000215/);
    assert.match(String(error), /check its tenant id, client id and that its secret or certificate is current/);
    assert.ok(!inspect(error, { depth: 10 }).includes(CLIENT_SECRET), 'the secret appears in the error or its causes');
    assert.deepEqual(
      entra.requests.filter((r) => r.kind === 'token').map((r) => r.errorCode),
      ['AADSTS7000215'],
    );
  });

  it('gets a token with a certificate-signed client assertion', async (t) => {
    const { certificatePem, privateKeyPem } = createTestCertificate('mcas-connector test app');
    const entra = await startEntra(t, [{ clientId: CLIENT_ID, certificatePem }]);
    const credential = await appCredential(entra.authorityHost, {
      kind: 'clientCertificate',
      tenantId: TENANT,
      clientId: CLIENT_ID,
      certificatePem: new Secret(`${certificatePem}${privateKeyPem}`),
    });

    assert.equal(await entraAuthorization(credential).header(), `Bearer ${ENTRA_TOKEN}`);
    const token = entra.requests.find((r) => r.kind === 'token');
    assert.equal(token?.clientAuth, 'assertion');
    assert.equal(token.status, 200);
  });

  it('is refused when the certificate is not the one registered on the app', async (t) => {
    const registered = createTestCertificate('registered');
    const other = createTestCertificate('someone else');
    const entra = await startEntra(t, [{ clientId: CLIENT_ID, certificatePem: registered.certificatePem }]);
    const credential = await appCredential(entra.authorityHost, {
      kind: 'clientCertificate',
      tenantId: TENANT,
      clientId: CLIENT_ID,
      certificatePem: new Secret(`${other.certificatePem}${other.privateKeyPem}`),
    });

    await assert.rejects(entraAuthorization(credential).header(), McasAuthError);
    assert.deepEqual(
      entra.requests.filter((r) => r.kind === 'token').map((r) => r.errorCode),
      ['AADSTS700027'],
    );
  });
});

describe('readMcasAppCredential from Key Vault', () => {
  const vaultToken = 'test-vault-token';
  const vaultCredential: TokenCredential = {
    getToken: () => Promise.resolve({ token: vaultToken, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };

  async function startVault(t: TestContext, secrets: Record<string, string>) {
    const vault = await startKeyVaultEmulator({ secrets, expectedToken: vaultToken });
    t.after(() => vault.close());
    return vault;
  }

  it('reads the client secret and a PEM certificate with its key under the default names', async (t) => {
    const { certificatePem, privateKeyPem } = createTestCertificate('from the vault');
    const vault = await startVault(t, {
      'mcas-app-client-secret': `${CLIENT_SECRET}\n`,
      'mcas-app-certificate': `${certificatePem}${privateKeyPem}`,
    });
    const options = { credential: vaultCredential, clientOptions: { tlsOptions: tls } };

    const secret = await readMcasAppCredential({ kind: 'clientSecret', vaultUrl: vault.vaultUrl }, options);
    const certificate = await readMcasAppCredential({ kind: 'clientCertificate', vaultUrl: vault.vaultUrl }, options);

    assert.equal(secret.reveal(), CLIENT_SECRET);
    assert.equal(certificate.reveal(), `${certificatePem}${privateKeyPem}`.trim());
  });

  it('refuses a certificate stored as PKCS#12, and says how to store it as PEM, without quoting it', async (t) => {
    const pfxLike = Buffer.from('not really a pfx, but base64 like one').toString('base64');
    const vault = await startVault(t, { 'mcas-app-certificate': pfxLike });

    const failure = readMcasAppCredential(
      { kind: 'clientCertificate', vaultUrl: vault.vaultUrl },
      { credential: vaultCredential, clientOptions: { tlsOptions: tls } },
    );
    await assert.rejects(failure, SecretError);
    const error = await failure.catch((e: unknown) => e);
    assert.match(String(error), /PKCS#12 .*application\/x-pem-file/);
    assert.ok(!inspect(error, { depth: 10 }).includes(pfxLike));
  });

  it('names the vault and secret when the secret is missing', async (t) => {
    const vault = await startVault(t, {});
    await assert.rejects(
      readMcasAppCredential(
        { kind: 'clientSecret', vaultUrl: vault.vaultUrl, secretName: 'other-app-secret' },
        { credential: vaultCredential, clientOptions: { tlsOptions: tls } },
      ),
      new RegExp(`Secret 'other-app-secret' was not found in Key Vault ${vault.vaultUrl}`),
    );
  });
});

// The managed identity runs in a fresh process: MSAL picks the identity source once per process from IDENTITY_ENDPOINT,
// and the test runner's own env must not be touched (see test/secrets.test.ts).
const CHILD_SCRIPT = `
const input = JSON.parse(process.argv[1]);
const { createMcasCredential, entraAuthorization } = await import(input.authModule);
try {
  const header = await entraAuthorization(await createMcasCredential({ kind: 'managedIdentity', clientId: input.clientId })).header();
  process.stdout.write(JSON.stringify({ header }));
} catch (error) {
  process.stdout.write(JSON.stringify({ error: error.name + ': ' + error.message }));
}
`;

describe('createMcasCredential with a managed identity', () => {
  it('gets a token for the Defender for Cloud Apps resource from the user-assigned identity, and lists activities', async (t) => {
    const identity = await startManagedIdentityEmulator({
      token: ENTRA_TOKEN,
      clientIds: [CLIENT_ID],
      systemAssigned: false,
    });
    t.after(() => identity.close());
    const mcas = await startMcas(t);
    const input = { authModule: new URL('../../src/mcas/mcasAuth.js', import.meta.url).href, clientId: CLIENT_ID };
    const { exitCode, stdout, stderr } = await runNodeScript(CHILD_SCRIPT, input, { ...identity.env, PATH: '' });
    assert.equal(exitCode, 0, stderr);

    const report = JSON.parse(stdout) as { header?: string; error?: string };
    assert.deepEqual(report, { header: `Bearer ${ENTRA_TOKEN}` });
    assert.ok(identity.requests.length > 0);
    assert.ok(
      identity.requests.every(
        (r) => r.resource === MCAS_RESOURCE_APP_ID && r.clientId === CLIENT_ID && r.status === 200,
      ),
    );
    const header = report.header;
    const page = await listWith({ kind: 'entra', hints: {}, header: () => Promise.resolve(header) }, mcas.url);
    assert.equal(page.data.length, 3);
  });
});
