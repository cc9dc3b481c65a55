// Every Bicep template under infra/ parses with the tree-sitter Bicep grammar (no Bicep compiler runs here), so a
// syntax slip fails `npm test` rather than `azd up`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseBicep, parseBicepFilesUnder, syntaxProblems } from './bicepTree.js';

describe('Bicep syntax', () => {
  it('parses every .bicep file under infra/ without an ERROR or MISSING node', async () => {
    const files = await parseBicepFilesUnder('infra');
    assert.ok(
      files.some((file) => file.path === 'infra/main.bicep'),
      'infra/main.bicep is missing',
    );
    assert.ok(files.length >= 2, 'expected main.bicep and its modules');
    assert.deepEqual(files.flatMap(syntaxProblems), []);
  });

  it('reports the place of a syntax error, so the check above can fail', async () => {
    const broken = await parseBicep(
      'broken.bicep',
      "param name string\nresource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {\n  name: \n  location: 'westeurope'\n",
    );
    const problems = syntaxProblems(broken);
    assert.ok(problems.length > 0, 'an unfinished template parsed cleanly');
    assert.match(problems[0] ?? '', /^broken\.bicep:\d+:\d+: (ERROR|MISSING)/);
  });
});
