// Drives the connector's failure paths with distinctive fake secrets, collects every log line, error, SDK log (verbose),
// stderr/console write and CLI output, and asserts the MCAS token and the workspace key never appear in any form.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { format, inspect } from 'node:util';

import azureFunctions from '@azure/functions';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
// A transitive dependency (of @azure/core-rest-pipeline and the SDK clients), hoisted in node_modules.
import { AzureLogger, setLogLevel } from '@azure/logger';

import { generateActivities } from '../../emulators/activityGenerator.js';
import { type Azurite, startAzurite } from '../../emulators/azurite.js';
import {
  type DataCollectorEmulator,
  type DataCollectorFault,
  startDataCollectorEmulator,
} from '../../emulators/dataCollectorEmulator.js';
import type { Fault } from '../../emulators/httpServer.js';
import { type KeyVaultEmulator, startKeyVaultEmulator } from '../../emulators/keyVaultEmulator.js';
import { startManagedIdentityEmulator } from '../../emulators/managedIdentityEmulator.js';
import { type McasEmulator, startMcasEmulator } from '../../emulators/mcasEmulator.js';
import { loadTestTls } from '../../emulators/testTls.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/MemoryCheckpointStore.js';
import { readConfig } from '../../src/config.js';
import { ConfigError, HttpStatusError, SecretError } from '../../src/errors.js';
import { mcasActivityTimer } from '../../src/functions/mcasActivityTimer.js';
import { RecordingLogger, stderrLogger } from '../../src/logger.js';
import { runIngestion } from '../../src/run.js';
import { runOnce } from '../../src/runOnce.js';
import { loadSecrets } from '../../src/secrets.js';
import { closedPort } from '../helpers/closedPort.js';
import { timer, withEnv } from '../helpers/processEnv.js';
import { createDependencies } from '../../src/wiring.js';

const { InvocationContext } = azureFunctions;

/** Realistic lengths: MCAS tokens are long strings, workspace keys are base64 of 64 bytes (88 characters). */
const TOKEN = 'tok-LEAKCHECK-5f1e9c3a7b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a';
const KEY_TEXT = 'key-LEAKCHECK-9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d';
const KEY = Buffer.from(KEY_TEXT).toString('base64');
const WORKSPACE_ID = '5e4c0000-fa6e-4000-8000-00000000cafe';
const ACCESS_TOKEN = 'fake-access-token-for-the-vault-emulator';
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const DJANGO_DEBUG_PAGE = readFileSync(
  fileURLToPath(new URL('../../../test/fixtures/bad-input/envelopes/django-debug-500.html', import.meta.url)),
  'utf8',
);
/** A leak of this many consecutive characters of a secret counts, wherever it starts. */
const WINDOW = 20;

interface Needle {
  label: string;
  /** Lower case: matching ignores case, so a host name or header that lower-cases a secret is still caught. */
  text: string;
}

/**
 * Every form in which the two secrets could leak: raw, URL-encoded, the key's decoded bytes (latin1, UTF-8, hex),
 * base64 and base64url at each of the three byte alignments (so a secret inside a larger encoded value is caught),
 * and every WINDOW-character slice of the raw forms (a partial leak).
 */
function secretNeedles(): Needle[] {
  const needles: Needle[] = [];
  const add = (label: string, text: string): void => {
    const lower = text.toLowerCase();
    if (lower.length >= WINDOW - 4 && !needles.some((n) => n.text === lower)) needles.push({ label, text: lower });
  };
  const keyBytes = Buffer.from(KEY, 'base64');
  const plain: [string, string][] = [
    ['the token', TOKEN],
    ['the workspace key', KEY],
    ['the workspace key in base64url', KEY.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')],
    ['the decoded workspace key (latin1)', keyBytes.toString('latin1')],
    ['the decoded workspace key (UTF-8)', keyBytes.toString('utf8')],
    ['the decoded workspace key (hex)', keyBytes.toString('hex')],
    ['the token URL-encoded', encodeURIComponent(TOKEN)],
    ['the workspace key URL-encoded', encodeURIComponent(KEY)],
  ];
  for (const [label, text] of plain) {
    add(label, text);
    for (let i = 0; i + WINDOW <= text.length; i++)
      add(`${label}, characters ${i}-${i + WINDOW}`, text.slice(i, i + WINDOW));
  }
  const encoded: [string, Buffer][] = [
    ['the token', Buffer.from(TOKEN)],
    ['the workspace key text', Buffer.from(KEY)],
    ['the decoded workspace key', keyBytes],
  ];
  for (const [label, bytes] of encoded) {
    for (const offset of [0, 1, 2]) {
      // The characters that depend only on the secret's own bytes at this alignment.
      const base64 = Buffer.concat([Buffer.alloc(offset), bytes])
        .toString('base64')
        .slice(Math.ceil((offset * 4) / 3), -4);
      add(`base64 of ${label} (offset ${offset})`, base64);
      add(`base64url of ${label} (offset ${offset})`, base64.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return needles;
}

const NEEDLES = secretNeedles();

interface Collected {
  source: string;
  text: string;
}

/** Everything seen so far, from every path and every channel. */
const collected: Collected[] = [];

function collect(source: string, text: string): void {
  collected.push({ source, text });
}

/** Everything a host or a person could print about an error: text, stack, inspected form (causes included), JSON. */
function describeError(error: unknown): string {
  const parts = [String(error), inspect(error, { depth: 10 })];
  if (error instanceof Error) {
    parts.push(error.message, error.stack ?? '');
    try {
      parts.push(JSON.stringify(error, Object.getOwnPropertyNames(error)));
    } catch {
      // A cycle (an SDK error holding its request): inspect above already covered it.
    }
  }
  return parts.join('\n');
}

function collectError(source: string, error: unknown): void {
  collect(`${source} (error)`, describeError(error));
}

function collectLog(source: string, log: RecordingLogger): void {
  for (const line of log.lines) collect(`${source} (log ${line.level})`, line.message);
}

/** The leaks in `entries`, one line per secret form and source, described without repeating the secret. */
function findLeaks(entries: readonly Collected[]): string[] {
  const leaks = new Map<string, string>();
  for (const entry of entries) {
    const haystack = entry.text.toLowerCase();
    for (const needle of NEEDLES) {
      const form = needle.label.replace(/, characters \d+-\d+$/, '');
      const key = `${form} in ${entry.source}`;
      const at = haystack.indexOf(needle.text);
      if (at >= 0 && !leaks.has(key)) {
        leaks.set(
          key,
          `${needle.label} appears in ${entry.source} at offset ${at}, after "${entry.text.slice(Math.max(0, at - 40), at)}"`,
        );
      }
    }
  }
  return [...leaks.values()];
}

function assertNoLeaks(entries: readonly Collected[], where: string): void {
  const leaks = findLeaks(entries);
  assert.equal(leaks.length, 0, `${leaks.length} secret leak(s) in ${where}:\n${leaks.slice(0, 10).join('\n')}`);
}

/** Runs `fn`, then checks only what was collected while it ran. */
async function failurePath(name: string, fn: () => Promise<void>): Promise<void> {
  const start = collected.length;
  await fn();
  const mine = collected.slice(start);
  assert.ok(mine.length > 0, `${name} produced nothing to check`);
  assertNoLeaks(mine, name);
}

const instantSleep = async (): Promise<void> => {};

interface CliResult {
  code: number;
  output: string;
}

function runCli(env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, 'run'],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          output: `${stdout}\n${stderr}`,
        });
      },
    );
  });
}

describe('no secret leaks on failure paths', () => {
  const activities = generateActivities({
    count: 12,
    startCreatedMs: Date.now() - 2 * 3_600_000,
    seed: 7,
    spanMs: 3_600_000,
  });
  let mcasFault: (() => Fault | undefined) | undefined;
  let logAnalyticsFault: ((headers: Record<string, string>) => DataCollectorFault | undefined) | undefined;
  let mcas: McasEmulator;
  let logAnalytics: DataCollectorEmulator;
  let vault: KeyVaultEmulator;
  let forbiddenVault: KeyVaultEmulator;
  let azurite: Azurite;
  let dir: string;
  const restore: (() => void)[] = [];

  before(async () => {
    setLogLevel('verbose');
    const originalAzureLog = AzureLogger.log;
    AzureLogger.log = (...args: unknown[]) => collect('Azure SDK log', format(...args));
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only put back on process.stderr below, never called
    const originalStderrWrite = process.stderr.write;
    process.stderr.write = (chunk: unknown) => {
      collect('stderr', typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return true;
    };
    const consoleMethods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only put back on console below, never called
    const originalConsole = consoleMethods.map((m) => console[m]);
    for (const m of consoleMethods) console[m] = (...args: unknown[]) => collect(`console.${m}`, format(...args));
    restore.push(() => {
      AzureLogger.log = originalAzureLog;
      setLogLevel();
      process.stderr.write = originalStderrWrite;
      consoleMethods.forEach((m, i) => (console[m] = originalConsole[i] as (typeof console)[typeof m]));
    });

    const vaultSecrets = { 'mcas-api-token': TOKEN, 'log-analytics-workspace-key': KEY };
    const started = await Promise.allSettled([
      startMcasEmulator({ activities, token: TOKEN, faults: () => mcasFault?.() }),
      startDataCollectorEmulator({
        workspaceId: WORKSPACE_ID,
        sharedKeyBase64: KEY,
        faults: (_, info) => logAnalyticsFault?.(info.headers),
      }),
      startKeyVaultEmulator({ secrets: vaultSecrets, expectedToken: ACCESS_TOKEN }),
      startKeyVaultEmulator({ secrets: vaultSecrets, expectedToken: ACCESS_TOKEN, forbidden: true }),
      startAzurite(),
      mkdtemp(join(tmpdir(), 'leak-check-')),
    ] as const);
    // One emulator that fails to start (Azurite is slow on a loaded machine) must not leave the others listening,
    // or this file's process never exits and the whole suite waits on it.
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      await Promise.allSettled(
        started.flatMap((result) =>
          result.status === 'fulfilled' && typeof result.value === 'object' ? [result.value.close()] : [],
        ),
      );
      throw failed.reason;
    }
    [mcas, logAnalytics, vault, forbiddenVault, azurite, dir] = started.map(
      (result) => (result as PromiseFulfilledResult<unknown>).value,
    ) as [typeof mcas, typeof logAnalytics, typeof vault, typeof forbiddenVault, typeof azurite, typeof dir];
  });

  after(async () => {
    for (const undo of restore) undo();
    await Promise.all([mcas.close(), logAnalytics.close(), vault.close(), forbiddenVault.close(), azurite.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  /** App settings for a local run against the emulators, secrets from the environment. */
  function settings(extra: Record<string, string> = {}): Record<string, string> {
    return {
      MCAS_PORTAL_URL: mcas.url,
      LOG_ANALYTICS_WORKSPACE_ID: WORKSPACE_ID,
      LOG_ANALYTICS_ENDPOINT: logAnalytics.url,
      MCAS_API_TOKEN: TOKEN,
      LOG_ANALYTICS_WORKSPACE_KEY: KEY,
      MCAS_MAX_REQUESTS_PER_MINUTE: '1000000',
      CREATED_SETTLE_SECONDS: '0',
      CHECKPOINT_STORE: `file:${join(dir, 'checkpoints')}`,
      ...extra,
    };
  }

  /** The settings without CHECKPOINT_STORE: the checkpoints then go to the blob store of AzureWebJobsStorage. */
  function blobStoreSettings(): Record<string, string> {
    return Object.fromEntries(Object.entries(settings()).filter(([name]) => name !== 'CHECKPOINT_STORE'));
  }

  /** One in-process run through runOnce (config, secrets from env, real clients), expected to fail. */
  async function failingRun(source: string, env: Record<string, string>, overrides = true): Promise<unknown> {
    const log = new RecordingLogger();
    const error = await runOnce(
      env,
      log,
      overrides ? { overrides: { checkpoints: new MemoryCheckpointStore('activities'), sleep: instantSleep } } : {},
    ).then(
      () => assert.fail(`${source}: the run succeeded`),
      (e: unknown) => e,
    );
    collectLog(source, log);
    collectError(source, error);
    return error;
  }

  function expectStatus(error: unknown, service: string, status: number): HttpStatusError {
    assert.ok(error instanceof HttpStatusError, `expected HttpStatusError, got ${String(error)}`);
    assert.equal(error.service, service);
    assert.equal(error.status, status);
    return error;
  }

  it('MCAS 401 whose JSON body echoes the token and the Authorization header', () =>
    failurePath('MCAS 401 echo', async () => {
      mcasFault = () => ({
        status: 401,
        body: { detail: `Invalid token: ${TOKEN}`, received: { authorization: `Token ${TOKEN}` } },
      });
      const error = expectStatus(await failingRun('MCAS 401 echo', settings()), 'MCAS', 401);
      assert.match(error.message, /\[redacted\]/, 'the echo reached the excerpt and was redacted');
    }));

  it('MCAS 403 whose body echoes the token', () =>
    failurePath('MCAS 403 echo', async () => {
      mcasFault = () => ({ status: 403, body: `Forbidden for Token ${TOKEN} (admin role required)` });
      expectStatus(await failingRun('MCAS 403 echo', settings()), 'MCAS', 403);
    }));

  it('MCAS 400 whose body echoes the token next to the query', () =>
    failurePath('MCAS 400 echo', async () => {
      mcasFault = () => ({
        status: 400,
        body: { filters: [{ error: `token ${TOKEN} may not use this filter` }], error: true },
      });
      expectStatus(await failingRun('MCAS 400 echo', settings()), 'MCAS', 400);
    }));

  it('MCAS 500 debug pages echoing the Authorization header on every retry', () =>
    failurePath('MCAS 500 debug page', async () => {
      mcasFault = () => ({ status: 500, body: DJANGO_DEBUG_PAGE.replace('{{AUTHORIZATION}}', `Token ${TOKEN}`) });
      expectStatus(await failingRun('MCAS 500 debug page', settings()), 'MCAS', 500);
    }));

  it('MCAS 401 whose body puts the token where the excerpt is cut', () =>
    failurePath('MCAS 401 echo at the excerpt edge', async () => {
      // Indented pages (a debug page) collapse to few characters, so the byte window's edge lands inside the echo.
      mcasFault = () => ({ status: 401, body: `${' '.repeat(2000 - 30)}Token ${TOKEN}` });
      expectStatus(await failingRun('MCAS 401 echo at the excerpt edge', settings()), 'MCAS', 401);
    }));

  it('MCAS connection resets and a refused connection', () =>
    failurePath('MCAS network errors', async () => {
      mcasFault = () => ({ kind: 'reset' });
      const reset = await failingRun('MCAS reset', settings());
      assert.equal((reset as { code?: unknown }).code, 'ECONNRESET');
      mcasFault = undefined;
      const refused = await failingRun(
        'MCAS refused',
        settings({ MCAS_PORTAL_URL: `http://127.0.0.1:${await closedPort()}` }),
      );
      assert.match(describeError(refused), /ECONNREFUSED/);
    }));

  it("MCAS 403 echoing the token, logged by the CLI's stderr logger in this process", () =>
    failurePath('stderr logger', async () => {
      mcasFault = () => ({ status: 403, body: { detail: `Token ${TOKEN} lacks the activities permission` } });
      const error = await runOnce(settings(), stderrLogger, {
        overrides: { checkpoints: new MemoryCheckpointStore('activities'), sleep: instantSleep },
      }).then(
        () => assert.fail('the run succeeded'),
        (e: unknown) => e,
      );
      collectError('stderr logger', error);
      expectStatus(error, 'MCAS', 403);
      mcasFault = undefined;
    }));

  it('Log Analytics 403 and 400 whose bodies echo the Authorization header and the key', () =>
    failurePath('Log Analytics echo', async () => {
      mcasFault = undefined;
      logAnalyticsFault = (headers) => ({
        status: 403,
        body: {
          Error: 'InvalidAuthorization',
          Message: `Bad signature in ${headers['authorization'] ?? ''}; key on file ${KEY}`,
        },
      });
      const forbidden = expectStatus(await failingRun('Log Analytics 403 echo', settings()), 'Log Analytics', 403);
      assert.match(forbidden.message, /\[redacted\]/, 'the echoed key reached the excerpt and was redacted');
      logAnalyticsFault = (headers) => ({ status: 400, body: `InvalidDataFormat: ${JSON.stringify(headers)}` });
      expectStatus(await failingRun('Log Analytics 400 echo', settings()), 'Log Analytics', 400);
    }));

  it('Log Analytics connection resets', () =>
    failurePath('Log Analytics reset', async () => {
      logAnalyticsFault = () => ({ kind: 'reset' });
      const error = await failingRun('Log Analytics reset', settings());
      assert.equal((error as { code?: unknown }).code, 'ECONNRESET');
      logAnalyticsFault = undefined;
    }));

  /** Config with KEY_VAULT_URL, secrets from the vault emulator, then a run: the production path minus the host. */
  async function runWithVault(source: string, vaultUrl: string, credential: TokenCredential): Promise<unknown> {
    const log = new RecordingLogger();
    const env = settings({ KEY_VAULT_URL: vaultUrl });
    delete env['MCAS_API_TOKEN'];
    delete env['LOG_ANALYTICS_WORKSPACE_KEY'];
    const error = await (async () => {
      const config = readConfig(env);
      const secrets = await loadSecrets(config.secrets, {
        log,
        credential,
        clientOptions: { tlsOptions: { ca: loadTestTls().cert } },
      });
      const runtime = await createDependencies(config, secrets, log, {
        checkpoints: new MemoryCheckpointStore('activities'),
        sleep: instantSleep,
      });
      try {
        await runIngestion(runtime.deps, {
          ...config.run,
          pageSize: config.mcas.pageSize,
          maxBatchBytes: config.logAnalytics.maxBatchBytes,
          extraFilters: {},
        });
      } finally {
        await runtime.close();
      }
    })().then(
      () => assert.fail(`${source}: the run succeeded`),
      (e: unknown) => e,
    );
    collectLog(source, log);
    collectError(source, error);
    return error;
  }

  const vaultCredential: TokenCredential = {
    getToken: () => Promise.resolve({ token: ACCESS_TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };

  it('Key Vault 403, and a 404 for one secret while the other was read', () =>
    failurePath('Key Vault errors', async () => {
      const forbidden = await runWithVault('Key Vault 403', forbiddenVault.vaultUrl, vaultCredential);
      assert.ok(forbidden instanceof SecretError && /HTTP 403/.test(forbidden.message));
      const missing = await loadSecrets(
        {
          kind: 'keyVault',
          vaultUrl: vault.vaultUrl,
          mcasTokenName: 'mcas-api-token',
          workspaceKeyName: 'no-such-secret',
        },
        {
          log: new RecordingLogger(),
          credential: vaultCredential,
          clientOptions: { tlsOptions: { ca: loadTestTls().cert } },
        },
      ).then(
        () => assert.fail('the missing secret was found'),
        (e: unknown) => e,
      );
      collectError('Key Vault 404', missing);
      assert.ok(missing instanceof SecretError && /was not found/.test(missing.message));
    }));

  it('Key Vault reads both secrets (logged at verbose), then MCAS refuses the token and echoes it', () =>
    failurePath('Key Vault then MCAS 401', async () => {
      mcasFault = () => ({ status: 401, body: { detail: `Invalid token: ${TOKEN}` } });
      const error = await runWithVault('Key Vault then MCAS 401', vault.vaultUrl, vaultCredential);
      expectStatus(error, 'MCAS', 401);
      assert.ok(
        vault.requests.some((r) => r.secretName === 'log-analytics-workspace-key' && r.status === 200),
        'the key was read',
      );
      mcasFault = undefined;
    }));

  it('a managed identity that is not assigned to the app', () =>
    failurePath('managed identity failure', async () => {
      const identity = await startManagedIdentityEmulator({ token: ACCESS_TOKEN, clientIds: [] });
      try {
        const error = await withEnv(identity.env, async () =>
          runWithVault(
            'managed identity failure',
            vault.vaultUrl,
            new ManagedIdentityCredential({ clientId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d' }),
          ),
        );
        assert.ok(error instanceof SecretError && /managed identity/.test(error.message), String(error));
        assert.ok(
          identity.requests.some((r) => r.status === 400),
          'the identity endpoint was asked and refused',
        );
      } finally {
        await identity.close();
      }
    }));

  it('the blob checkpoint store with a wrong account key and with a bad SAS', () =>
    failurePath('blob store', async () => {
      const blobSettings = blobStoreSettings();
      const wrongKey = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=${azurite.blobEndpoint};`;
      const keyError = await failingRun('blob wrong key', { ...blobSettings, AzureWebJobsStorage: wrongKey }, false);
      assert.match(String(keyError), /Could not (read|write) checkpoint .*status 403/);
      const sas = `sv=2021-08-06&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&spr=https,http&sig=${encodeURIComponent(KEY)}`;
      const sasError = await failingRun(
        'blob bad SAS',
        { ...blobSettings, AzureWebJobsStorage: `BlobEndpoint=${azurite.blobEndpoint};SharedAccessSignature=${sas}` },
        false,
      );
      assert.match(String(sasError), /Could not (read|write) checkpoint .*status 403/);
    }));

  /** Each secret pasted into a setting that is not secret: the mix-ups an operator can make. */
  const MIXED_UP_SETTINGS: Record<string, string> = {
    LOG_ANALYTICS_WORKSPACE_ID: KEY,
    AZURE_CLIENT_ID: TOKEN,
    LOG_TYPE: KEY,
    MCAS_TIMER_SCHEDULE: TOKEN,
    CHECKPOINT_CONTAINER: TOKEN,
    HTTP_TIMEOUT_SECONDS: TOKEN,
    MCAS_PORTAL_URL: `https://user:${TOKEN}@contoso.us2.portal.cloudappsecurity.com`,
    LOG_ANALYTICS_ENDPOINT: `https://${TOKEN}.example.com`,
  };

  it('bad settings that hold the secrets in other fields', () =>
    failurePath('mixed-up settings', () => {
      const env = {
        ...settings({ CHECKPOINT_STORE: 'blob', AzureWebJobsStorage: 'UseDevelopmentStorage=true' }),
        ...MIXED_UP_SETTINGS,
      };
      assert.throws(
        () => readConfig(env),
        (error: unknown) => {
          collectError('mixed-up settings', error);
          assert.ok(error instanceof ConfigError);
          for (const name of Object.keys(MIXED_UP_SETTINGS)) assert.match(error.message, new RegExp(`${name}: `));
          return true;
        },
      );
      return Promise.resolve();
    }));

  it('the CLI: an echoing MCAS, mixed-up settings, and a wrong storage key with the SDK logging at verbose', () =>
    failurePath('CLI', async () => {
      mcasFault = () => ({ status: 401, body: { detail: `Invalid token: ${TOKEN}` } });
      const echo = await runCli(settings());
      collect('CLI, MCAS 401 echo', echo.output);
      assert.equal(echo.code, 1);
      assert.match(echo.output, /HttpStatusError: MCAS answered 401/);
      mcasFault = undefined;

      const mixed = await runCli({ ...settings(), ...MIXED_UP_SETTINGS });
      collect('CLI, mixed-up settings', mixed.output);
      assert.equal(mixed.code, 1);
      assert.match(mixed.output, /LOG_ANALYTICS_WORKSPACE_ID/);

      const blobSettings = blobStoreSettings();
      const wrongKey = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};BlobEndpoint=${azurite.blobEndpoint};`;
      const blob = await runCli({ ...blobSettings, AzureWebJobsStorage: wrongKey, AZURE_LOG_LEVEL: 'verbose' });
      collect('CLI, wrong storage key', blob.output);
      assert.equal(blob.code, 1);
      assert.match(blob.output, /azure:storage-blob:\w+ Request: \{/, 'the SDK logged its requests in the child');
      assert.match(blob.output, /Could not read checkpoint/);
    }));

  it("the timer function: an echoing MCAS, through the InvocationContext's log", () =>
    failurePath('timer function', async () => {
      mcasFault = () => ({ status: 401, body: { detail: `Invalid token: ${TOKEN}`, authorization: `Token ${TOKEN}` } });
      const lines: string[] = [];
      const context = new InvocationContext({
        functionName: 'mcasActivityTimer',
        logHandler: (level, ...args) => lines.push(`${level}: ${format(...args)}`),
      });
      const error = await withEnv(settings(), () => mcasActivityTimer(timer(), context)).then(
        () => assert.fail('the invocation succeeded'),
        (e: unknown) => e,
      );
      for (const line of lines) collect('timer InvocationContext log', line);
      collectError('timer function', error);
      expectStatus(error, 'MCAS', 401);
      assert.ok(lines.length > 0, 'the invocation logged');
      mcasFault = undefined;
    }));

  it('saw every failure and many SDK log lines, and no form of either secret anywhere', () => {
    const all = collected.map((c) => `${c.source}\n${c.text}`).join('\n');
    const sdkLines = collected.filter((c) => c.source === 'Azure SDK log');
    assert.ok(collected.length >= 50, `only ${collected.length} entries collected`);
    assert.ok(sdkLines.length >= 10, `only ${sdkLines.length} Azure SDK log lines`);
    assert.ok(
      sdkLines.some((c) => /REDACTED/.test(c.text)),
      'the SDK logged requests with redacted headers',
    );
    for (const client of ['keyvault-secrets', 'identity', 'storage-blob']) {
      assert.ok(
        sdkLines.some((c) => c.text.startsWith(`azure:${client}:`)),
        `no log line from ${client}`,
      );
    }
    assert.ok(
      collected.some((c) => c.source === 'stderr' && /Secrets were read from app settings/.test(c.text)),
      'stderr was captured',
    );
    for (const marker of [
      /MCAS answered 401/,
      /MCAS answered 403/,
      /MCAS answered 400/,
      /MCAS answered 500/,
      /ECONNRESET/,
      /ECONNREFUSED/,
      /Log Analytics answered 403/,
      /Log Analytics answered 400/,
      /HTTP 403/,
      /was not found in Key Vault/,
      /no managed identity answered/,
      /Could not read checkpoint/,
      /Invalid settings/,
      /\[redacted\]/,
    ]) {
      assert.match(all, marker);
    }
    assert.ok(NEEDLES.length > 100, 'the needles cover every form');
    assertNoLeaks(collected, 'the whole collection');
  });
});
