// The fully identity-based set-up, end to end through the CLI in a child process, as in Azure: MCAS_AUTH=entra (a
// Bearer token of the managed identity), LOG_SINK=logsIngestion (the identity again, through a DCR), no MCAS token
// and no workspace key anywhere. Every server is a loopback emulator; the identity is the App Service endpoint.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { generateActivities } from '../emulators/activityGenerator.js';
import { startLogsIngestionEmulator } from '../emulators/logsIngestionEmulator.js';
import { startManagedIdentityEmulator } from '../emulators/managedIdentityEmulator.js';
import { startMcasEmulator } from '../emulators/mcasEmulator.js';
import { loadTestTls } from '../emulators/testTls.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const TOKEN = 'fake-entra-access-token-for-every-resource';
const DCR = 'dcr-00112233445566778899aabbccddeeff';

describe('an identity-only deployment (MCAS_AUTH=entra, LOG_SINK=logsIngestion)', () => {
  it('copies every activity with no API token and no workspace key', async (t) => {
    const activities = generateActivities({
      count: 260,
      startCreatedMs: Date.now() - 3600_000,
      seed: 51,
      spanMs: 1_800_000,
    });
    const mcas = await startMcasEmulator({ activities, token: 'unused-legacy-token', bearerToken: TOKEN });
    const ingestion = await startLogsIngestionEmulator({
      expectedToken: TOKEN,
      rules: { [DCR]: ['Custom-MCAS_Activity_Log_CL'] },
    });
    const identity = await startManagedIdentityEmulator({ token: TOKEN });
    const dir = await mkdtemp(join(tmpdir(), 'secretless-'));
    t.after(async () => {
      await Promise.all([mcas.close(), ingestion.close(), identity.close()]);
      await rm(dir, { recursive: true, force: true });
    });
    const env = {
      PATH: '',
      ...identity.env,
      NODE_EXTRA_CA_CERTS: loadTestTls().certPath,
      MCAS_PORTAL_URL: mcas.url,
      MCAS_AUTH: 'entra',
      LOG_SINK: 'logsIngestion',
      LOGS_INGESTION_ENDPOINT: ingestion.endpoint,
      LOGS_INGESTION_DCR_ID: DCR,
      CHECKPOINT_STORE: `file:${dir}`,
      CREATED_SETTLE_SECONDS: '0',
      MCAS_MAX_REQUESTS_PER_MINUTE: '100000',
    };
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [CLI, 'run'], { env, timeout: 30_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { sent?: unknown };
    assert.equal(summary.sent, 260);
    assert.deepEqual(new Set(ingestion.rows.map((r) => r['ActivityId'])), new Set(activities.map((a) => a['_id'])));
    assert.ok(ingestion.rows.every((r) => r['TimeGenerated'] === r['ActivityTime']));
    assert.ok(mcas.requests.every((r) => r.headers['authorization'] === `Bearer ${TOKEN}`));
    const resources = new Set(identity.requests.map((r) => r.resource));
    assert.deepEqual([...resources].sort(), ['05a65629-4c1b-48c1-a78b-804c4abdd4af', 'https://monitor.azure.com']);
    assert.doesNotMatch(result.stderr, /Secrets were read from app settings/);
  });
});
