import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CLOUD_PROFILES } from '../../src/cloud.js';
import { readConfig } from '../../src/config.js';
import { parseRegistry, type TenantEntry } from '../../src/tenants/TenantRegistry.js';
import { localSecretSetting, tenantRunSettings } from '../../src/tenants/tenantSettings.js';

const WORKSPACE = '11111111-2222-4333-8444-555555555555';

function entry(value: Record<string, unknown>): TenantEntry {
  const registry = parseRegistry(JSON.stringify({ tenants: [value] }), CLOUD_PROFILES.public);
  assert.deepEqual(registry.problems, []);
  return registry.tenants[0] as TenantEntry;
}

const contoso = entry({
  key: 'contoso',
  portalUrl: 'https://contoso.us2.portal.cloudappsecurity.com',
  auth: { kind: 'token', tokenSecretName: 'contoso-mcas-token' },
  sink: { kind: 'dataCollector', workspaceId: WORKSPACE, keySecretName: 'contoso-workspace-key' },
  filters: { service: { eq: [11161] } },
  paging: { mode: 'scan', pageSize: 2000 },
  maxRequestsPerMinute: 20,
});

/** A deployment that also has single-tenant settings and another tenant's local secrets. */
const deployment = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  RUN_TIME_BUDGET_SECONDS: '300',
  MCAS_PORTAL_URL: 'https://own.us2.portal.cloudappsecurity.com',
  MCAS_API_TOKEN: 'the-deployments-own-token',
  LOG_ANALYTICS_WORKSPACE_KEY: Buffer.from('the deployments own key').toString('base64'),
  MCAS_ACTIVITY_FILTERS: '{"ip.address":{"eq":["10.0.0.1"]}}',
  [localSecretSetting('contoso-mcas-token')]: 'contoso-token',
  [localSecretSetting('contoso-workspace-key')]: Buffer.from('contoso key').toString('base64'),
  [localSecretSetting('fabrikam-mcas-token')]: 'fabrikam-token',
};

describe('tenantRunSettings', () => {
  it("gives a tenant its own settings and none of the deployment's tenant settings or other tenants' secrets", () => {
    const { env, checkpointName, missing } = tenantRunSettings(contoso, deployment);
    assert.deepEqual(missing, []);
    assert.equal(checkpointName, 'tenant-contoso');
    assert.equal(env['MCAS_PORTAL_URL'], 'https://contoso.us2.portal.cloudappsecurity.com');
    assert.equal(env['MCAS_API_TOKEN'], 'contoso-token');
    assert.equal(env['LOG_ANALYTICS_WORKSPACE_KEY'], Buffer.from('contoso key').toString('base64'));
    assert.equal(env['MCAS_ACTIVITY_FILTERS'], '{"service":{"eq":[11161]}}');
    assert.equal(env['RUN_TIME_BUDGET_SECONDS'], '300');
    assert.ok(Object.keys(env).every((name) => !name.startsWith('TENANT_SECRET_')));
    assert.doesNotMatch(JSON.stringify(env), /fabrikam|the-deployments-own-token/);
    const config = readConfig(env);
    assert.equal(config.mcas.paging, 'scan');
    assert.equal(config.mcas.scanPageSize, 2000);
    assert.equal(config.mcas.maxRequestsPerMinute, 20);
    assert.equal(config.logAnalytics.workspaceId, WORKSPACE);
  });

  it('names the Key Vault secrets when the deployment has a vault, and holds no secret value', () => {
    const { env } = tenantRunSettings(contoso, { ...deployment, KEY_VAULT_URL: 'https://mssp-kv.vault.azure.net' });
    assert.equal(env['MCAS_TOKEN_SECRET_NAME'], 'contoso-mcas-token');
    assert.equal(env['WORKSPACE_KEY_SECRET_NAME'], 'contoso-workspace-key');
    assert.equal(env['MCAS_API_TOKEN'], undefined);
    assert.equal(env['LOG_ANALYTICS_WORKSPACE_KEY'], undefined);
    const config = readConfig(env);
    assert.deepEqual(config.secrets, {
      kind: 'keyVault',
      vaultUrl: 'https://mssp-kv.vault.azure.net',
      mcasTokenName: 'contoso-mcas-token',
      workspaceKeyName: 'contoso-workspace-key',
    });
  });

  it('lists, by registry field, the local secret settings a run without a vault lacks', () => {
    const { missing } = tenantRunSettings(contoso, { AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    assert.deepEqual(missing, [
      { field: 'auth.tokenSecretName', setting: 'TENANT_SECRET_CONTOSO_MCAS_TOKEN' },
      { field: 'sink.keySecretName', setting: 'TENANT_SECRET_CONTOSO_WORKSPACE_KEY' },
    ]);
  });

  it("signs an Entra app tenant in to the customer's tenant, for MCAS and for its DCR", () => {
    const fabrikam = entry({
      key: 'fabrikam',
      portalUrl: 'https://fabrikam.eu2.portal.cloudappsecurity.com',
      auth: {
        kind: 'entraApp',
        clientId: '0a0a0a0a-0000-4000-8000-00000000a0a0',
        tenantId: '0b0b0b0b-0000-4000-8000-00000000b0b0',
        certificateSecretName: 'mssp-app-cert',
      },
      sink: {
        kind: 'logsIngestion',
        endpoint: 'https://fab-dce.westeurope-1.ingest.monitor.azure.com',
        dcrImmutableId: 'dcr-00112233445566778899aabbccddeeff',
      },
    });
    const { env, app } = tenantRunSettings(fabrikam, {
      ...deployment,
      KEY_VAULT_URL: 'https://mssp-kv.vault.azure.net',
    });
    assert.deepEqual(app, {
      kind: 'clientCertificate',
      clientId: '0a0a0a0a-0000-4000-8000-00000000a0a0',
      tenantId: '0b0b0b0b-0000-4000-8000-00000000b0b0',
      secretName: 'mssp-app-cert',
    });
    const config = readConfig(env);
    assert.equal(config.mcas.auth.kind, 'entra');
    assert.deepEqual(config.sink, {
      kind: 'logsIngestion',
      endpoint: 'https://fab-dce.westeurope-1.ingest.monitor.azure.com',
      dcrImmutableId: 'dcr-00112233445566778899aabbccddeeff',
      streamName: 'Custom-MCAS_Activity_Log_CL',
    });
  });
});
