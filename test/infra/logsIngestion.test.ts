// The Logs Ingestion deployment (logSink=logsIngestion), read from the templates and evaluated for given parameters:
// the tables and the DCR streams carry the columns generated from the mapping, the transformations parse and keep
// TimeGenerated at the activity time, the role sits on the DCR, and the app settings make a config the connector takes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import {
  renderTableSchemas,
  TABLE_SCHEMAS_PATH,
  type TableColumn,
  tableSchemas,
} from '../../scripts/generateTableSchemas.js';
import { AZURE_CLOUD_NAMES } from '../../src/cloud.js';
import { DEFAULTS, readConfig } from '../../src/config.js';
import { ACTIVITIES } from '../../src/streams.js';
import { describeDiagnostics } from '../sentinel/kusto.js';
import { evaluate, type ParamValues, resolveFromBicepFile, Unresolved, type Value } from './bicepEval.js';
import {
  assignedValue,
  type BicepFile,
  bodyOf,
  declarations,
  decoratorsOf,
  descendants,
  isExisting,
  literal,
  nameOf,
  type Node,
  parseBicepFilesUnder,
  property,
  REPO_ROOT,
  resourceTypeOf,
  stringLiteral,
} from './bicepTree.js';
import { MAIN_PARAMS, templateModel } from './templateModel.js';
import {
  analyzeAgainstTable,
  analyzeTransform,
  KUSTO_TYPES,
  type StreamColumn,
  unsupportedInTransform,
} from './transformKql.js';

const ACTIVITY_STREAM = DEFAULTS.LOGS_INGESTION_STREAM;
/** The stream the connector derives for alerts: `Custom-<log type>_CL` with log type MCAS_Alert_Log. */
const ALERT_STREAM = 'Custom-MCAS_Alert_Log_CL';
const MONITORING_METRICS_PUBLISHER = '3913510d-42f4-4e42-8a64-420c390055eb';
const GUID = '11111111-2222-3333-4444-555555555555';
/** What only a deployment knows, per app setting, in the shape Azure gives it (public cloud). */
const DEPLOYMENT_VALUES: Readonly<Record<string, string>> = {
  AzureWebJobsStorage__blobServiceUri: 'https://stmcastest.blob.core.windows.net/',
  AzureWebJobsStorage__queueServiceUri: 'https://stmcastest.queue.core.windows.net/',
  AzureWebJobsStorage__clientId: GUID,
  APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${GUID};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/`,
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${GUID};Authorization=AAD`,
  AZURE_CLIENT_ID: GUID,
  AZURE_CLOUD: 'public',
  KEY_VAULT_URL: 'https://kv-mcastest.vault.azure.net/',
  LOG_ANALYTICS_WORKSPACE_ID: GUID,
  LOGS_INGESTION_ENDPOINT: 'https://dce-mcas-test-ab12.westeurope-1.ingest.monitor.azure.com',
  LOGS_INGESTION_DCR_ID: `dcr-${'0123456789abcdef'.repeat(2)}`,
};

let files: BicepFile[] = [];

const { fileAt, declared, asObject, mainModule, moduleOutput, resourceIn } = templateModel(() => files);

/** The resource an expression such as `rule.properties.immutableId` starts from, and its type. */
function resourceBehind(file: BicepFile, value: Value | undefined): { name: string; type: string; existing: boolean } {
  assert.ok(value instanceof Unresolved, `expected a resource property, got ${JSON.stringify(value)}`);
  const name = /^\w+/.exec(value.text)?.[0] ?? '';
  const resource = declared(file, 'resource_declaration', name);
  return { name, type: resourceTypeOf(resource), existing: isExisting(resource) };
}

function columnsOf(value: Value | undefined): StreamColumn[] {
  assert.ok(Array.isArray(value), `columns are not a list: ${JSON.stringify(value)}`);
  return value.map((column) => {
    const { name, type } = asObject(column, 'a column');
    assert.ok(typeof name === 'string' && typeof type === 'string', `bad column ${JSON.stringify(column)}`);
    return { name, type };
  });
}

function sortedKusto(columns: readonly StreamColumn[]): StreamColumn[] {
  return columns
    .map((c) => ({ name: c.name, type: KUSTO_TYPES[c.type] ?? c.type }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The DCR of the dataCollection module, for main's parameters. */
function dataCollectionRule(mainParams: ParamValues): {
  file: BicepFile;
  properties: { [key: string]: Value };
  params: ParamValues;
} {
  const { file, params } = mainModule('dataCollection', mainParams);
  const rules = declarations(file, 'resource_declaration').filter(
    (node) => resourceTypeOf(node) === 'Microsoft.Insights/dataCollectionRules',
  );
  assert.equal(rules.length, 1, 'expected one DCR');
  const { body } = resourceIn(file, nameOf(rules[0] as Node), params);
  return { file, properties: asObject(body['properties'], 'DCR properties'), params };
}

const LOGS_INGESTION: ParamValues = { ...MAIN_PARAMS, logSink: 'logsIngestion', alertsEnabled: true };

describe('Logs Ingestion deployment', () => {
  before(async () => {
    files = await parseBicepFilesUnder('infra');
  });

  describe('generated column lists', () => {
    it('are committed exactly as scripts/generateTableSchemas.ts writes them', async () => {
      const committed = await readFile(join(REPO_ROOT, TABLE_SCHEMAS_PATH), 'utf8').catch(() => '(missing)');
      assert.equal(
        committed,
        renderTableSchemas(),
        `run node dist/scripts/generateTableSchemas.js and commit ${TABLE_SCHEMAS_PATH}`,
      );
    });

    it('start with TimeGenerated and hold legal, unique, unreserved column names', () => {
      const reserved = new Set([
        'id',
        'tenantid',
        'type',
        'title',
        'uniqueid',
        '_resourceid',
        '_subscriptionid',
        '_itemid',
        '_timereceived',
      ]);
      for (const [stream, columns] of Object.entries<TableColumn[]>({ ...tableSchemas() })) {
        assert.deepEqual(columns[0], { name: 'TimeGenerated', type: 'datetime' }, stream);
        const names = columns.map((column) => column.name);
        assert.deepEqual(
          names.filter((name) => !/^[A-Za-z][A-Za-z0-9_]{1,44}$/.test(name)),
          [],
          `${stream}: illegal names`,
        );
        assert.equal(
          new Set(names.map((name) => name.toLowerCase())).size,
          names.length,
          `${stream}: names repeat ignoring case`,
        );
        assert.deepEqual(
          names.filter((name) => reserved.has(name.toLowerCase())),
          [],
          `${stream}: reserved names`,
        );
        assert.ok(columns.length <= 500, `${stream}: over the 500-column cap`);
      }
    });

    it('are what every loadJsonContent() in the templates reads, by a path relative to its own file', () => {
      const loads = files.flatMap((file) =>
        descendants(file.root)
          .filter(
            (node) => node.type === 'call_expression' && node.childForFieldName('function')?.text === 'loadJsonContent',
          )
          .map((node) => {
            const path = stringLiteral(node.childForFieldName('arguments')?.namedChildren[0]);
            return { file: file.path, loads: path === undefined ? node.text : resolveFromBicepFile(file, path) };
          }),
      );
      assert.deepEqual(loads.map((load) => load.file).sort(), [
        'infra/modules/dataCollection.bicep',
        'infra/modules/sentinelTables.bicep',
      ]);
      for (const load of loads) assert.equal(load.loads, TABLE_SCHEMAS_PATH, load.file);
    });
  });

  describe('tables', () => {
    it('are deployed only for logsIngestion, in the Sentinel workspace and its resource group', () => {
      const tables = mainModule('sentinelTables', LOGS_INGESTION);
      assert.equal(tables.deploys, true);
      assert.equal(mainModule('sentinelTables', { ...LOGS_INGESTION, logSink: 'dataCollector' }).deploys, false);
      const scope = property(bodyOf(tables.node), 'scope');
      assert.equal(scope?.childForFieldName('function')?.text, 'resourceGroup');
      const scopeArgs = (scope.childForFieldName('arguments')?.namedChildren ?? []).map((arg) =>
        evaluate(fileAt('infra/main.bicep'), arg, LOGS_INGESTION),
      );
      assert.deepEqual(scopeArgs, ['00000000-0000-0000-0000-000000000001', 'rg-sentinel']);
      assert.equal(tables.params['workspaceName'], 'law-sentinel');
      const workspace = declared(tables.file, 'resource_declaration', 'workspace');
      assert.ok(isExisting(workspace), 'the Sentinel workspace must be referenced, never deployed');
      assert.equal(evaluate(tables.file, property(bodyOf(workspace), 'name'), tables.params), 'law-sentinel');
    });

    it('carry the generated columns, on the Analytics plan, under the names the DCR writes to', () => {
      const { file, params } = mainModule('sentinelTables', LOGS_INGESTION);
      const expected = tableSchemas();
      const found = declarations(file, 'resource_declaration')
        .filter((node) => resourceTypeOf(node) === 'Microsoft.OperationalInsights/workspaces/tables')
        .map((node) => {
          const { deploys, body } = resourceIn(file, nameOf(node), params);
          const properties = asObject(body['properties'], 'table properties');
          const schema = asObject(properties['schema'], 'table schema');
          assert.equal(deploys, true, `${nameOf(node)} is not deployed with alerts on`);
          assert.equal(properties['plan'], 'Analytics');
          assert.equal(schema['name'], body['name']);
          return { name: body['name'], columns: columnsOf(schema['columns']) };
        });
      assert.deepEqual(found, [
        { name: 'MCAS_Activity_Log_CL', columns: expected.activities },
        { name: 'MCAS_Alert_Log_CL', columns: expected.alerts },
      ]);
    });

    it('leave alone the tables named in unmanagedTables, and the alert table while alerts are off', () => {
      const deploys = (mainParams: ParamValues): Value[] => {
        const { file, params } = mainModule('sentinelTables', mainParams);
        return ['activityTable', 'alertTable'].map((name) => resourceIn(file, name, params).deploys);
      };
      assert.deepEqual(deploys(LOGS_INGESTION), [true, true]);
      assert.deepEqual(deploys({ ...LOGS_INGESTION, alertsEnabled: false }), [true, false]);
      assert.deepEqual(deploys({ ...LOGS_INGESTION, unmanagedTables: ['MCAS_Activity_Log_CL'] }), [false, true]);
      // Log Analytics table names ignore case: another spelling names the same table, which must stay alone too.
      assert.deepEqual(deploys({ ...LOGS_INGESTION, unmanagedTables: ['mcas_activity_log_cl'] }), [false, true]);
      assert.deepEqual(deploys({ ...LOGS_INGESTION, unmanagedTables: ['MCAS_ALERT_LOG_CL'] }), [true, false]);
      assert.deepEqual(
        deploys({
          ...LOGS_INGESTION,
          activityTableName: 'MCAS_Activity_v2_CL',
          unmanagedTables: ['MCAS_Activity_Log_CL'],
        }),
        [true, true],
      );
    });
  });

  describe('data collection rule', () => {
    it('is deployed only for logsIngestion, beside its endpoint, in the region of the Sentinel workspace', () => {
      assert.equal(mainModule('dataCollection', LOGS_INGESTION).deploys, true);
      assert.equal(mainModule('dataCollection', { ...LOGS_INGESTION, logSink: 'dataCollector' }).deploys, false);
      const { file, properties, params } = dataCollectionRule(LOGS_INGESTION);
      assert.deepEqual(params['location'], new Unresolved('sentinelWorkspace.location'));
      assert.deepEqual(resourceBehind(file, properties['dataCollectionEndpointId']), {
        name: 'endpoint',
        type: 'Microsoft.Insights/dataCollectionEndpoints',
        existing: false,
      });
      assert.deepEqual(resourceIn(file, 'endpoint', params).body['location'], params['location']);
      assert.deepEqual(resourceIn(file, 'rule', params).body['location'], params['location']);
    });

    it('declares each stream with the generated columns and sends it to its table in the Sentinel workspace', () => {
      const expected = tableSchemas();
      const check = (
        mainParams: ParamValues,
        want: Record<string, { columns: TableColumn[]; table: string }>,
      ): void => {
        const { properties } = dataCollectionRule(mainParams);
        const streams = asObject(properties['streamDeclarations'], 'streamDeclarations');
        assert.deepEqual(Object.keys(streams).sort(), Object.keys(want).sort());
        const destinations = asObject(properties['destinations'], 'destinations');
        assert.ok(Array.isArray(destinations['logAnalytics']) && destinations['logAnalytics'].length === 1);
        const workspace = asObject(destinations['logAnalytics'][0], 'logAnalytics destination');
        assert.deepEqual(workspace['workspaceResourceId'], new Unresolved('sentinelWorkspace.id'));
        const flows = properties['dataFlows'];
        assert.ok(Array.isArray(flows));
        assert.equal(flows.length, Object.keys(want).length);
        for (const [stream, { columns, table }] of Object.entries(want)) {
          assert.deepEqual(columnsOf(asObject(streams[stream], stream)['columns']), columns, stream);
          const flow: { [key: string]: Value } | undefined = flows
            .map((candidate) => asObject(candidate, 'data flow'))
            .find((candidate) => JSON.stringify(candidate['streams']) === JSON.stringify([stream]));
          assert.ok(flow, `no data flow for ${stream}`);
          assert.deepEqual(flow['destinations'], [workspace['name']]);
          assert.equal(flow['outputStream'], `Custom-${table}`);
        }
      };
      check(LOGS_INGESTION, {
        [ACTIVITY_STREAM]: { columns: expected.activities, table: 'MCAS_Activity_Log_CL' },
        [ALERT_STREAM]: { columns: expected.alerts, table: 'MCAS_Alert_Log_CL' },
      });
      check(
        { ...LOGS_INGESTION, alertsEnabled: false, activityTableName: 'MCAS_Activity_v2_CL' },
        {
          [ACTIVITY_STREAM]: { columns: expected.activities, table: 'MCAS_Activity_v2_CL' },
        },
      );
      // The main.bicep wiring relies on it: the workspace the DCR writes to is the one the parameter names.
      const main = fileAt('infra/main.bicep');
      const workspace = declared(main, 'resource_declaration', 'sentinelWorkspace');
      assert.ok(isExisting(workspace));
      assert.equal(resourceTypeOf(workspace), 'Microsoft.OperationalInsights/workspaces');
    });

    it('transforms each stream with KQL that parses against it and yields the table columns, TimeGenerated = the activity time', () => {
      const timeFields: Record<string, string> = {
        [ACTIVITY_STREAM]: ACTIVITIES.timeGeneratedField,
        [ALERT_STREAM]: 'AlertTime',
      };
      const { properties } = dataCollectionRule(LOGS_INGESTION);
      const streams = asObject(properties['streamDeclarations'], 'streamDeclarations');
      const flows = properties['dataFlows'];
      assert.ok(Array.isArray(flows) && flows.length === 2);
      for (const flow of flows.map((candidate) => asObject(candidate, 'data flow'))) {
        const [stream] = flow['streams'] as string[];
        const kql = flow['transformKql'];
        assert.ok(
          stream && typeof kql === 'string',
          `a flow without a stream or transformKql: ${JSON.stringify(flow)}`,
        );
        const columns = columnsOf(asObject(streams[stream], stream)['columns']);
        const analysis = analyzeTransform(kql, columns);
        assert.deepEqual(analysis.diagnostics, [], `${stream}\n${describeDiagnostics(kql, analysis.diagnostics)}`);
        // The table has the stream's columns (both are the generated list), so the output must be exactly those.
        assert.deepEqual(sortedKusto(analysis.columns ?? []), sortedKusto(columns), stream);
        assert.match(kql, new RegExp(`extend TimeGenerated = .*\\b${timeFields[stream]}\\b`), stream);
        assert.deepEqual(unsupportedInTransform(kql), [], `${stream}: not in the KQL subset transformations run`);
      }
    });

    it('flags a transformation that does not parse, or that uses KQL transformations do not run', () => {
      const columns = tableSchemas().activities;
      assert.notDeepEqual(analyzeTransform('source | extend TimeGenerated = ActivityTimes', columns).diagnostics, []);
      assert.deepEqual(
        unsupportedInTransform(
          'source | extend TimeGenerated = coalesce(ActivityTime, TimeGenerated) | summarize count()',
        ),
        ['operator summarize', 'function coalesce()', 'function count()'],
      );
    });

    it("gives the function's identity Monitoring Metrics Publisher on the DCR, and nowhere else in the module", () => {
      const { file, params } = mainModule('dataCollection', LOGS_INGESTION);
      const assignments = declarations(file, 'resource_declaration').filter(
        (node) => resourceTypeOf(node) === 'Microsoft.Authorization/roleAssignments',
      );
      assert.equal(assignments.length, 1);
      const assignment = assignments[0] as Node;
      const scope = property(bodyOf(assignment), 'scope');
      assert.equal(scope?.type, 'identifier');
      assert.equal(
        resourceTypeOf(declared(file, 'resource_declaration', scope.text)),
        'Microsoft.Insights/dataCollectionRules',
      );
      const body = asObject(evaluate(file, bodyOf(assignment), params), 'role assignment');
      const assigned = asObject(body['properties'], 'role assignment properties');
      assert.deepEqual(
        assigned['roleDefinitionId'],
        new Unresolved(
          `subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)`,
        ),
      );
      assert.equal(
        evaluate(
          file,
          assignedValue(declared(file, 'variable_declaration', 'monitoringMetricsPublisherRoleId')),
          params,
        ),
        MONITORING_METRICS_PUBLISHER,
      );
      assert.deepEqual(assigned['principalId'], new Unresolved('identity.outputs.principalId'));
      assert.equal(assigned['principalType'], 'ServicePrincipal');
    });
  });

  describe('app settings', () => {
    function settingsFor(mainParams: ParamValues): Record<string, string> {
      const app = mainModule('functionApp', mainParams);
      const configs = declarations(app.file, 'resource_declaration').filter(
        (node) => resourceTypeOf(node) === 'Microsoft.Web/sites/config',
      );
      assert.equal(configs.length, 1);
      const values = asObject(
        resourceIn(app.file, nameOf(configs[0] as Node), app.params).body['properties'],
        'app settings',
      );
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries(values)) {
        const resolved =
          value instanceof Unresolved && /^\w+\.\??outputs\.\w+$/.test(value.text)
            ? moduleOutput(value, mainParams)
            : value;
        const text = typeof resolved === 'string' ? resolved : DEPLOYMENT_VALUES[name];
        assert.ok(
          text !== undefined,
          `${name} = ${JSON.stringify(resolved)}: add a deployment-time value for it to DEPLOYMENT_VALUES`,
        );
        env[name] = text;
      }
      return env;
    }

    for (const [logSink, alertsEnabled] of [
      ['dataCollector', false],
      ['dataCollector', true],
      ['logsIngestion', false],
      ['logsIngestion', true],
    ] as const) {
      it(`make a config the connector accepts, for logSink=${logSink} and alertsEnabled=${alertsEnabled}`, () => {
        const env = settingsFor({ ...MAIN_PARAMS, logSink, alertsEnabled });
        const config = readConfig(env);
        assert.equal(config.sink.kind, logSink);
        assert.equal(config.alertsEnabled, alertsEnabled);
        if (config.sink.kind === 'logsIngestion') {
          assert.equal(config.sink.streamName, ACTIVITY_STREAM);
          assert.equal(config.sink.endpoint, DEPLOYMENT_VALUES['LOGS_INGESTION_ENDPOINT']);
        } else {
          assert.deepEqual(
            [env['LOGS_INGESTION_ENDPOINT'], env['LOGS_INGESTION_DCR_ID'], env['LOGS_INGESTION_STREAM']],
            ['', '', ''],
          );
        }
      });
    }

    it("take the DCE's endpoint and the DCR's immutable id from the data collection module", () => {
      const app = mainModule('functionApp', LOGS_INGESTION);
      const { file } = mainModule('dataCollection', LOGS_INGESTION);
      const endpoint = moduleOutput(app.params['logsIngestionEndpoint'], LOGS_INGESTION);
      assert.deepEqual(endpoint, new Unresolved('endpoint.properties.logsIngestion.endpoint'));
      assert.equal(resourceBehind(file, endpoint).type, 'Microsoft.Insights/dataCollectionEndpoints');
      const ruleId = moduleOutput(app.params['logsIngestionDcrImmutableId'], LOGS_INGESTION);
      assert.deepEqual(ruleId, new Unresolved('rule.properties.immutableId'));
      assert.equal(resourceBehind(file, ruleId).type, 'Microsoft.Insights/dataCollectionRules');
      assert.equal(moduleOutput(app.params['logsIngestionStream'], LOGS_INGESTION), ACTIVITY_STREAM);
    });

    it('offer the sinks the connector knows, defaulting to the same one', () => {
      const main = fileAt('infra/main.bicep');
      const logSink = declared(main, 'parameter_declaration', 'logSink');
      const allowed = decoratorsOf(logSink)
        .get('allowed')?.[0]
        ?.namedChildren.map((node) => literal(node));
      assert.deepEqual(allowed, ['dataCollector', 'logsIngestion']);
      assert.equal(evaluate(main, assignedValue(logSink), {}), DEFAULTS.LOG_SINK);
      // The Bicep default is a boolean; the connector's is the setting's text: the boolean as JSON writes it.
      assert.equal(
        JSON.stringify(evaluate(main, assignedValue(declared(main, 'parameter_declaration', 'alertsEnabled')), {})),
        DEFAULTS.MCAS_ALERTS_ENABLED,
      );
    });

    it('set AZURE_CLOUD from the cloud the deployment runs in, for each cloud the connector knows', () => {
      const main = fileAt('infra/main.bicep');
      const app = mainModule('functionApp', LOGS_INGESTION);
      assert.deepEqual(app.params['azureCloud'], new Unresolved('azureCloudNames[environment().name]'));
      const names = asObject(
        evaluate(main, assignedValue(declared(main, 'variable_declaration', 'azureCloudNames')), {}),
        'azureCloudNames',
      );
      assert.deepEqual(names, { AzureCloud: 'public', AzureUSGovernment: 'usgov', AzureChinaCloud: 'china' });
      assert.deepEqual(Object.values(names).sort(), [...AZURE_CLOUD_NAMES].sort());
    });

    it('output the DCR and its endpoint for logsIngestion, and nothing for dataCollector', () => {
      const main = fileAt('infra/main.bicep');
      const outputs = (mainParams: ParamValues): Record<string, Value> =>
        Object.fromEntries(
          ['LOGS_INGESTION_DCR_RESOURCE_ID', 'LOGS_INGESTION_DCR_ID', 'LOGS_INGESTION_ENDPOINT'].map((name) => [
            name,
            evaluate(main, assignedValue(declared(main, 'output_declaration', name)), mainParams),
          ]),
        );
      assert.deepEqual(outputs({ ...LOGS_INGESTION, logSink: 'dataCollector' }), {
        LOGS_INGESTION_DCR_RESOURCE_ID: '',
        LOGS_INGESTION_DCR_ID: '',
        LOGS_INGESTION_ENDPOINT: '',
      });
      const logsIngestion = outputs(LOGS_INGESTION);
      assert.deepEqual(
        moduleOutput(logsIngestion['LOGS_INGESTION_DCR_RESOURCE_ID'], LOGS_INGESTION),
        new Unresolved('rule.id'),
      );
      assert.deepEqual(
        moduleOutput(logsIngestion['LOGS_INGESTION_DCR_ID'], LOGS_INGESTION),
        new Unresolved('rule.properties.immutableId'),
      );
      assert.deepEqual(
        moduleOutput(logsIngestion['LOGS_INGESTION_ENDPOINT'], LOGS_INGESTION),
        new Unresolved('endpoint.properties.logsIngestion.endpoint'),
      );
    });
  });
  // Here rather than in a file of its own: the Kusto language service takes seconds to load, once per test process.
  describe('Key Vault audit query in infra/README.md', () => {
    /** AZKVAuditLogs columns the query may use, from Azure Monitor's table reference (Azure Monitor Logs). */
    const AUDIT_COLUMNS: StreamColumn[] = [
      { name: 'TimeGenerated', type: 'datetime' },
      { name: 'OperationName', type: 'string' },
      { name: 'Id', type: 'string' },
      { name: 'Identity', type: 'dynamic' },
      { name: 'CallerIpAddress', type: 'string' },
      { name: 'ResultSignature', type: 'string' },
      { name: 'ResultType', type: 'string' },
      { name: 'HttpStatusCode', type: 'int' },
      { name: 'RequestUri', type: 'string' },
      { name: 'ClientInfo', type: 'string' },
      { name: '_ResourceId', type: 'string' },
    ];

    it('parses, against the resource-specific table the diagnostic setting writes', async () => {
      const readme = await readFile(join(REPO_ROOT, 'infra/README.md'), 'utf8');
      const queries = [...readme.matchAll(/```kusto\n(AZKVAuditLogs[\s\S]*?)```/g)].map((match) => match[1] ?? '');
      assert.equal(queries.length, 1, 'expected one AZKVAuditLogs query in infra/README.md');
      const query = queries[0] ?? '';
      const { diagnostics, columns } = analyzeAgainstTable(query, 'AZKVAuditLogs', AUDIT_COLUMNS);
      assert.deepEqual(diagnostics, [], describeDiagnostics(query, diagnostics));
      assert.deepEqual(
        columns?.map((column) => column.name).sort(),
        ['CallerIpAddress', 'Caller', 'First', 'Last', 'Reads', 'ResultSignature', 'Secret'].sort(),
      );
    });
  });
});
