// The MCASActivity parser function: clean KQL on both table shapes, and the same typed columns out of both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { LOG_RECORD_COLUMNS } from '../../src/mapping/LogRecord.js';
import { readParserText } from './content.js';
import {
  analyzeKql,
  describeDiagnostics,
  type KqlColumn,
  tableColumns,
  type TableShape,
  workspaceGlobals,
} from './kusto.js';

const SHAPES: readonly TableShape[] = ['dataCollector', 'logsIngestion'];
const KUSTO_TYPES = { string: 'string', datetime: 'datetime', boolean: 'bool' } as const;

/** Columns the parser adds to the mapped ones. */
const DERIVED_COLUMNS: readonly KqlColumn[] = [
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'IngestedTime', type: 'datetime' },
  { name: 'Id', type: 'string' },
  { name: 'IsAnonymousProxy', type: 'bool' },
  { name: 'IpCategory', type: 'int' },
  { name: 'IpCategoryName', type: 'string' },
  { name: 'Latitude', type: 'real' },
  { name: 'Longitude', type: 'real' },
];

function parserColumns(shape: TableShape): KqlColumn[] {
  const parserText = readParserText();
  const analysis = analyzeKql(parserText, workspaceGlobals(shape));
  assert.deepEqual(analysis.diagnostics, [], describeDiagnostics(parserText, analysis.diagnostics));
  assert.ok(analysis.columns, 'the parser returns a table');
  return analysis.columns;
}

describe('MCASActivity parser', () => {
  for (const shape of SHAPES) {
    it(`analyses without any diagnostic against the ${shape} table`, () => {
      parserColumns(shape);
    });

    it(`returns every mapped column under its own name and type from the ${shape} table`, () => {
      const columns = new Map(parserColumns(shape).map((column) => [column.name, column.type]));
      for (const column of LOG_RECORD_COLUMNS) {
        assert.equal(columns.get(column.name), KUSTO_TYPES[column.type], `column ${column.name}`);
      }
      for (const column of DERIVED_COLUMNS)
        assert.equal(columns.get(column.name), column.type, `column ${column.name}`);
      assert.equal(columns.size, LOG_RECORD_COLUMNS.length + DERIVED_COLUMNS.length, [...columns.keys()].join(', '));
    });
  }

  it('returns the same columns, in the same order, from both table shapes', () => {
    assert.deepEqual(parserColumns('dataCollector'), parserColumns('logsIngestion'));
  });

  it('reports a parser that reads a suffixed column directly when the table has the Logs Ingestion shape', () => {
    const naive = 'MCAS_Activity_Log_CL | project ActivityId = ActivityId_s, ActivityTime = ActivityTime_t';
    assert.deepEqual(analyzeKql(naive, workspaceGlobals('dataCollector')).diagnostics, []);
    const codes = analyzeKql(naive, workspaceGlobals('logsIngestion')).diagnostics.map((diagnostic) => diagnostic.code);
    assert.deepEqual(codes, ['KS142', 'KS142']);
  });

  it('names in column_ifexists() only columns that one of the two sinks creates', () => {
    // column_ifexists() hides a misspelt name (it just returns the default), so the analysis above cannot catch one.
    const known = new Set([...tableColumns('dataCollector'), ...tableColumns('logsIngestion')].map((c) => c.name));
    const named = [...readParserText().matchAll(/column_ifexists\('([^']+)'/g)].map((match) => match[1] ?? '');
    assert.ok(named.length >= LOG_RECORD_COLUMNS.length * 2, `only ${named.length} column_ifexists() calls`);
    assert.deepEqual(
      named.filter((name) => !known.has(name)),
      [],
    );
    for (const column of LOG_RECORD_COLUMNS) {
      assert.ok(named.includes(column.name), `${column.name} (Logs Ingestion) is read`);
      assert.ok(
        named.some((name) => name.startsWith(`${column.name}_`)),
        `${column.name} (Data Collector) is read`,
      );
    }
  });

  it('keeps one row per activity id, the first delivery', () => {
    // The at-least-once contract lives in these lines; a refactor that drops them must fail here, not in production.
    assert.match(readParserText(), /\|\s*summarize arg_min\(IngestedTime, \*\) by DedupKey\b/);
    assert.match(readParserText(), /DedupKey = iff\(isnotempty\(ActivityId\), ActivityId, /);
  });
});
