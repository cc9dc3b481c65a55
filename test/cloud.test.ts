// Tests for the AZURE_CLOUD profiles: every host, suffix and scope per cloud, and which MCAS hosts each one accepts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AzureAuthorityHosts } from '@azure/identity';
import { KnownMonitorAudience } from '@azure/monitor-ingestion';

import {
  blobServiceUrl,
  CLOUD_PROFILES,
  cloudProfile,
  dataCollectorEndpoint,
  describeMcasHostProblem,
  hasHostSuffix,
  isDataCollectorHost,
  isKeyVaultHost,
  isLogsIngestionHost,
  MCAS_RESOURCE_APP_ID,
} from '../src/cloud.js';

const WORKSPACE = '0B2D3C4E-5F60-4718-9A2B-3C4D5E6F7A8B';

describe('cloud profiles', () => {
  it('derive every endpoint of the public cloud', () => {
    const p = CLOUD_PROFILES.public;
    assert.equal(
      dataCollectorEndpoint(p, WORKSPACE),
      'https://0b2d3c4e-5f60-4718-9a2b-3c4d5e6f7a8b.ods.opinsights.azure.com',
    );
    assert.equal(p.keyVaultSuffix, 'vault.azure.net');
    assert.equal(blobServiceUrl(p, 'mcasconnector'), 'https://mcasconnector.blob.core.windows.net');
    assert.equal(p.logsIngestionSuffix, 'ingest.monitor.azure.com');
    assert.equal(p.monitorScope, 'https://monitor.azure.com/.default');
    assert.equal(p.authorityHost, 'https://login.microsoftonline.com');
    assert.deepEqual(p.mcas.entraHostSuffixes, ['portal.cloudappsecurity.com', 'portal.cloudappsecuritygov.com']);
  });

  it('derive every endpoint of Azure Government', () => {
    const p = CLOUD_PROFILES.usgov;
    assert.equal(
      dataCollectorEndpoint(p, WORKSPACE),
      'https://0b2d3c4e-5f60-4718-9a2b-3c4d5e6f7a8b.ods.opinsights.azure.us',
    );
    assert.equal(p.keyVaultSuffix, 'vault.usgovcloudapi.net');
    assert.equal(blobServiceUrl(p, 'mcasconnector'), 'https://mcasconnector.blob.core.usgovcloudapi.net');
    assert.equal(p.logsIngestionSuffix, 'ingest.monitor.azure.us');
    assert.equal(p.monitorScope, 'https://monitor.azure.us/.default');
    assert.equal(p.authorityHost, 'https://login.microsoftonline.us');
    assert.deepEqual(p.mcas.entraHostSuffixes, ['portal.cloudappsecurity.us']);
  });

  it('derive every endpoint of Azure operated by 21Vianet, and offer no MCAS host there', () => {
    const p = CLOUD_PROFILES.china;
    assert.equal(
      dataCollectorEndpoint(p, WORKSPACE),
      'https://0b2d3c4e-5f60-4718-9a2b-3c4d5e6f7a8b.ods.opinsights.azure.cn',
    );
    assert.equal(p.keyVaultSuffix, 'vault.azure.cn');
    assert.equal(blobServiceUrl(p, 'mcasconnector'), 'https://mcasconnector.blob.core.chinacloudapi.cn');
    assert.equal(p.logsIngestionSuffix, 'ingest.monitor.azure.cn');
    assert.equal(p.monitorScope, 'https://monitor.azure.cn/.default');
    assert.equal(p.authorityHost, 'https://login.chinacloudapi.cn');
    assert.deepEqual(p.mcas.entraHostSuffixes, []);
  });

  it("match the SDKs' own constants for authority hosts and monitor audiences", () => {
    const sdk = {
      public: [AzureAuthorityHosts.AzurePublicCloud, KnownMonitorAudience.AzurePublicCloud],
      usgov: [AzureAuthorityHosts.AzureGovernment, KnownMonitorAudience.AzureGovernment],
      china: [AzureAuthorityHosts.AzureChina, KnownMonitorAudience.AzureChina],
    } as const;
    for (const [name, [authority, audience]] of Object.entries(sdk)) {
      const p = CLOUD_PROFILES[name as keyof typeof sdk];
      assert.equal(p.authorityHost, authority, name);
      assert.equal(p.monitorAudience, audience, name);
      // LogsIngestionClient asks for `${audience}/.default`: one slash.
      assert.equal(p.monitorScope, `${audience}/.default`, name);
    }
  });

  it('use the same Defender for Cloud Apps resource in every cloud', () => {
    for (const p of Object.values(CLOUD_PROFILES)) assert.equal(p.mcas.scope, `${MCAS_RESOURCE_APP_ID}/.default`);
  });

  it('are frozen', () => {
    assert.ok(
      Object.isFrozen(CLOUD_PROFILES) &&
        Object.isFrozen(CLOUD_PROFILES.usgov) &&
        Object.isFrozen(CLOUD_PROFILES.usgov.mcas),
    );
    assert.throws(() => {
      (CLOUD_PROFILES.public.mcas.entraHostSuffixes as string[]).push('evil.example');
    }, TypeError);
  });

  it('are picked by AZURE_CLOUD, public when unset, unknown names refused', () => {
    assert.equal(cloudProfile(undefined), CLOUD_PROFILES.public);
    assert.equal(cloudProfile(' USGov '), CLOUD_PROFILES.usgov);
    assert.equal(cloudProfile('china'), CLOUD_PROFILES.china);
    assert.equal(cloudProfile('AzureUSGovernment'), undefined);
  });
});

describe('host checks', () => {
  it('accept a host only with at least one label before the suffix', () => {
    assert.ok(hasHostSuffix('contoso.us2.portal.cloudappsecurity.com', 'portal.cloudappsecurity.com'));
    assert.ok(!hasHostSuffix('portal.cloudappsecurity.com', 'portal.cloudappsecurity.com'));
    assert.ok(!hasHostSuffix('evilportal.cloudappsecurity.com', 'portal.cloudappsecurity.com'));
    assert.ok(!hasHostSuffix('contoso.portal.cloudappsecurity.com.evil.example', 'portal.cloudappsecurity.com'));
  });

  it('tell the hosts of each cloud apart', () => {
    assert.ok(isKeyVaultHost(CLOUD_PROFILES.usgov, 'myvault.vault.usgovcloudapi.net'));
    assert.ok(!isKeyVaultHost(CLOUD_PROFILES.public, 'myvault.vault.usgovcloudapi.net'));
    assert.ok(!isKeyVaultHost(CLOUD_PROFILES.public, 'a.b.vault.azure.net'));
    assert.ok(isDataCollectorHost(CLOUD_PROFILES.china, `${WORKSPACE}.ods.opinsights.azure.cn`));
    assert.ok(!isDataCollectorHost(CLOUD_PROFILES.public, `${WORKSPACE}.ods.opinsights.azure.cn`));
    assert.ok(isLogsIngestionHost(CLOUD_PROFILES.public, 'mcas-dce-ab12.westeurope-1.ingest.monitor.azure.com'));
    assert.ok(!isLogsIngestionHost(CLOUD_PROFILES.usgov, 'mcas-dce-ab12.westeurope-1.ingest.monitor.azure.com'));
  });
});

describe('describeMcasHostProblem', () => {
  const commercial = 'contoso.us2.portal.cloudappsecurity.com';
  const gcc = 'contoso.us3.portal.cloudappsecuritygov.com';
  const gccHigh = 'contoso.us1.portal.cloudappsecurity.us';

  it('accepts any Defender for Cloud Apps host with a legacy token, in public and usgov', () => {
    for (const host of [commercial, gcc, gccHigh]) {
      assert.equal(describeMcasHostProblem(CLOUD_PROFILES.public, host, 'token'), undefined, host);
      assert.equal(describeMcasHostProblem(CLOUD_PROFILES.usgov, host, 'token'), undefined, host);
    }
  });

  it('accepts with Entra only the hosts whose tenants sign in with that cloud, and says which cloud to use', () => {
    assert.equal(describeMcasHostProblem(CLOUD_PROFILES.public, commercial, 'entra'), undefined);
    assert.equal(describeMcasHostProblem(CLOUD_PROFILES.public, gcc, 'entra'), undefined);
    assert.equal(describeMcasHostProblem(CLOUD_PROFILES.usgov, gccHigh, 'entra'), undefined);
    assert.match(
      describeMcasHostProblem(CLOUD_PROFILES.public, gccHigh, 'entra') ?? '',
      /set AZURE_CLOUD=usgov.*or use MCAS_AUTH=token/,
    );
    assert.match(describeMcasHostProblem(CLOUD_PROFILES.usgov, gcc, 'entra') ?? '', /set AZURE_CLOUD=public/);
  });

  it('refuses hosts that are not Defender for Cloud Apps APIs', () => {
    assert.match(
      describeMcasHostProblem(CLOUD_PROFILES.public, 'contoso.eu2.mcas.ms', 'token') ?? '',
      /not a Defender for Cloud Apps API host/,
    );
    assert.match(
      describeMcasHostProblem(CLOUD_PROFILES.public, 'example.com', 'token') ?? '',
      /not a Defender for Cloud Apps API host/,
    );
  });

  it('refuses every MCAS host in AZURE_CLOUD=china, saying the service is not offered there', () => {
    for (const auth of ['token', 'entra'] as const) {
      assert.match(
        describeMcasHostProblem(CLOUD_PROFILES.china, commercial, auth) ?? '',
        /not offered in Azure operated by 21Vianet/,
      );
    }
  });
});
