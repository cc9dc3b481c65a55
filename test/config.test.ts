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
    const { MCAS_API_TOKEN: _t, LOG_ANALYTICS_WORKSPACE_KEY: _k, ...rest } = LOCAL;
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
    const config = readConfig({ ...LOCAL, MCAS_PORTAL_URL: 'http://127.0.0.1:8080', LOG_ANALYTICS_ENDPOINT: 'http://localhost:9090' });
    assert.equal(config.mcas.portalUrl, 'http://127.0.0.1:8080');
    assert.equal(config.logAnalytics.endpoint, 'http://localhost:9090');
    assert.match(problems({ ...LOCAL, LOG_ANALYTICS_ENDPOINT: 'http://10.0.0.5' }).join(), /LOG_ANALYTICS_ENDPOINT: must use https/);
  });

  it('rejects the session proxy host and hosts that are not the MCAS API', () => {
    assert.match(problems({ ...LOCAL, MCAS_PORTAL_URL: 'https://contoso.us2.mcas.ms' }).join(), /session proxy/);
    assert.match(problems({ ...LOCAL, MCAS_PORTAL_URL: 'https://example.com' }).join(), /is not https:\/\/<tenant>/);
    assert.match(problems({ ...LOCAL, MCAS_PORTAL_URL: 'https://contoso.us2.portal.cloudappsecurity.com/api/v1?x=1' }).join(), /origin only/);
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
    assert.match(problems({ ...LOCAL, MCAS_ACTIVITY_FILTERS: '{"service":{"equals":[1]}}' }).join(), /unknown operator/);
    assert.match(problems({ ...LOCAL, MCAS_ACTIVITY_FILTERS: '{"created":{"gte":0}}' }).join(), /set by the connector/);
  });

  it('requires the local secrets only when there is no Key Vault, and never echoes them', () => {
    const found = problems({ ...LOCAL, MCAS_API_TOKEN: '  ', LOG_ANALYTICS_WORKSPACE_KEY: 'abc def' }).join('\n');
    assert.match(found, /MCAS_API_TOKEN: required/);
    assert.match(found, /LOG_ANALYTICS_WORKSPACE_KEY: is not base64/);
    assert.doesNotMatch(found, /abc def/);
  });

  it('reads a file checkpoint store and an identity-based blob store', () => {
    assert.deepEqual(readConfig({ ...LOCAL, CHECKPOINT_STORE: 'file:.checkpoints' }).checkpoint, { kind: 'file', path: '.checkpoints' });
    const { AzureWebJobsStorage: _s, ...rest } = LOCAL;
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
    assert.equal(config.secrets.mcasToken.reveal(), TOKEN);
    assert.doesNotMatch(JSON.stringify(config), new RegExp(TOKEN));
    assert.doesNotMatch(`${config.secrets.workspaceKey}`, new RegExp(KEY));
  });
});
