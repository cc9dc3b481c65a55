import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CLOUD_PROFILES } from '../../src/cloud.js';
import { describeProblem, parseRegistry } from '../../src/tenants/TenantRegistry.js';
import { RegistryError } from '../../src/errors.js';

const cloud = CLOUD_PROFILES.public;
const WORKSPACE = '11111111-2222-4333-8444-555555555555';
const APP = '0a0a0a0a-0000-4000-8000-00000000a0a0';
const CUSTOMER = '0b0b0b0b-0000-4000-8000-00000000b0b0';

function token(key: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    key,
    portalUrl: `https://${key}.us2.portal.cloudappsecurity.com`,
    auth: { kind: 'token', tokenSecretName: `${key}-mcas-token` },
    sink: { kind: 'dataCollector', workspaceId: WORKSPACE, keySecretName: `${key}-workspace-key` },
    ...extra,
  };
}

function parse(tenants: unknown[]) {
  return parseRegistry(JSON.stringify({ tenants }), cloud);
}

describe('parseRegistry', () => {
  it('accepts token and Entra app tenants with either sink, filters and paging, enabled by default', () => {
    const registry = parse([
      token('contoso', { filters: { service: { eq: [11161] } }, paging: { mode: 'scan', windowMinutes: 30 } }),
      {
        key: 'fabrikam',
        name: 'Fabrikam Ltd',
        enabled: false,
        portalUrl: 'https://fabrikam.eu2.portal.cloudappsecurity.com',
        auth: { kind: 'entraApp', clientId: APP, tenantId: CUSTOMER, certificateSecretName: 'mssp-app-cert' },
        sink: {
          kind: 'logsIngestion',
          endpoint: 'https://fab-dce-a1b2.westeurope-1.ingest.monitor.azure.com',
          dcrImmutableId: 'dcr-00112233445566778899aabbccddeeff',
        },
      },
    ]);
    assert.deepEqual(registry.problems, []);
    assert.deepEqual(
      registry.tenants.map((t) => [t.key, t.enabled, t.auth.kind, t.sink.kind]),
      [
        ['contoso', true, 'token', 'dataCollector'],
        ['fabrikam', false, 'entraApp', 'logsIngestion'],
      ],
    );
  });

  it('reports every problem of every bad entry by tenant key and field, and keeps the good entries', () => {
    const registry = parse([
      token('good-one'),
      token('bad-one', {
        portalUrl: 'https://bad-one.mcas.ms',
        sink: { kind: 'dataCollector', workspaceId: 'not-a-guid', keySecretName: 'key_with_underscore' },
        enabeld: true,
      }),
      token('bad-two', { auth: { kind: 'entraApp', clientId: APP, tenantId: CUSTOMER } }),
      { portalUrl: 'https://x.us2.portal.cloudappsecurity.com' },
      token('good-two'),
    ]);
    assert.deepEqual(
      registry.tenants.map((t) => t.key),
      ['good-one', 'good-two'],
    );
    const lines = registry.problems.map(describeProblem);
    for (const expected of [
      /^tenant bad-one: portalUrl: .*not a Defender for Cloud Apps API host/,
      /^tenant bad-one: sink\.workspaceId: expected the workspace id/,
      /^tenant bad-one: sink\.keySecretName: is not a Key Vault secret name/,
      /^tenant bad-one: enabeld: is not a known field/,
      /^tenant bad-two: auth\.certificateSecretName: give exactly one of certificateSecretName and clientSecretName/,
      /^tenant tenants\[3\]: key: /,
      /^tenant tenants\[3\]: auth: /,
    ]) {
      assert.ok(
        lines.some((line) => expected.test(line)),
        `${expected} in:\n${lines.join('\n')}`,
      );
    }
    assert.ok(registry.problems.every((p) => p.tenant !== 'good-one' && p.tenant !== 'good-two'));
  });

  it('disables every entry that shares a key, since which one is meant cannot be known', () => {
    const registry = parse([token('twin'), token('twin', { enabled: false }), token('solo')]);
    assert.deepEqual(
      registry.tenants.map((t) => t.key),
      ['solo'],
    );
    assert.deepEqual(registry.problems.map(describeProblem), [
      'tenant twin: key: is used by 2 entries; keys must be unique',
    ]);
  });

  it('refuses keys that are not safe as blob names, filters on created, and plain http off loopback', () => {
    const registry = parse([
      token('Upper_Case'),
      token('filters', { filters: { created: { gte: 0 } } }),
      token('plain', { portalUrl: 'http://plain.us2.portal.cloudappsecurity.com' }),
      token('loopback', { portalUrl: 'http://127.0.0.1:8080' }),
    ]);
    assert.deepEqual(
      registry.tenants.map((t) => t.key),
      ['loopback'],
    );
    const lines = registry.problems.map(describeProblem).join('\n');
    assert.match(lines, /tenant tenants\[0\]: key: expected 1-40 of a-z/);
    assert.match(lines, /tenant filters: filters: "created" is set by the connector/);
    assert.match(lines, /tenant plain: portalUrl: must use https/);
  });

  it('throws RegistryError only when the document as a whole is unusable', () => {
    assert.throws(() => parseRegistry('{"tenants": [', cloud), RegistryError);
    assert.throws(() => parseRegistry('[]', cloud), /must be a JSON object \{"tenants": \[ \.\.\. \]\}/);
    assert.deepEqual(parseRegistry('{"tenants": []}', cloud), { tenants: [], problems: [] });
  });
});
