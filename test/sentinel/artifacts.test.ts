// The importable forms (parser YAML, parser ARM template, rules ARM template) are generated from the sources by
// sentinel/tools/buildArtifacts.mjs; these tests keep the committed copies identical to what the tool builds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { parse } from 'yaml';

import { readAnalyticRules, readHuntingQueries, readParserText, readText, REPO_ROOT, SENTINEL_DIR } from './content.js';

const TOOL = `${REPO_ROOT}sentinel/tools/buildArtifacts.mjs`;

function runTool(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [TOOL, ...args], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

function readJson(relativePath: string): Record<string, unknown> {
  return JSON.parse(readText(relativePath)) as Record<string, unknown>;
}

describe('generated Sentinel artifacts', () => {
  it('are up to date with the parser and the rules', () => {
    const result = runTool('--check');
    assert.equal(result.status, 0, result.stderr);
  });

  it('are reported stale when the parser changes and they are not rebuilt', (t) => {
    const copy = mkdtempSync(join(tmpdir(), 'sentinel-'));
    t.after(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(SENTINEL_DIR, copy, { recursive: true });
    writeFileSync(join(copy, 'parsers/MCASActivity.kql'), `${readParserText()}| take 1\n`);
    const result = runTool('--check', '--dir', copy);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^Stale: .*sentinel\/parsers\/MCASActivity\.yaml, sentinel\/arm\/parser\.json\b/);
  });

  it('carry the parser text unchanged, under alias MCASActivity, in the YAML and the ARM template', () => {
    const yamlForm = parse(readText('sentinel/parsers/MCASActivity.yaml')) as Record<string, unknown>;
    assert.equal(yamlForm['FunctionAlias'], 'MCASActivity');
    assert.equal(yamlForm['FunctionQuery'], readParserText());
    const resources = readJson('sentinel/arm/parser.json')['resources'] as Record<string, unknown>[];
    assert.equal(resources.length, 1);
    const [savedSearch] = resources;
    assert.equal(savedSearch?.['type'], 'Microsoft.OperationalInsights/workspaces/savedSearches');
    const properties = savedSearch?.['properties'] as Record<string, unknown>;
    assert.equal(properties['functionAlias'], 'MCASActivity');
    assert.equal(properties['query'], readParserText());
  });

  it('turn each rule into a scheduled alert rule resource with ISO 8601 durations', () => {
    const rules = readAnalyticRules();
    const resources = readJson('sentinel/arm/analytic-rules.json')['resources'] as Record<string, unknown>[];
    assert.equal(resources.length, rules.length);
    for (const rule of rules) {
      const id = String(rule.content['id']);
      const resource = resources.find((candidate) => String(candidate['name']).endsWith(`/${id}')]`));
      assert.ok(resource, `${rule.file} has a resource`);
      assert.equal(resource['type'], 'Microsoft.OperationalInsights/workspaces/providers/alertRules');
      assert.equal(resource['kind'], 'Scheduled');
      const properties = resource['properties'] as Record<string, unknown>;
      assert.equal(properties['displayName'], rule.content['name']);
      assert.equal(properties['query'], rule.content['query']);
      assert.match(String(properties['queryFrequency']), /^PT\d+[HM]$|^P\d+D$/);
      assert.match(String(properties['queryPeriod']), /^PT\d+[HM]$|^P\d+D$/);
      assert.equal(properties['triggerOperator'], 'GreaterThan');
      assert.deepEqual(properties['entityMappings'], rule.content['entityMappings']);
    }
    const admin = resources.find((resource) => String(resource['name']).includes('cee9be74'));
    const adminProperties = admin?.['properties'] as Record<string, unknown>;
    assert.equal(adminProperties['queryFrequency'], 'P1D');
    assert.equal(adminProperties['queryPeriod'], 'P14D');
  });

  it('save each hunting query in the Hunting Queries category with its tactics', () => {
    const queries = readHuntingQueries();
    const resources = readJson('sentinel/arm/hunting-queries.json')['resources'] as Record<string, unknown>[];
    assert.equal(resources.length, queries.length);
    for (const query of queries) {
      const resource = resources.find((candidate) => String(candidate['name']).includes(String(query.content['id'])));
      const properties = resource?.['properties'] as Record<string, unknown>;
      assert.equal(properties['category'], 'Hunting Queries', query.file);
      assert.equal(properties['query'], query.content['query']);
      assert.deepEqual(properties['tags'], [
        { name: 'description', value: String(query.content['description']).trim() },
        { name: 'tactics', value: (query.content['tactics'] as string[]).join(',') },
        { name: 'techniques', value: (query.content['relevantTechniques'] as string[]).join(',') },
      ]);
    }
  });
});
