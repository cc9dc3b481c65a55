// Tests for loadSecrets(): app-setting values for local runs, and Key Vault through the real SecretClient against
// loopback emulators, with the real DefaultAzureCredential (managed identity) run in a clean child process.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { inspect } from 'node:util';

import type { TokenCredential } from '@azure/identity';

import { startKeyVaultEmulator, type KeyVaultEmulator } from '../emulators/keyVaultEmulator.js';
import { startManagedIdentityEmulator } from '../emulators/managedIdentityEmulator.js';
import { loadTestTls } from '../emulators/testTls.js';
import type { SecretSource } from '../src/config.js';
import { SecretError } from '../src/errors.js';
import { RecordingLogger } from '../src/logger.js';
import { Secret } from '../src/Secret.js';
import { loadSecrets } from '../src/secrets.js';
import { runNodeScript } from './helpers/processEnv.js';

const TOKEN_NAME = 'mcas-api-token';
const KEY_NAME = 'log-analytics-workspace-key';
const MCAS_TOKEN = 'test-mcas-token-0f3c9a7e5b1d4c2a';
const WORKSPACE_KEY = Buffer.from('test-only workspace key, not a real one').toString('base64');
const ACCESS_TOKEN = 'test-access-token-from-the-mi-emulator';
const CLIENT_ID = '3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b';

function vaultSource(vaultUrl: string): SecretSource {
  return { kind: 'keyVault', vaultUrl, mcasTokenName: TOKEN_NAME, workspaceKeyName: KEY_NAME };
}

/** Every form in which a seeded value could leak: as stored, trimmed, base64 of it, and its base64 decoding. */
function leakForms(values: readonly string[]): string[] {
  return values
    .map((v) => v.trim())
    .filter((v) => v.length >= 8)
    .flatMap((v) => {
      const forms = [v, Buffer.from(v).toString('base64')];
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(v)) forms.push(Buffer.from(v, 'base64').toString('utf8'));
      return forms;
    });
}

function assertNoSecretIn(text: string, values: readonly string[], where: string): void {
  for (const form of leakForms(values)) {
    assert.ok(!text.includes(form), `a seeded secret value (or a base64 form of it) appears in ${where}`);
  }
}

/** Everything a host could print about an error: message, stack and the whole cause chain. */
function describeForLeakCheck(error: unknown): string {
  return `${String(error)}\n${inspect(error, { depth: 10 })}`;
}

async function startVault(t: TestContext, secrets: Record<string, string>, extra: { forbidden?: boolean } = {}) {
  const vault = await startKeyVaultEmulator({ secrets, expectedToken: ACCESS_TOKEN, ...extra });
  t.after(() => vault.close());
  return vault;
}

/** A stand-in credential for in-process tests; it records the scopes asked for. */
function recordingCredential(scopes: string[]): TokenCredential {
  return {
    getToken: (requested) => {
      scopes.push(...(Array.isArray(requested) ? requested : [requested]));
      return Promise.resolve({ token: ACCESS_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

/** loadSecrets against the emulator in this process: real SecretClient, given credential, test CA trusted per client. */
function loadInProcess(vault: KeyVaultEmulator, log: RecordingLogger, scopes: string[] = []) {
  return loadSecrets(vaultSource(vault.vaultUrl), {
    log,
    credential: recordingCredential(scopes),
    clientOptions: { tlsOptions: { ca: loadTestTls().cert } },
  });
}

function assertChallengeFlow(vault: KeyVaultEmulator, name: string): void {
  const seen = vault.requests.filter((r) => r.secretName === name);
  assert.equal(seen[0]?.authorization, undefined, `first request for ${name} carries no token`);
  assert.equal(seen[0]?.status, 401);
  assert.ok(
    seen.slice(1).some((r) => r.authorization === `Bearer ${ACCESS_TOKEN}` && r.status === 200),
    `a later request for ${name} carries the issued token and succeeds`,
  );
}

describe('loadSecrets from app settings', () => {
  it('returns the values and warns once that app settings are for local runs only', async () => {
    const log = new RecordingLogger();
    const secrets = await loadSecrets(
      { kind: 'environment', mcasToken: new Secret(MCAS_TOKEN), workspaceKey: new Secret(WORKSPACE_KEY) },
      { log },
    );

    assert.equal(secrets.mcasToken?.reveal(), MCAS_TOKEN);
    assert.equal(secrets.workspaceKey?.reveal(), WORKSPACE_KEY);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]?.level, 'warn');
    assert.match(log.text(), /local runs only/);
    assert.match(log.text(), /KEY_VAULT_URL/);
    assertNoSecretIn(log.text(), [MCAS_TOKEN, WORKSPACE_KEY], 'the log');
  });
});

describe('loadSecrets from Key Vault with a given credential', () => {
  it('reads both secrets through the challenge flow and trims them', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: `  ${MCAS_TOKEN}\n`, [KEY_NAME]: `${WORKSPACE_KEY}\n` });
    const log = new RecordingLogger();
    const scopes: string[] = [];

    const secrets = await loadInProcess(vault, log, scopes);

    assert.equal(secrets.mcasToken?.reveal(), MCAS_TOKEN);
    assert.equal(secrets.workspaceKey?.reveal(), WORKSPACE_KEY);
    assert.ok(scopes.length > 0 && scopes.every((s) => s === `${vault.resource}/.default`));
    assertChallengeFlow(vault, TOKEN_NAME);
    assertChallengeFlow(vault, KEY_NAME);
    assertNoSecretIn(log.text(), [MCAS_TOKEN, WORKSPACE_KEY], 'the log');
  });

  it('names the vault and the secret, and how to create it, when a secret is missing', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN });
    const log = new RecordingLogger();

    const failure = loadInProcess(vault, log);
    await assert.rejects(failure, SecretError);
    const error = await failure.catch((e: unknown) => e);
    assert.match(String(error), new RegExp(`'${KEY_NAME}' was not found in Key Vault ${vault.vaultUrl}`));
    assert.match(String(error), /az keyvault secret set/);
    assertNoSecretIn(describeForLeakCheck(error) + log.text(), [MCAS_TOKEN], 'the error or the log');
  });

  it("asks for the 'Key Vault Secrets User' role when the vault answers 403", async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: WORKSPACE_KEY }, { forbidden: true });
    const log = new RecordingLogger();

    const failure = loadInProcess(vault, log);
    await assert.rejects(failure, SecretError);
    const error = await failure.catch((e: unknown) => e);
    assert.match(String(error), new RegExp(`Key Vault ${vault.vaultUrl} refused .*HTTP 403.*'Key Vault Secrets User'`));
    assertNoSecretIn(describeForLeakCheck(error) + log.text(), [MCAS_TOKEN, WORKSPACE_KEY], 'the error or the log');
  });

  it('refuses a secret whose value is empty or white space', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: '  \n ' });
    const log = new RecordingLogger();

    const failure = loadInProcess(vault, log);
    await assert.rejects(failure, SecretError);
    const error = await failure.catch((e: unknown) => e);
    assert.match(String(error), new RegExp(`'${KEY_NAME}' in Key Vault ${vault.vaultUrl} is empty`));
    assertNoSecretIn(describeForLeakCheck(error) + log.text(), [MCAS_TOKEN], 'the error or the log');
  });

  it('refuses a workspace key that is not base64, without quoting it', async (t) => {
    const notBase64 = 'test-only-key-that-is-not-base64!';
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: notBase64 });
    const log = new RecordingLogger();

    const failure = loadInProcess(vault, log);
    await assert.rejects(failure, SecretError);
    const error = await failure.catch((e: unknown) => e);
    assert.match(String(error), new RegExp(`'${KEY_NAME}' in Key Vault ${vault.vaultUrl} is not base64`));
    assertNoSecretIn(describeForLeakCheck(error) + log.text(), [MCAS_TOKEN, notBase64], 'the error or the log');
  });

  it('refuses an MCAS token with white space inside, without quoting it', async (t) => {
    const spaced = 'test-mcas-token with-a-space';
    const vault = await startVault(t, { [TOKEN_NAME]: spaced, [KEY_NAME]: WORKSPACE_KEY });
    const log = new RecordingLogger();

    const failure = loadInProcess(vault, log);
    await assert.rejects(failure, SecretError);
    const error = await failure.catch((e: unknown) => e);
    assert.match(String(error), /contains white space/);
    assertNoSecretIn(describeForLeakCheck(error) + log.text(), [spaced, WORKSPACE_KEY], 'the error or the log');
  });
});

interface ChildReport {
  logs: { level: string; message: string }[];
  secrets?: { mcasToken: string; workspaceKey: string };
  error?: { name: string; message: string; inspected: string };
}

interface ChildRun {
  report: ChildReport;
  /** Everything the child wrote, including the inspected error; for leak checks. */
  output: string;
  /** The child's result as a promise: the values, or a SecretError/Error rebuilt from the child's error. */
  load(): Promise<{ mcasToken: string; workspaceKey: string }>;
}

// Runs the production path (loadSecrets with no credential and no client options) in a fresh process: its env holds
// only the managed identity variables and the test CA, so DefaultAzureCredential and MSAL (which cache the identity
// source per process) see exactly this case, and the test runner's env is never touched. PATH is empty so that a
// developer's own az/azd/pwsh login is never tried by the credentials after the managed identity.
const CHILD_SCRIPT = `
import { inspect } from 'node:util';
const input = JSON.parse(process.argv[1]);
const { loadSecrets } = await import(input.secretsModule);
const logs = [];
const log = Object.fromEntries(['info', 'warn', 'error'].map((level) => [level, (message) => logs.push({ level, message })]));
let report;
try {
  const s = await loadSecrets(input.source, { log, managedIdentityClientId: input.managedIdentityClientId });
  report = { logs, secrets: { mcasToken: s.mcasToken.reveal(), workspaceKey: s.workspaceKey.reveal() } };
} catch (error) {
  report = { logs, error: { name: error.name, message: error.message, inspected: inspect(error, { depth: 10 }) } };
}
process.stdout.write(JSON.stringify(report));
`;

async function loadInChild(
  source: SecretSource,
  env: Record<string, string>,
  managedIdentityClientId?: string,
): Promise<ChildRun> {
  const input = { secretsModule: new URL('../src/secrets.js', import.meta.url).href, source, managedIdentityClientId };
  const { exitCode, stdout, stderr } = await runNodeScript(CHILD_SCRIPT, input, {
    ...env,
    NODE_EXTRA_CA_CERTS: loadTestTls().certPath,
    PATH: '',
  });
  if (exitCode !== 0) throw new Error(`child exited with ${exitCode}: ${stderr}`);
  const report = JSON.parse(stdout) as ChildReport;
  return {
    report,
    output: `${report.error?.inspected ?? ''}\n${report.logs.map((l) => l.message).join('\n')}\n${stderr}`,
    load: () => {
      const { error, secrets } = report;
      if (error)
        return Promise.reject(error.name === 'SecretError' ? new SecretError(error.message) : new Error(error.message));
      assert.ok(secrets, 'the child reported neither secrets nor an error');
      return Promise.resolve(secrets);
    },
  };
}

describe('loadSecrets from Key Vault with DefaultAzureCredential and a managed identity', { concurrency: true }, () => {
  async function startIdentity(
    t: TestContext,
    options: { token?: string; clientIds?: string[]; systemAssigned?: boolean },
  ) {
    const identity = await startManagedIdentityEmulator({ token: options.token ?? ACCESS_TOKEN, ...options });
    t.after(() => identity.close());
    return identity;
  }

  it('reads both secrets with a token for the user-assigned identity named by its client id', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: ` ${WORKSPACE_KEY}\n` });
    const identity = await startIdentity(t, { clientIds: [CLIENT_ID], systemAssigned: false });

    const run = await loadInChild(vaultSource(vault.vaultUrl), identity.env, CLIENT_ID);

    assert.deepEqual(await run.load(), { mcasToken: MCAS_TOKEN, workspaceKey: WORKSPACE_KEY });
    assertChallengeFlow(vault, TOKEN_NAME);
    assertChallengeFlow(vault, KEY_NAME);
    assert.ok(identity.requests.length > 0);
    for (const request of identity.requests) {
      assert.deepEqual(request, {
        resource: vault.resource,
        clientId: CLIENT_ID,
        apiVersion: '2019-08-01',
        identityHeaderOk: true,
        status: 200,
      });
    }
    assert.deepEqual(
      run.report.logs.map((l) => l.level),
      ['info'],
    );
    assertNoSecretIn(run.output, [MCAS_TOKEN, WORKSPACE_KEY], 'the child logs');
  });

  it('uses the system-assigned identity when no client id is set', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: WORKSPACE_KEY });
    const identity = await startIdentity(t, {});

    const run = await loadInChild(vaultSource(vault.vaultUrl), identity.env);

    assert.deepEqual(await run.load(), { mcasToken: MCAS_TOKEN, workspaceKey: WORKSPACE_KEY });
    assert.ok(identity.requests.length > 0);
    assert.ok(identity.requests.every((r) => r.clientId === undefined && r.status === 200));
  });

  it('says no managed identity answered when the client id is not assigned to the app', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: WORKSPACE_KEY });
    const identity = await startIdentity(t, { clientIds: [CLIENT_ID] });
    const otherClientId = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';

    const run = await loadInChild(vaultSource(vault.vaultUrl), identity.env, otherClientId);

    await assert.rejects(run.load(), SecretError);
    assert.match(
      run.report.error?.message ?? '',
      new RegExp(`token for Key Vault ${vault.vaultUrl}.*managed identity`),
    );
    assert.match(run.report.error?.message ?? '', /Unable to load the proper Managed Identity/);
    assert.ok(identity.requests.some((r) => r.clientId === otherClientId && r.status === 400));
    assert.ok(
      vault.requests.every((r) => r.authorization === undefined),
      'no token ever reached the vault',
    );
    assertNoSecretIn(run.output, [MCAS_TOKEN, WORKSPACE_KEY], 'the child error or logs');
  });

  it('fails with the role advice when the vault rejects the token the identity issued', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: WORKSPACE_KEY });
    const identity = await startIdentity(t, { token: 'test-token-for-another-audience' });

    const run = await loadInChild(vaultSource(vault.vaultUrl), identity.env);

    await assert.rejects(run.load(), SecretError);
    assert.match(run.report.error?.message ?? '', /HTTP 401.*'Key Vault Secrets User'/);
    assert.ok(
      vault.requests.some((r) => r.authorization === 'Bearer test-token-for-another-audience' && r.status === 401),
    );
    assertNoSecretIn(run.output, [MCAS_TOKEN, WORKSPACE_KEY], 'the child error or logs');
  });

  it('reports a missing secret through the production path without leaking the other value', async (t) => {
    const vault = await startVault(t, { [KEY_NAME]: WORKSPACE_KEY });
    const identity = await startIdentity(t, {});

    const run = await loadInChild(vaultSource(vault.vaultUrl), identity.env);

    await assert.rejects(run.load(), SecretError);
    assert.match(
      run.report.error?.message ?? '',
      new RegExp(`'${TOKEN_NAME}' was not found in Key Vault ${vault.vaultUrl}`),
    );
    assertNoSecretIn(run.output, [WORKSPACE_KEY], 'the child error or logs');
  });
});

// Apart from the concurrent managed identity tests above: each child loads the whole sign-in library, and more of them
// at once only slow each other down.
describe('loadSecrets from Key Vault with DefaultAzureCredential on a laptop', () => {
  it('off Azure with no sign-in, says to run az login and which credentials were tried, never the raw dump', async (t) => {
    const vault = await startVault(t, { [TOKEN_NAME]: MCAS_TOKEN, [KEY_NAME]: WORKSPACE_KEY });
    // A laptop: the instance metadata endpoint (a loopback stand-in) knows no identity; no az, azd or pwsh on PATH.
    const imds = await imdsWithoutIdentity(t);
    const run = await loadInChild(vaultSource(vault.vaultUrl), { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds });

    await assert.rejects(run.load(), SecretError);
    const message = run.report.error?.message ?? '';
    assert.match(
      message,
      new RegExp(
        `^Could not get a token for Key Vault ${vault.vaultUrl} to read secret '${TOKEN_NAME}': no Azure sign-in was found on this machine\\. Run az login `,
      ),
    );
    assert.match(message, /DefaultAzureCredential tried: .*Azure CLI \(not installed\)/);
    assert.doesNotMatch(message, /aka\.ms|ChainedTokenCredential|troubleshoot|managed identity answered/);
  });
});

/** An instance metadata (IMDS) endpoint that answers as on a machine without a managed identity; returns its URL. */
async function imdsWithoutIdentity(t: TestContext): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'invalid_request', error_description: 'Identity not found' }));
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  t.after(() => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
