// Every KQL text we ship (parsers, rules, hunting queries, workbook queries) analysed by Microsoft's Kusto language
// service against MCAS_Activity_Log_CL as each sink creates it, with every parser defined as a workspace function; the
// parser's columns; the rules' and hunting queries' fields and entity mappings against the columns their queries
// return; the workbook. One language service for the whole file: loading it is the slow part.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { LOG_RECORD_COLUMNS } from '../../src/mapping/LogRecord.js';
import {
  parserFunctions,
  readAnalyticRules,
  readHuntingQueries,
  readMainParser,
  readWorkbook,
  workbookQueries,
} from './content.js';
import {
  analyseWorkspace,
  analyzeKql,
  bodyQuery,
  describeDiagnostics,
  type KqlColumn,
  tableColumns,
  type TableShape,
  workspaceGlobals,
} from './kusto.js';
import { analyticRuleProblems, huntingQueryProblems } from './sentinelYaml.js';

const SHAPES: readonly TableShape[] = ['dataCollector', 'logsIngestion'];
const KUSTO_TYPES = { string: 'string', datetime: 'datetime', boolean: 'bool' } as const;
const WORKSPACE_RESOURCE_TYPE = 'microsoft.operationalinsights/workspaces';

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
  const functions = parserFunctions();
  const workspaceOf = (shape: TableShape) => analyseWorkspace(shape, functions);
  const globalsOf = (shape: TableShape) => workspaceOf(shape).globals;
  const columnsOf = (query: string, shape: TableShape): KqlColumn[] =>
    analyzeKql(query, globalsOf(shape)).columns ?? assert.fail('the query returns no table');

  for (const fn of functions) {
    for (const shape of SHAPES) {
      it(`parser ${fn.name} analyses without any diagnostic against the ${shape} table`, () => {
        const analysis = workspaceOf(shape).bodies.get(fn.name) ?? assert.fail('not analysed');
        const query = bodyQuery(fn);
        assert.deepEqual(analysis.diagnostics, [], describeDiagnostics(query, analysis.diagnostics));
        assert.ok(analysis.columns && analysis.columns.length > 0, 'the parser returns a table');
      });
    }
  }

  it('covers the parsers, the rules, the hunting queries and the workbook', () => {
    assert.equal(functions.length, 9, functions.map((fn) => fn.name).join(', '));
    const labels = shippedQueries().map((query) => query.label);
    assert.ok(labels.filter((label) => label.includes('/Analytic Rules/')).length >= 5, labels.join('\n'));
    assert.ok(labels.filter((label) => label.includes('/Hunting Queries/')).length >= 3, labels.join('\n'));
    assert.ok(labels.filter((label) => label.startsWith('workbook')).length >= 5, labels.join('\n'));
  });

  for (const { label, query } of shippedQueries()) {
    for (const shape of SHAPES) {
      it(`${label} analyses without any diagnostic against the ${shape} table`, () => {
        const analysis = analyzeKql(query, globalsOf(shape));
        assert.deepEqual(analysis.diagnostics, [], `${label}\n${describeDiagnostics(query, analysis.diagnostics)}`);
        assert.ok(analysis.columns && analysis.columns.length > 0, 'the query returns a table');
      });
    }
  }

  it('reports an unknown column, a wrong type, an unknown parser parameter and a missing parser', () => {
    const broken = [
      "MCASActivity(eventtype_in = dynamic(['EVENT_CATEGORY_LOGIN']), user_in = dynamic([]))",
      '| where ActivityTme > ago(1h)', // misspelt column
      '| where IsSuccess > ago(1h)', // bool compared with datetime
      '| summarize count() by UserName',
    ].join('\n');
    const diagnostics = analyzeKql(broken, globalsOf('dataCollector')).diagnostics;
    assert.deepEqual(
      diagnostics.map((diagnostic) => diagnostic.code),
      ['KS196', 'KS142', 'KS106'],
      describeDiagnostics(broken, diagnostics),
    );
    const withoutParser = analyzeKql('MCASActivity | take 5', workspaceGlobals('dataCollector')).diagnostics;
    assert.deepEqual(
      withoutParser.map((diagnostic) => diagnostic.code),
      ['KS204'],
    );
    assert.notDeepEqual(analyzeKql('MCASActivity | where | take 5', globalsOf('logsIngestion')).diagnostics, []);
  });

  it('reports a mistake inside a parser body', () => {
    const main = readMainParser().function;
    const broken = { ...main, body: main.body.replace('ActivityTime = coalesce(', 'ActivityTime = coalesce(Nope, ') };
    const codes = analyzeKql(bodyQuery(broken), workspaceGlobals('dataCollector')).diagnostics.map((d) => d.code);
    assert.deepEqual(codes, ['KS142']);
  });

  describe('MCASActivity parser', () => {
    for (const shape of SHAPES) {
      it(`returns every mapped column under its own name and type from the ${shape} table`, () => {
        const columns = new Map(columnsOf('MCASActivity', shape).map((column) => [column.name, column.type]));
        for (const column of LOG_RECORD_COLUMNS) {
          assert.equal(columns.get(column.name), KUSTO_TYPES[column.type], `column ${column.name}`);
        }
        for (const column of DERIVED_COLUMNS) {
          assert.equal(columns.get(column.name), column.type, `column ${column.name}`);
        }
        assert.equal(columns.size, LOG_RECORD_COLUMNS.length + DERIVED_COLUMNS.length, [...columns.keys()].join(', '));
      });
    }

    it('returns the same columns, in the same order, from both table shapes', () => {
      assert.deepEqual(columnsOf('MCASActivity', 'dataCollector'), columnsOf('MCASActivity', 'logsIngestion'));
    });

    it('reports a parser that reads a suffixed column directly when the table has the Logs Ingestion shape', () => {
      const naive = 'MCAS_Activity_Log_CL | project ActivityId = ActivityId_s, ActivityTime = ActivityTime_t';
      assert.deepEqual(analyzeKql(naive, workspaceGlobals('dataCollector')).diagnostics, []);
      const codes = analyzeKql(naive, workspaceGlobals('logsIngestion')).diagnostics.map(
        (diagnostic) => diagnostic.code,
      );
      assert.deepEqual(codes, ['KS142', 'KS142']);
    });

    it('names in column_ifexists() only columns that one of the two sinks creates', () => {
      // column_ifexists() hides a misspelt name (it just returns the default), so the analysis above cannot catch one.
      const known = new Set([...tableColumns('dataCollector'), ...tableColumns('logsIngestion')].map((c) => c.name));
      const named = [...readMainParser().function.body.matchAll(/column_ifexists\('([^']+)'/g)].map((m) => m[1] ?? '');
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

    it('filters by time and event type first, then keeps one row per activity id, the first delivery', () => {
      // The at-least-once contract lives in these lines; a refactor that drops them must fail here, not in production.
      const body = readMainParser().function.body;
      const dedup = body.search(/\|\s*summarize arg_min\(IngestedTime, \*\) by DedupKey\b/);
      assert.ok(dedup > 0, 'deduplicates by DedupKey, keeping the first delivery');
      assert.match(body, /DedupKey = iff\(isnotempty\(ActivityId\), ActivityId, /);
      for (const filter of [
        /TimeGenerated >= starttime/,
        /TimeGenerated <= endtime/,
        /EventType in \(eventtype_in\)/,
        /ActionType in~ \(actiontype_in\)/,
      ]) {
        const at = body.search(filter);
        assert.ok(at > 0 && at < dedup, `${String(filter)} comes before the deduplication`);
      }
      assert.deepEqual(
        readMainParser().function.parameters,
        '(starttime:datetime=datetime(null), endtime:datetime=datetime(null), eventtype_in:dynamic=dynamic([]), actiontype_in:dynamic=dynamic([]))',
      );
    });
  });

  describe('analytic rules and hunting queries', () => {
    const rules = readAnalyticRules();
    const hunting = readHuntingQueries();

    for (const rule of rules) {
      for (const shape of SHAPES) {
        it(`${rule.file} has every required field and maps entities to output columns (${shape} table)`, () => {
          assert.deepEqual(analyticRuleProblems(rule.content, columnsOf(String(rule.content['query']), shape)), []);
        });
      }
    }

    for (const query of hunting) {
      it(`${query.file} has every required field and maps entities to output columns`, () => {
        const columns = columnsOf(String(query.content['query']), 'dataCollector');
        assert.deepEqual(huntingQueryProblems(query.content, columns), []);
      });
    }

    it('give every rule, hunting query and the parser its own id', () => {
      const ids = [...rules, ...hunting].map((document) => String(document.content['id']));
      ids.push(String(readMainParser().content['id']));
      assert.equal(new Set(ids).size, ids.length, ids.join('\n'));
    });

    it('cover the five use cases', () => {
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

    it('report a rule with missing fields, limits broken and entity mappings to columns the query does not return', () => {
      const broken = {
        id: 'not-a-guid',
        name: 'Broken',
        severity: 'Severe',
        requiredDataConnectors: [{ connectorId: 'SomeOtherConnector', dataTypes: ['SomethingElse_CL'] }],
        queryFrequency: '30m',
        queryPeriod: '3d',
        triggerOperator: 'gt',
        triggerThreshold: 0,
        tactics: ['Exfiltration', 'Sneaking', 'Impact'],
        relevantTechniques: ['T1567', 'T1110'],
        query: 'MCASActivity | summarize Activities = count() by UserName',
        entityMappings: [
          { entityType: 'Account', fieldMappings: [{ identifier: 'FullName', columnName: 'UserName' }] },
          { entityType: 'IP', fieldMappings: [{ identifier: 'Address', columnName: 'IpAddress' }] },
          { entityType: 'CloudApplication', fieldMappings: [{ identifier: 'Title', columnName: 'UserName' }] },
        ],
        customDetails: { 'Bad-Key': 'Activities' },
        eventGroupingSettings: { aggregationKind: 'OneAlertPerEntity' },
        version: '1.0.0',
        kind: 'Scheduled',
      };
      assert.deepEqual(analyticRuleProblems(broken, columnsOf(broken.query, 'dataCollector')), [
        'id is not a lower-case GUID: not-a-guid',
        'description is missing or empty',
        "connectorId SomeOtherConnector is not the solution's MCASActivityConnector",
        'a required data connector does not list MCAS_Activity_Log_CL in dataTypes',
        'unknown tactic Sneaking',
        'technique T1110 belongs to none of the tactics Exfiltration, Sneaking, Impact',
        'tactic Impact has no technique listed for it',
        'severity Severe is not valid',
        'queryPeriod of 2 days or more needs a queryFrequency of at least 1 hour',
        'eventGroupingSettings.aggregationKind is not SingleAlert or AlertPerResult',
        "IP.Address: column IpAddress is not in the query's output",
        'CloudApplication: unknown identifier Title',
        'custom detail key Bad-Key is not a name of 1-20',
      ]);
    });

    it('report a CloudApplication AppId mapped to a string column', () => {
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
      assert.deepEqual(analyticRuleProblems(doc, columnsOf(query, 'logsIngestion')), [
        'CloudApplication.AppId: column AppId is string, expected int/long',
      ]);
    });
  });

  describe('MCASActivity workbook', () => {
    const workbook = readWorkbook();
    const queries = workbookQueries(workbook).filter((query) => !query.name.startsWith('parameter '));

    it('is an Azure Workbook document with unique item names', () => {
      assert.equal(workbook['version'], 'Notebook/1.0');
      assert.ok(Array.isArray(workbook['items']));
      const names = (workbook['items'] as Record<string, unknown>[]).map((item) => item['name']);
      assert.equal(new Set(names).size, names.length, 'item names are unique');
    });

    it('runs every query item against a Log Analytics workspace, within the time range parameter', () => {
      const parameters = (workbook['items'] as Record<string, unknown>[])
        .flatMap(
          (item) => ((item['content'] as Record<string, unknown>)['parameters'] ?? []) as Record<string, unknown>[],
        )
        .map((parameter) => parameter['name']);
      assert.ok(queries.length >= 5);
      for (const { name, content } of queries) {
        assert.equal(content['version'], 'KqlItem/1.0', name);
        assert.equal(content['queryType'], 0, `${name}: queryType 0 is Log Analytics`);
        assert.equal(content['resourceType'], WORKSPACE_RESOURCE_TYPE, name);
        assert.ok(parameters.includes(content['timeContextFromParameter']), `${name}: time range parameter exists`);
      }
    });

    it('shows activity over time, top apps, top users, event types and a map by country', () => {
      const visualizationOf = new Map(queries.map((query) => [query.name, query.content['visualization']]));
      assert.equal(visualizationOf.get('activity-over-time'), 'timechart');
      assert.equal(visualizationOf.get('top-apps'), 'barchart');
      assert.equal(visualizationOf.get('top-users'), 'barchart');
      assert.equal(visualizationOf.get('event-types'), 'piechart');
      assert.equal(visualizationOf.get('activity-by-country'), 'map');
    });

    it('builds the map from columns its query returns', () => {
      const map = queries.find((query) => query.content['visualization'] === 'map') ?? assert.fail('no map item');
      const settings = map.content['mapSettings'] as Record<string, unknown>;
      const colorSettings = settings['itemColorSettings'] as Record<string, unknown>;
      const columns = new Set(columnsOf(map.resolvedQuery, 'dataCollector').map((column) => column.name));
      assert.equal(settings['locInfo'], 'LatLong');
      const named = [
        settings['latitude'],
        settings['longitude'],
        settings['sizeSettings'],
        settings['labelSettings'],
        settings['legendMetric'],
        colorSettings['nodeColorField'],
      ];
      for (const column of named) assert.ok(columns.has(String(column)), `map setting names column ${String(column)}`);
    });

    it('charts a time column, a category and a number where a chart needs them', () => {
      for (const { name, resolvedQuery, content } of queries) {
        const types = columnsOf(resolvedQuery, 'dataCollector').map((column) => column.type);
        const hasNumber = types.some((type) => type === 'long' || type === 'int' || type === 'real');
        if (content['visualization'] === 'timechart') {
          assert.ok(types.includes('datetime') && hasNumber, `${name}: ${types.join(', ')}`);
        }
        if (content['visualization'] === 'barchart' || content['visualization'] === 'piechart') {
          assert.ok(types.includes('string') && hasNumber, `${name}: ${types.join(', ')}`);
        }
      }
    });
  });
});
