// Every KQL text we ship (rules, hunting queries, workbook queries) analysed by Microsoft's Kusto language service
// against MCAS_Activity_Log_CL as each sink creates it, with the MCASActivity function defined from the parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readAnalyticRules, readHuntingQueries, readParserText, readWorkbook, workbookQueries } from './content.js';
import { analyzeKql, describeDiagnostics, type TableShape, workspaceGlobals } from './kusto.js';

const SHAPES: readonly TableShape[] = ['dataCollector', 'logsIngestion'];

interface NamedQuery {
  label: string;
  query: string;
}

function shippedQueries(): NamedQuery[] {
  const fromYaml = [...readAnalyticRules(), ...readHuntingQueries()].map((document) => ({
    label: document.file,
    query: String(document.content['query']),
  }));
  const fromWorkbook = workbookQueries(readWorkbook()).map((item) => ({
    label: `workbook item "${item.name}"`,
    query: item.resolvedQuery,
  }));
  return [...fromYaml, ...fromWorkbook];
}

describe('KQL of the Sentinel content', () => {
  const parserText = readParserText();
  const globalsByShape = new Map(SHAPES.map((shape) => [shape, workspaceGlobals(shape, parserText)]));

  it('covers the rules, the hunting queries and the workbook', () => {
    const labels = shippedQueries().map((query) => query.label);
    assert.ok(labels.filter((label) => label.startsWith('sentinel/analytic-rules/')).length >= 5, labels.join('\n'));
    assert.ok(labels.filter((label) => label.startsWith('sentinel/hunting/')).length >= 3, labels.join('\n'));
    assert.ok(labels.filter((label) => label.startsWith('workbook')).length >= 5, labels.join('\n'));
  });

  for (const { label, query } of shippedQueries()) {
    for (const shape of SHAPES) {
      it(`${label} analyses without any diagnostic against the ${shape} table`, () => {
        const analysis = analyzeKql(query, globalsByShape.get(shape) ?? assert.fail('no globals'));
        assert.deepEqual(analysis.diagnostics, [], `${label}\n${describeDiagnostics(query, analysis.diagnostics)}`);
        assert.ok(analysis.columns && analysis.columns.length > 0, 'the query returns a table');
      });
    }
  }

  it('reports an unknown column and a wrong type in a query over MCASActivity', () => {
    const globals = globalsByShape.get('dataCollector') ?? assert.fail('no globals');
    const broken = [
      'MCASActivity',
      '| where ActivityTme > ago(1h)', // misspelt column
      '| where IsSuccess > ago(1h)', // bool compared with datetime
      '| summarize count() by UserName',
    ].join('\n');
    const diagnostics = analyzeKql(broken, globals).diagnostics;
    assert.deepEqual(
      diagnostics.map((diagnostic) => diagnostic.code),
      ['KS142', 'KS106'],
      describeDiagnostics(broken, diagnostics),
    );
  });

  it('reports a syntax error', () => {
    const globals = globalsByShape.get('logsIngestion') ?? assert.fail('no globals');
    assert.notDeepEqual(analyzeKql('MCASActivity | where | take 5', globals).diagnostics, []);
  });

  it('reports a call to MCASActivity when the parser function is not defined', () => {
    const diagnostics = analyzeKql('MCASActivity | take 5', workspaceGlobals('dataCollector')).diagnostics;
    assert.deepEqual(
      diagnostics.map((diagnostic) => diagnostic.code),
      ['KS204'],
      describeDiagnostics('MCASActivity | take 5', diagnostics),
    );
  });
});
