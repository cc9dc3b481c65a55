import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const TOKEN = 'fake-mcas-token-0123456789abcdef';
const KEY = Buffer.from('fake-workspace-key').toString('base64');

const LOCAL: NodeJS.ProcessEnv = {
  MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com',
  LOG_ANALYTICS_WORKSPACE_ID: '11111111-2222-4333-8444-555555555555',
  MCAS_API_TOKEN: TOKEN,
  LOG_ANALYTICS_WORKSPACE_KEY: KEY,
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

/** `env` without the named settings, as if they had never been set. */
function without(env: NodeJS.ProcessEnv, ...names: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.includes(name)));
}

function problems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    readConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('readConfig accepted the settings');
}

describe('readConfig', () => {
  it('applies the documented defaults', () => {
    const config = readConfig(LOCAL);
    assert.equal(config.mcas.portalUrl, 'https://contoso.us2.portal.cloudappsecurity.com');
    assert.equal(config.mcas.pageSize, 100);
    assert.equal(config.logAnalytics.endpoint, 'https://11111111-2222-4333-8444-555555555555.ods.opinsights.azure.com');
    assert.equal(config.logAnalytics.logType, 'MCAS_Activity_Log');
    assert.equal(config.schedule, '0 */5 * * * *');
    assert.equal(config.run.initialLookbackMs, 1440 * 60_000);
    assert.equal(config.run.settleMs, 120_000);
    assert.deepEqual(config.checkpoint.kind, 'blob');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.mcas));
  });

  it('reads secrets from Key Vault when KEY_VAULT_URL is set and needs no secret values then', () => {
    const rest = without(LOCAL, 'MCAS_API_TOKEN', 'LOG_ANALYTICS_WORKSPACE_KEY');
    const config = readConfig({ ...rest, KEY_VAULT_URL: 'https://kv-mcas.vault.azure.net/' });
    assert.deepEqual(config.secrets, {
      kind: 'keyVault',
      vaultUrl: 'https://kv-mcas.vault.azure.net',
      mcasTokenName: 'mcas-api-token',
      workspaceKeyName: 'log-analytics-workspace-key',
    });
  });

  it('reports every bad setting at once, by name', () => {
    const found = problems({
      MCAS_PORTAL_URL: 'http://contoso.portal.cloudappsecurity.com',
      LOG_ANALYTICS_WORKSPACE_ID: 'not-a-guid',
      MCAS_API_TOKEN: TOKEN,
      LOG_ANALYTICS_WORKSPACE_KEY: 'not base64!',
      INITIAL_LOOKBACK_MINUTES: 'ten',
      CHECKPOINT_STORE: 'sql',
      LOG_TYPE: 'MCAS Activity',
    });
    const names = found.map((p) => p.split(':')[0]);
    assert.deepEqual(names.sort(), [
      'CHECKPOINT_STORE',
      'INITIAL_LOOKBACK_MINUTES',
      'LOG_ANALYTICS_WORKSPACE_ID',
      'LOG_ANALYTICS_WORKSPACE_KEY',
      'LOG_TYPE',
      'MCAS_PORTAL_URL',
    ]);
  });

  it('allows plain http only for loopback hosts', () => {
    const config = readConfig({
      ...LOCAL,
      MCAS_PORTAL_URL: 'http://127.0.0.1:8080',
      LOG_ANALYTICS_ENDPOINT: 'http://localhost:9090',
    });
    assert.equal(config.mcas.portalUrl, 'http://127.0.0.1:8080');
    assert.equal(config.logAnalytics.endpoint, 'http://localhost:9090');
    assert.match(
      problems({ ...LOCAL, LOG_ANALYTICS_ENDPOINT: 'http://10.0.0.5' }).join(),
      /LOG_ANALYTICS_ENDPOINT: must use https/,
    );
  });

  it('rejects the session proxy host and hosts that are not the MCAS API', () => {
    assert.match(problems({ ...LOCAL, MCAS_PORTAL_URL: 'https://contoso.us2.mcas.ms' }).join(), /session proxy/);
    assert.match(
      problems({ ...LOCAL, MCAS_PORTAL_URL: 'https://example.com' }).join(),
      /example.com is not a Defender for Cloud Apps API host/,
    );
    assert.match(
      problems({ ...LOCAL, MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com/api/v1?x=1' }).join(),
      /origin only/,
    );
  });

  it('accepts US Government hosts', () => {
    for (const host of ['contoso.us1.portal.cloudappsecurity.us', 'contoso.us1.portal.cloudappsecuritygov.com']) {
      assert.equal(readConfig({ ...LOCAL, MCAS_PORTAL_URL: `https://${host}` }).mcas.portalUrl, `https://${host}`);
    }
  });

  it('checks MCAS_ACTIVITY_FILTERS as JSON operators and keeps "created" for the checkpoint', () => {
    const filters = '{"activity.eventType":{"eq":["EVENT_CATEGORY_ACCEPT_SHARE_FILE"]}}';
    assert.deepEqual(readConfig({ ...LOCAL, MCAS_ACTIVITY_FILTERS: filters }).mcas.extraFilters, JSON.parse(filters));
    assert.match(problems({ ...LOCAL, MCAS_ACTIVITY_FILTERS: '{"service":' }).join(), /invalid JSON/);
    assert.match(problems({ ...LOCAL, MCAS_ACTIVITY_FILTERS: '[1]' }).join(), /JSON object/);
    assert.match(
      problems({ ...LOCAL, MCAS_ACTIVITY_FILTERS: '{"service":{"equals":[1]}}' }).join(),
      /unknown operator/,
    );
    assert.match(problems({ ...LOCAL, MCAS_ACTIVITY_FILTERS: '{"created":{"gte":0}}' }).join(), /set by the connector/);
  });

  it('requires the local secrets only when there is no Key Vault, and never echoes them', () => {
    const found = problems({ ...LOCAL, MCAS_API_TOKEN: '  ', LOG_ANALYTICS_WORKSPACE_KEY: 'abc def' }).join('\n');
    assert.match(found, /MCAS_API_TOKEN: required/);
    assert.match(found, /LOG_ANALYTICS_WORKSPACE_KEY: is not base64/);
    assert.doesNotMatch(found, /abc def/);
  });

  it('reads a file checkpoint store and an identity-based blob store', () => {
    assert.deepEqual(readConfig({ ...LOCAL, CHECKPOINT_STORE: 'file:.checkpoints' }).checkpoint, {
      kind: 'file',
      path: '.checkpoints',
    });
    const rest = without(LOCAL, 'AzureWebJobsStorage');
    assert.deepEqual(readConfig({ ...rest, AzureWebJobsStorage__accountName: 'stmcas01' }).checkpoint, {
      kind: 'blob',
      serviceUrl: 'https://stmcas01.blob.core.windows.net',
      container: 'mcas-connector',
    });
    assert.match(problems(rest).join(), /AzureWebJobsStorage: required/);
  });

  it('keeps secrets wrapped so they cannot be logged by accident', () => {
    const config = readConfig(LOCAL);
    assert.ok(config.secrets.kind === 'environment');
    assert.equal(config.secrets.mcasToken?.reveal(), TOKEN);
    assert.doesNotMatch(JSON.stringify(config), new RegExp(TOKEN));
    const workspaceKey = config.secrets.workspaceKey;
    assert.ok(workspaceKey);
    assert.doesNotMatch(String(workspaceKey), new RegExp(KEY));
  });

  it('needs no workspace id or key for the Logs Ingestion sink, but its endpoint (https only) and DCR id', () => {
    const rest = without(LOCAL, 'LOG_ANALYTICS_WORKSPACE_ID', 'LOG_ANALYTICS_WORKSPACE_KEY');
    const sink = {
      LOG_SINK: 'logsIngestion',
      LOGS_INGESTION_ENDPOINT: 'https://mcas-dce-a1b2.westeurope-1.ingest.monitor.azure.com',
      LOGS_INGESTION_DCR_ID: 'dcr-0123456789abcdef0123456789abcdef',
    };
    const config = readConfig({ ...rest, ...sink });
    assert.deepEqual(config.sink, {
      kind: 'logsIngestion',
      endpoint: sink.LOGS_INGESTION_ENDPOINT,
      dcrImmutableId: sink.LOGS_INGESTION_DCR_ID,
      streamName: 'Custom-MCAS_Activity_Log_CL',
    });
    assert.ok(config.secrets.kind === 'environment' && config.secrets.workspaceKey === undefined);
    const found = problems({
      ...rest,
      LOG_SINK: 'logsIngestion',
      LOGS_INGESTION_ENDPOINT: 'http://127.0.0.1:1',
      LOGS_INGESTION_DCR_ID: 'dcr-1',
    }).join('\n');
    assert.match(found, /LOGS_INGESTION_ENDPOINT: must use https/);
    assert.match(found, /LOGS_INGESTION_DCR_ID: required/);
    assert.match(
      problems({ ...LOCAL, LOG_SINK: 'eventHub' }).join(),
      /LOG_SINK: expected "dataCollector" or "logsIngestion"/,
    );
  });

  it('needs no MCAS API token with MCAS_AUTH=entra; an app registration needs its tenant and a vault', () => {
    const rest = without(LOCAL, 'MCAS_API_TOKEN');
    const managed = readConfig({ ...rest, MCAS_AUTH: 'entra' });
    assert.deepEqual(managed.mcas.auth, { kind: 'entra', credential: { kind: 'managedIdentity' } });
    assert.ok(managed.secrets.kind === 'environment' && managed.secrets.mcasToken === undefined);
    const app = { MCAS_AUTH: 'entra', MCAS_APP_CLIENT_ID: '22222222-3333-4444-8555-666666666666' };
    const found = problems({ ...rest, ...app }).join('\n');
    assert.match(found, /MCAS_APP_TENANT_ID: required/);
    assert.match(found, /KEY_VAULT_URL is required/);
    const withVault = readConfig({
      ...rest,
      ...app,
      MCAS_APP_TENANT_ID: '33333333-4444-4555-8666-777777777777',
      MCAS_APP_CREDENTIAL: 'certificate',
      KEY_VAULT_URL: 'https://kv.vault.azure.net',
    });
    assert.deepEqual(withVault.mcas.auth, {
      kind: 'entra',
      credential: {
        kind: 'clientCertificate',
        tenantId: '33333333-4444-4555-8666-777777777777',
        clientId: app.MCAS_APP_CLIENT_ID,
        secretName: 'mcas-app-certificate',
      },
    });
  });

  it('derives every Azure host from AZURE_CLOUD', () => {
    const gov = readConfig({
      ...LOCAL,
      AZURE_CLOUD: 'usgov',
      MCAS_PORTAL_URL: 'https://contoso.us1.portal.cloudappsecurity.us',
      KEY_VAULT_URL: 'https://kv-mcas.vault.usgovcloudapi.net',
      AzureWebJobsStorage: '',
      AzureWebJobsStorage__accountName: 'stmcas01',
    });
    assert.equal(gov.logAnalytics.endpoint, 'https://11111111-2222-4333-8444-555555555555.ods.opinsights.azure.us');
    assert.deepEqual(gov.checkpoint, {
      kind: 'blob',
      serviceUrl: 'https://stmcas01.blob.core.usgovcloudapi.net',
      container: 'mcas-connector',
    });
    assert.match(
      problems({ ...LOCAL, AZURE_CLOUD: 'usgov', KEY_VAULT_URL: 'https://kv.vault.azure.net' }).join(),
      /KEY_VAULT_URL: host "kv.vault.azure.net" is not a vault in AZURE_CLOUD=usgov/,
    );
    assert.match(problems({ ...LOCAL, AZURE_CLOUD: 'china' }).join(), /MCAS_PORTAL_URL: .*21Vianet/);
    assert.match(problems({ ...LOCAL, AZURE_CLOUD: 'mars' }).join(), /AZURE_CLOUD: expected public, usgov, china/);
  });

  it('never echoes a long value, such as a secret pasted into the wrong setting', () => {
    const secretish = 'k'.repeat(60);
    const found = problems({
      ...LOCAL,
      LOG_ANALYTICS_WORKSPACE_ID: secretish,
      AZURE_CLIENT_ID: secretish,
      LOG_TYPE: secretish,
    }).join('\n');
    assert.doesNotMatch(found, new RegExp(secretish));
    assert.match(found, /a 60-character value \(not shown\)/);
  });

  it('checks each NCRONTAB field of the schedule', () => {
    assert.equal(readConfig({ ...LOCAL, MCAS_TIMER_SCHEDULE: '0 */5 * * * *' }).schedule, '0 */5 * * * *');
    assert.match(problems({ ...LOCAL, MCAS_TIMER_SCHEDULE: '0 0/5 * * * ?' }).join(), /MCAS_TIMER_SCHEDULE/);
  });
});

describe('stream destinations', () => {
  const base = {
    MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com',
    MCAS_API_TOKEN: 'fake-token',
    CHECKPOINT_STORE: 'file:x',
  };

  it('sends activities where LOG_TYPE says and alerts to their own table, resolved once by resource', () => {
    const config = readConfig({
      ...base,
      LOG_ANALYTICS_WORKSPACE_ID: '5e4c0000-fa6e-4000-8000-00000000cafe',
      LOG_ANALYTICS_WORKSPACE_KEY: Buffer.from('fake key').toString('base64'),
      LOG_TYPE: 'Other_Table',
    });
    assert.equal(config.destinations.activities.logType, 'Other_Table');
    assert.equal(config.destinations.alerts.logType, 'MCAS_Alert_Log');
  });

  it('sends activities to the DCR stream LOGS_INGESTION_STREAM names', () => {
    const config = readConfig({
      ...base,
      LOG_SINK: 'logsIngestion',
      LOGS_INGESTION_ENDPOINT: 'https://dce-1.westeurope-1.ingest.monitor.azure.com',
      LOGS_INGESTION_DCR_ID: `dcr-${'0'.repeat(32)}`,
      LOGS_INGESTION_STREAM: 'Custom-Other_Table_CL',
    });
    assert.equal(config.destinations.activities.streamName, 'Custom-Other_Table_CL');
    assert.equal(config.destinations.alerts.streamName, 'Custom-MCAS_Alert_Log_CL');
  });
});
