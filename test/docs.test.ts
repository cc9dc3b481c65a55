// The README, the sample settings and host.json must keep up with the code: every setting the config reads, every
// column the mapping writes, and the time budget inside the function timeout.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { DEFAULTS, readConfig } from '../src/config.js';
import { LOG_RECORD_COLUMNS } from '../src/mapping/LogRecord.js';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const sample = JSON.parse(readFileSync(new URL('local.settings.sample.json', root), 'utf8')) as {
  Values: Record<string, string>;
};
const hostJson = JSON.parse(readFileSync(new URL('host.json', root), 'utf8')) as { functionTimeout: string };

/** Every env name readConfig looks at, found by running it over environments that take each branch. */
function settingsRead(): Set<string> {
  const names = new Set<string>();
  const base = {
    MCAS_PORTAL_URL: 'https://c.us2.portal.cloudappsecurity.com',
    LOG_ANALYTICS_WORKSPACE_ID: '00000000-0000-0000-0000-000000000000',
  };
  const variants: NodeJS.ProcessEnv[] = [
    {
      ...base,
      MCAS_API_TOKEN: 't',
      LOG_ANALYTICS_WORKSPACE_KEY: 'a2V5',
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
    },
    { ...base, KEY_VAULT_URL: 'https://kv.vault.azure.net' },
    { ...base, KEY_VAULT_URL: 'https://kv.vault.azure.net', CHECKPOINT_STORE: 'file:x' },
    {
      ...base,
      KEY_VAULT_URL: 'https://kv.vault.azure.net',
      MCAS_AUTH: 'entra',
      MCAS_APP_CLIENT_ID: base.LOG_ANALYTICS_WORKSPACE_ID,
      LOG_SINK: 'logsIngestion',
    },
  ];
  for (const env of variants) {
    const recorder = new Proxy(env, {
      get(target, name) {
        if (typeof name === 'string') names.add(name);
        return target[name as string];
      },
    });
    try {
      readConfig(recorder);
    } catch {
      // Some variants lack settings on purpose; only the names looked at matter here.
    }
  }
  return names;
}

describe('documentation and settings files', () => {
  const names = settingsRead();

  it('finds the settings the config reads (so the checks below cannot pass empty)', () => {
    for (const name of [
      'MCAS_PORTAL_URL',
      'KEY_VAULT_URL',
      'AzureWebJobsStorage__accountName',
      'MCAS_MAX_REQUESTS_PER_MINUTE',
    ]) {
      assert.ok(names.has(name), name);
    }
  });

  it('documents every setting in the README settings table', () => {
    for (const name of names) assert.ok(readme.includes(`\`${name}\``), `README does not mention ${name}`);
  });

  it('lists every setting in local.settings.sample.json, apart from the identity-based storage variants', () => {
    for (const name of names) {
      if (name.startsWith('AzureWebJobsStorage__')) continue;
      assert.ok(name in sample.Values, `local.settings.sample.json lacks ${name}`);
    }
  });

  it('has a sample that passes the config check as it is', () => {
    assert.doesNotThrow(() => readConfig(sample.Values));
  });

  it('describes every column of the table in the README', () => {
    for (const column of LOG_RECORD_COLUMNS)
      assert.ok(readme.includes(`| \`${column.name}\` |`), `README lacks column ${column.name}`);
  });

  it('keeps the run time budget inside host.json functionTimeout, with a margin', () => {
    const [h, m, s] = hostJson.functionTimeout.split(':').map(Number);
    const timeoutSeconds = (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
    assert.ok(
      DEFAULTS.RUN_TIME_BUDGET_SECONDS + 60 <= timeoutSeconds,
      `${DEFAULTS.RUN_TIME_BUDGET_SECONDS}s vs ${hostJson.functionTimeout}`,
    );
    assert.equal(sample.Values['RUN_TIME_BUDGET_SECONDS'], String(DEFAULTS.RUN_TIME_BUDGET_SECONDS));
  });

  it('starts the README with the two commands', () => {
    const firstBlock = readme.slice(readme.indexOf('```sh'), readme.indexOf('```', readme.indexOf('```sh') + 5));
    assert.match(firstBlock, /npm ci && npm run demo/);
    assert.match(firstBlock, /npm test/);
  });
});
