// The templates against Azure's own resource type definitions (test/fixtures/azure-types/, from Azure/bicep-types-az):
// what the tree-sitter syntax check cannot see, a property name, value or read that Azure would refuse, fails here.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { typesUsedUnder } from '../../scripts/copyAzureTypes.js';
import { AZURE_TYPES_DIR, AzureTypes, checkTemplates, typeAndVersion } from './azureTypes.js';
import { type BicepFile, declarations, parseBicep, parseBicepFilesUnder, REPO_ROOT } from './bicepTree.js';

/**
 * Types pinned to a version other than the newest stable one in the definitions, and why. Each must still be the
 * version the templates use, so that an entry cannot outlive its reason unnoticed.
 */
const PINNED: Readonly<Record<string, { version: string; why: string }>> = {
  'microsoft.insights/diagnosticsettings': {
    version: '2021-05-01-preview',
    why: 'the only stable version, 2016-09-01, requires the name "service" and a location, and cannot pick the table',
  },
};

/** A typo seeded into one template, and what the check must say about it. */
interface Seed {
  label: string;
  file: string;
  from: string;
  to: string;
  expected: RegExp;
}

const SEEDS: readonly Seed[] = [
  {
    label: 'a misspelt property (minTlsVerison)',
    file: 'infra/modules/functionApp.bicep',
    from: "minTlsVersion: '1.2'",
    to: "minTlsVerison: '1.2'",
    expected: /siteConfig\.minTlsVerison: SiteConfig has no property minTlsVerison/,
  },
  {
    label: 'a misspelt property (defaultActoin)',
    file: 'infra/modules/storage.bicep',
    from: "defaultAction: 'Allow'",
    to: "defaultActoin: 'Allow'",
    expected: /networkAcls\.defaultActoin: NetworkRuleSet has no property defaultActoin/,
  },
  {
    label: 'a property in the wrong case (instanceMemoryMb)',
    file: 'infra/modules/functionApp.bicep',
    from: 'instanceMemoryMB: instanceMemoryMB',
    to: 'instanceMemoryMb: instanceMemoryMB',
    expected: /scaleAndConcurrency\.instanceMemoryMb: spelled instanceMemoryMB/,
  },
  {
    label: 'a misspelt property read (primaryEndpoints.blbo)',
    file: 'infra/modules/functionApp.bicep',
    from: 'primaryEndpoints.blob\n',
    to: 'primaryEndpoints.blbo\n',
    expected: /storage\.properties\.primaryEndpoints\.blbo: Endpoints has no property blbo/,
  },
  {
    label: "a value outside a closed enum (sku family 'B')",
    file: 'infra/modules/keyVault.bicep',
    from: "family: 'A'",
    to: "family: 'B'",
    expected: /sku\.family: "B" is not 'A'/,
  },
  {
    label: "a near miss of a known value ('ServicePrinciple')",
    file: 'infra/modules/roleAssignments.bicep',
    from: "principalType: 'ServicePrincipal'\n  }\n}\n\n// On the account, not a container",
    to: "principalType: 'ServicePrinciple'\n  }\n}\n\n// On the account, not a container",
    expected: /principalType: "ServicePrinciple" is not/,
  },
  {
    label: 'a read-only property written (provisioningState)',
    file: 'infra/modules/storage.bicep',
    from: "accessTier: 'Hot'",
    to: "accessTier: 'Hot'\n    provisioningState: 'Succeeded'",
    expected: /properties\.provisioningState: read-only/,
  },
  {
    label: 'a required property left out (sku)',
    file: 'infra/modules/storage.bicep',
    from: "  sku: {\n    name: 'Standard_LRS'\n  }\n",
    to: '',
    expected: /resource storage: required property sku of Microsoft\.Storage\/storageAccounts is missing/,
  },
  {
    label: 'a string where an integer belongs (maximumInstanceCount)',
    file: 'infra/modules/functionApp.bicep',
    from: 'maximumInstanceCount: 40',
    to: "maximumInstanceCount: '40'",
    expected: /maximumInstanceCount: "40" is not integer/,
  },
  {
    label: 'an int parameter where a string belongs (an app setting)',
    file: 'infra/modules/functionApp.bicep',
    from: 'RUN_TIME_BUDGET_SECONDS: string(runTimeBudgetSeconds)',
    to: 'RUN_TIME_BUDGET_SECONDS: runTimeBudgetSeconds',
    expected: /RUN_TIME_BUDGET_SECONDS: parameter runTimeBudgetSeconds is int, where string is expected/,
  },
  {
    label: 'an API version that does not exist',
    file: 'infra/modules/identity.bicep',
    from: 'userAssignedIdentities@2024-11-30',
    to: 'userAssignedIdentities@2024-13-30',
    expected: /userAssignedIdentities@2024-13-30 is not in Azure's type definitions/,
  },
  {
    label: 'a module output that does not exist',
    file: 'infra/main.bicep',
    from: 'dataCollection.?outputs.ruleImmutableId ??',
    to: 'dataCollection.?outputs.ruleImutableId ??',
    expected: /dataCollection\.outputs\.ruleImutableId: infra\/modules\/dataCollection\.bicep has no such output/,
  },
  {
    label: 'a module parameter that does not exist',
    file: 'infra/main.bicep',
    from: 'softDeleteRetentionInDays: keyVaultSoftDeleteRetentionDays',
    to: 'softDeleteRetentionDays: keyVaultSoftDeleteRetentionDays',
    expected: /module keyVault: infra\/modules\/keyVault\.bicep has no parameter softDeleteRetentionDays/,
  },
  {
    label: 'an object read where a string belongs (primaryEndpoints)',
    file: 'infra/modules/functionApp.bicep',
    from: 'AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob',
    to: 'AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints',
    expected: /AzureWebJobsStorage__blobServiceUri: an object where string is expected/,
  },
  {
    label: "a function's string where an integer belongs (string(40))",
    file: 'infra/modules/functionApp.bicep',
    from: 'maximumInstanceCount: 40',
    to: 'maximumInstanceCount: string(40)',
    expected: /maximumInstanceCount: a string where integer is expected/,
  },
  {
    label: 'a resource at a scope its type does not allow (a vault at subscription scope)',
    file: 'infra/main.bicep',
    from: "targetScope = 'subscription'\n",
    to: "targetScope = 'subscription'\n\nresource stray 'Microsoft.KeyVault/vaults@2026-02-01' existing = {\n  name: 'kv'\n}\n",
    expected: /resource stray: Microsoft\.KeyVault\/vaults cannot be read at subscription scope/,
  },
  {
    label: 'a misspelt property in a var (outputStreams)',
    file: 'infra/modules/dataCollection.bicep',
    from: "outputStream: 'Custom-${activityTableName}'",
    to: "outputStreams: 'Custom-${activityTableName}'",
    expected: /dataFlows\[\]\.outputStreams: DataFlow has no property outputStreams/,
  },
];

let files: BicepFile[] = [];
let types: AzureTypes;

/** The templates with one file's text changed. */
async function withSeed(seed: Seed): Promise<BicepFile[]> {
  const source = await readFile(join(REPO_ROOT, seed.file), 'utf8');
  assert.ok(source.includes(seed.from), `${seed.file} no longer holds ${JSON.stringify(seed.from)}: update the seed`);
  const broken = await parseBicep(seed.file, source.replace(seed.from, seed.to));
  return files.map((file) => (file.path === seed.file ? broken : file));
}

function isPreview(version: string): boolean {
  return version.endsWith('-preview');
}

describe("templates against Azure's resource type definitions", () => {
  before(async () => {
    files = await parseBicepFilesUnder('infra');
    types = new AzureTypes();
  });

  it('hold up: every type and version exists, every property written and read is right', () => {
    assert.deepEqual(checkTemplates(types, files), []);
  });

  for (const seed of SEEDS) {
    it(`catch ${seed.label}`, async () => {
      const problems = checkTemplates(types, await withSeed(seed));
      assert.ok(
        problems.some((problem) => seed.expected.test(problem)),
        `expected ${seed.expected}, got:\n${problems.join('\n')}`,
      );
      // Each problem names the file and line, and only the seeded file has any (a misspelt required property is
      // also reported as missing).
      for (const problem of problems) assert.match(problem, new RegExp(`^${seed.file.replaceAll('.', '\\.')}:\\d+: `));
    });
  }

  it('use the newest stable API version of each type, one version per type', () => {
    const used = new Map<string, Set<string>>();
    for (const file of files)
      for (const resource of declarations(file, 'resource_declaration')) {
        const parsed = typeAndVersion(resource);
        assert.ok(parsed, `${file.path}: a resource without type@apiVersion`);
        const type = parsed.type.toLowerCase();
        used.set(type, (used.get(type) ?? new Set()).add(parsed.version));
      }
    const behind: string[] = [];
    for (const [type, versions] of used) {
      assert.equal(versions.size, 1, `${type} is used at ${[...versions].join(' and ')}`);
      const [version] = versions as Set<string> & [string];
      const pinned = PINNED[type];
      if (pinned) {
        assert.equal(version, pinned.version, `${type} is no longer at its pinned version (${pinned.why})`);
        continue;
      }
      const newest = types
        .versionsOf(type)
        .filter((candidate) => !isPreview(candidate))
        .at(-1);
      if (isPreview(version) || version !== newest) behind.push(`${type}@${version} (newest stable: ${newest})`);
    }
    assert.deepEqual(behind, []);
  });

  it('come with exactly the type definitions the templates use, and their licence', async () => {
    const used = typesUsedUnder(join(REPO_ROOT, 'infra'));
    const held = (await readdir(join(REPO_ROOT, AZURE_TYPES_DIR, 'types'))).sort();
    assert.deepEqual(held, types.filesOf(used).sort(), 'run node dist/scripts/copyAzureTypes.js');
    const licence = await readFile(join(REPO_ROOT, AZURE_TYPES_DIR, 'LICENSE'), 'utf8');
    assert.match(licence, /MIT License[\s\S]*Copyright \(c\) Microsoft Corporation/);
    const notice = await readFile(join(REPO_ROOT, AZURE_TYPES_DIR, 'README.md'), 'utf8');
    assert.match(notice, /Azure\/bicep-types-az/);
  });
});
