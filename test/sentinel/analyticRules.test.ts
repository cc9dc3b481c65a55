// The analytic rules and hunting queries: the fields Sentinel requires, and entity mappings that name columns the
// query really returns (result schema from the Kusto language service, on both table shapes).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readAnalyticRules, readHuntingQueries, readParserText, readText } from './content.js';
import { analyzeKql, type KqlColumn, type TableShape, workspaceGlobals } from './kusto.js';
import { analyticRuleProblems, huntingQueryProblems } from './sentinelYaml.js';

const SHAPES: readonly TableShape[] = ['dataCollector', 'logsIngestion'];

describe('analytic rules and hunting queries', () => {
  const parserText = readParserText();
  const globalsByShape = new Map(SHAPES.map((shape) => [shape, workspaceGlobals(shape, parserText)]));

  function outputColumns(query: string, shape: TableShape): KqlColumn[] {
    const analysis = analyzeKql(query, globalsByShape.get(shape) ?? assert.fail('no globals'));
    return analysis.columns ?? assert.fail('the query returns no table');
  }

  const rules = readAnalyticRules();
  const hunting = readHuntingQueries();

  it('ships at least five analytic rules and three hunting queries', () => {
    assert.ok(rules.length >= 5, `${rules.length} rules`);
    assert.ok(hunting.length >= 3, `${hunting.length} hunting queries`);
  });

  for (const rule of rules) {
    for (const shape of SHAPES) {
      it(`${rule.file} has every required field and maps entities to output columns (${shape} table)`, () => {
        const columns = outputColumns(String(rule.content['query']), shape);
        assert.deepEqual(analyticRuleProblems(rule.content, columns), []);
      });
    }
  }

  for (const query of hunting) {
    it(`${query.file} has every required field and maps entities to output columns`, () => {
      const columns = outputColumns(String(query.content['query']), 'dataCollector');
      assert.deepEqual(huntingQueryProblems(query.content, columns), []);
    });
  }

  it('gives every rule, hunting query and the parser its own id', () => {
    const parserId = /^id: (\S+)$/m.exec(readText('sentinel/parsers/MCASActivity.yaml'))?.[1];
    const ids = [...rules, ...hunting].map((document) => String(document.content['id']));
    ids.push(parserId ?? assert.fail('the parser YAML has no id'));
    assert.equal(new Set(ids).size, ids.length, ids.join('\n'));
  });

  it('covers the five use cases of the issue', () => {
    const names = rules.map((rule) => String(rule.content['name']).toLowerCase()).join('\n');
    const useCases = [
      /shared.*guest/,
      /mass download/,
      /admin activity from a country not seen/,
      /failed logons followed by a successful/,
      /anonymous proxy or tor/,
    ];
    for (const useCase of useCases) assert.match(names, useCase);
  });

  it('reports a rule with missing fields and entity mappings to columns the query does not return', () => {
    const broken = {
      id: 'not-a-guid',
      name: 'Broken',
      severity: 'Severe',
      requiredDataConnectors: [{ connectorId: 'MCASActivityConnector', dataTypes: ['SomethingElse_CL'] }],
      queryFrequency: '1h',
      queryPeriod: '30m',
      triggerOperator: 'gt',
      triggerThreshold: 0,
      tactics: ['Exfiltration', 'Sneaking'],
      relevantTechniques: ['T1567'],
      query: 'MCASActivity | summarize Activities = count() by UserName',
      entityMappings: [
        { entityType: 'Account', fieldMappings: [{ identifier: 'FullName', columnName: 'UserName' }] },
        { entityType: 'IP', fieldMappings: [{ identifier: 'Address', columnName: 'IpAddress' }] },
        { entityType: 'CloudApplication', fieldMappings: [{ identifier: 'Title', columnName: 'UserName' }] },
      ],
      version: '1.0.0',
      kind: 'Scheduled',
    };
    const columns = outputColumns(broken.query, 'dataCollector');
    assert.deepEqual(analyticRuleProblems(broken, columns), [
      'id is not a lower-case GUID: not-a-guid',
      'description is missing or empty',
      'a required data connector does not list MCAS_Activity_Log_CL in dataTypes',
      'unknown tactic Sneaking',
      'severity Severe is not valid',
      'queryPeriod is shorter than queryFrequency: activities between runs would never be queried',
      "IP.Address: column IpAddress is not in the query's output",
      'CloudApplication: unknown identifier Title',
    ]);
  });

  it('reports a CloudApplication AppId mapped to a string column', () => {
    const rule = rules[0] ?? assert.fail('no rules');
    const query = 'MCASActivity | project UserName, AppId, AppName';
    const doc = {
      ...rule.content,
      query,
      entityMappings: [
        { entityType: 'CloudApplication', fieldMappings: [{ identifier: 'AppId', columnName: 'AppId' }] },
      ],
      customDetails: undefined,
      alertDetailsOverride: undefined,
    };
    assert.deepEqual(analyticRuleProblems(doc, outputColumns(query, 'logsIngestion')), [
      'CloudApplication.AppId: column AppId is string, expected int/long',
    ]);
  });
});
