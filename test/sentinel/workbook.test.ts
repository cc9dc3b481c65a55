// The workbook: the Azure Workbook JSON shape (Notebook/1.0, Log Analytics query items) and visualizations whose
// settings name columns the queries return.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { readParserText, readWorkbook, workbookQueries } from './content.js';
import { analyzeKql, workspaceGlobals } from './kusto.js';

const WORKSPACE_RESOURCE_TYPE = 'microsoft.operationalinsights/workspaces';

describe('MCASActivity workbook', () => {
  const workbook = readWorkbook();
  const queries = workbookQueries(workbook).filter((query) => !query.name.startsWith('parameter '));
  const globals = workspaceGlobals('dataCollector', readParserText());

  it('is an Azure Workbook document', () => {
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
    const columns = new Set((analyzeKql(map.resolvedQuery, globals).columns ?? []).map((column) => column.name));
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
      const columns = analyzeKql(resolvedQuery, globals).columns ?? assert.fail(`${name} returns no table`);
      const types = columns.map((column) => column.type);
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
