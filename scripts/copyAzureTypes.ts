// Copies, from a snapshot of Azure's resource type definitions (the `generated/` types.json files of
// Azure/bicep-types-az, with an index keyed by `type@apiVersion`), the files the templates under infra/ use into
// test/fixtures/azure-types/, where the template tests check against them. Every version of each used type stays in
// the copied index, so a test can tell whether a newer stable version exists.
// Run after changing a resource type or API version: `node dist/scripts/copyAzureTypes.js [snapshot folder]`
// (default ../shared/azure-types, beside the repository).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AZURE_TYPES_FIXTURE = 'test/fixtures/azure-types';

/** Every `Microsoft.X/y@version` named in a .bicep file under `dir`, sorted and lower case, as index keys are. */
export function typesUsedUnder(dir: string): string[] {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.bicep')) continue;
    const source = readFileSync(join(dir, entry), 'utf8');
    for (const match of source.matchAll(/'([A-Za-z]+\.[A-Za-z]+\/[A-Za-z/]+@\d{4}-\d{2}-\d{2}(?:-preview)?)'/g))
      found.add((match[1] ?? '').toLowerCase());
  }
  return [...found].sort();
}

const NOTICE = `# Azure resource type definitions (test fixture)

Copied by \`node dist/scripts/copyAzureTypes.js\` from the generated Bicep type definitions of Azure/bicep-types-az
(\`generated/\`; snapshot of 2026-08-20), © Microsoft Corporation, under the MIT licence (LICENSE beside this file).
Only the files the templates under infra/ use are here. \`index.json\` maps \`type@apiVersion\` (lower case) to a file,
the type's index in it and its body reference; it lists every version of each type the templates use, while
\`types/\` holds only the versions they use. test/infra/azureTypes.test.ts checks the templates against these definitions.
`;

const MIT = `MIT License

Copyright (c) Microsoft Corporation.

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
`;

function main(args: string[]): number {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const source = resolve(root, args[0] ?? '../shared/azure-types');
  const target = join(root, AZURE_TYPES_FIXTURE);
  const index = JSON.parse(readFileSync(join(source, 'index.json'), 'utf8')) as Record<string, { file: string }[]>;
  const used = typesUsedUnder(join(root, 'infra'));
  const missing = used.filter((key) => !(key in index));
  if (missing.length > 0) {
    console.error(`Not in ${source}: ${missing.join(', ')}`);
    return 1;
  }
  const usedTypes = new Set(used.map((key) => key.split('@')[0]));
  const slimIndex = Object.fromEntries(
    Object.entries(index)
      .filter(([key]) => usedTypes.has(key.split('@')[0]))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const files = [...new Set(used.flatMap((key) => (index[key] ?? []).map((entry) => entry.file)))].sort();
  rmSync(target, { recursive: true, force: true });
  mkdirSync(join(target, 'types'), { recursive: true });
  // Read and written rather than copied, so that the copies are writable whatever the snapshot's permissions.
  for (const file of files) writeFileSync(join(target, 'types', file), readFileSync(join(source, 'types', file)));
  writeFileSync(join(target, 'index.json'), `${JSON.stringify(slimIndex, null, 1)}\n`);
  writeFileSync(join(target, 'README.md'), NOTICE);
  writeFileSync(join(target, 'LICENSE'), MIT);
  console.log(`${AZURE_TYPES_FIXTURE}: ${files.length} type files for ${used.length} resource types and versions.`);
  return 0;
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntryPoint) process.exitCode = main(process.argv.slice(2));
