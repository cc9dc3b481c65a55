// The generated forms of the Sentinel content (ASim parsers, arm/ templates, the Content Hub package, the KQL
// validation schemas) are identical to what sentinel/tools/buildArtifacts.mjs builds from the sources; the package is
// a valid ARM template that holds every piece; and the solution passes the logic of Azure-Sentinel's public
// validators (`.script/`: data connector, solution, workbook metadata and template, JSON, document links).
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';

import { unzipSync, zipSync } from 'fflate';

import {
  parserFunctions,
  readAnalyticRules,
  readHuntingQueries,
  readJson,
  readParsers,
  readText,
  readWorkbook,
  REPO_ROOT,
  SENTINEL_DIR,
  SOLUTION,
} from './content.js';
import { analyseWorkspace, analyzeKql, describeDiagnostics } from './kusto.js';
import { CONNECTOR_ID, TABLE_DATA_TYPE } from './sentinelYaml.js';

interface BuildTool {
  buildArtifacts(sentinelDir?: string): Map<string, string | Buffer>;
  staleArtifacts(sentinelDir: string): string[];
}

const tool = (await import(pathToFileURL(`${SENTINEL_DIR}tools/buildArtifacts.mjs`).href)) as BuildTool;

type Json = Record<string, unknown>;

const PACKAGE = `${SOLUTION}/Package`;
const mainTemplate = readJson(`${PACKAGE}/mainTemplate.json`);
const createUiDefinition = readJson(`${PACKAGE}/createUiDefinition.json`);
const connector = readJson(`${SOLUTION}/Data Connectors/MCASActivityConnector_API_FunctionApp.json`);

/** Every object in a JSON tree, depth first. */
function objectsIn(value: unknown): Json[] {
  if (Array.isArray(value)) return value.flatMap(objectsIn);
  if (value !== null && typeof value === 'object') {
    return [value as Json, ...Object.values(value as Json).flatMap(objectsIn)];
  }
  return [];
}

function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value as Json).flatMap(stringsIn);
  return [];
}

function resourcesOfType(type: string): Json[] {
  return objectsIn(mainTemplate['resources']).filter((object) => object['type'] === type);
}

/**
 * Problems with the ARM expressions in a template: each string that ARM reads as an expression (`[...]`, not `[[`)
 * must have balanced parentheses and quotes, and name only declared parameters and variables.
 */
function expressionProblems(template: Json): string[] {
  const parameters = new Set(Object.keys(template['parameters'] ?? {}));
  const variables = new Set(Object.keys(template['variables'] ?? {}));
  const problems: string[] = [];
  for (const text of stringsIn(template['resources'])) {
    if (!text.startsWith('[') || text.startsWith('[[') || !text.endsWith(']')) continue;
    let depth = 0;
    let quoted = false;
    for (const char of text.slice(1, -1)) {
      if (char === "'") quoted = !quoted;
      else if (!quoted && char === '(') depth += 1;
      else if (!quoted && char === ')') depth -= 1;
      if (depth < 0) break;
    }
    if (depth !== 0 || quoted) problems.push(`unbalanced expression: ${text}`);
    for (const match of text.matchAll(/parameters\('([^']+)'\)/g)) {
      if (!parameters.has(match[1] ?? '')) problems.push(`unknown parameter ${match[1]} in ${text}`);
    }
    for (const match of text.matchAll(/variables\('([^']+)'\)/g)) {
      if (!variables.has(match[1] ?? '')) problems.push(`unknown variable ${match[1]} in ${text}`);
    }
  }
  return problems;
}

/** Azure-Sentinel's branding check: "Sentinel" only as "Microsoft Sentinel" (or inside a hyphenated word). */
function brandingProblems(text: string): string[] {
  return [...text.matchAll(/(?<!Microsoft\s)(?<!-)\bSentinel\b/g)].map(
    (match) =>
      `"Sentinel" without "Microsoft" at ${match.index}: ${text.slice(Math.max(0, match.index - 40), match.index + 20)}`,
  );
}

describe('generated Sentinel artifacts', () => {
  it('are up to date with their sources', () => {
    const stale = tool.staleArtifacts(SENTINEL_DIR);
    assert.deepEqual(stale, [], `Stale: ${stale.join(', ')}. Run: node sentinel/tools/buildArtifacts.mjs`);
  });

  it('zip the package for Content Hub: Package/<Version>.zip holds exactly the generated template and wizard', () => {
    const version = String(readJson(`${SOLUTION}/Data/Solution_MCASActivityConnector.json`)['Version']);
    assert.match(version, /^\d+\.\d+\.\d+$/);
    const entries = unzipSync(readFileSync(`${REPO_ROOT}${PACKAGE}/${version}.zip`));
    assert.deepEqual(Object.keys(entries).sort(), ['createUiDefinition.json', 'mainTemplate.json']);
    for (const [name, bytes] of Object.entries(entries)) {
      assert.equal(Buffer.from(bytes).toString('utf8'), readText(`${PACKAGE}/${name}`), `${name} in the zip`);
    }
  });

  it('report the package zip stale when it holds another template, or is no zip', (t) => {
    const copy = `${mkdtempSync(join(tmpdir(), 'sentinel-'))}/`;
    t.after(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(SENTINEL_DIR, copy, { recursive: true });
    const version = String(readJson(`${SOLUTION}/Data/Solution_MCASActivityConnector.json`)['Version']);
    const zipPath = `Solutions/MCASActivityConnector/Package/${version}.zip`;
    const older = readText(`${PACKAGE}/mainTemplate.json`).replace('"contentVersion"', '"contentVersion" ');
    writeFileSync(
      `${copy}${zipPath}`,
      zipSync({
        'mainTemplate.json': Buffer.from(older),
        'createUiDefinition.json': Buffer.from(readText(`${PACKAGE}/createUiDefinition.json`)),
      }),
    );
    assert.deepEqual(tool.staleArtifacts(copy), [zipPath]);
    writeFileSync(`${copy}${zipPath}`, 'not a zip');
    assert.deepEqual(tool.staleArtifacts(copy), [zipPath]);
  });

  it('are reported stale when a parser changes and they are not rebuilt', (t) => {
    const copy = `${mkdtempSync(join(tmpdir(), 'sentinel-'))}/`;
    t.after(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(SENTINEL_DIR, copy, { recursive: true });
    const vim = `${copy}Solutions/MCASActivityConnector/Parsers/vimAuthenticationMCASActivity.yaml`;
    writeFileSync(vim, readFileSync(vim, 'utf8').replace("'Logoff', 'Logon'", "'Logoff', 'Logon' ")); // same KQL, new text
    const stale = tool.staleArtifacts(copy);
    for (const path of [
      'Solutions/MCASActivityConnector/Parsers/ASimAuthenticationMCASActivity.yaml',
      'arm/parsers.json',
      'Solutions/MCASActivityConnector/Package/mainTemplate.json',
    ]) {
      assert.ok(stale.includes(path), `${path} in ${stale.join(', ')}`);
    }
  });

  it('make each ASim parser the vim parser with its filters bound to "no filter"', () => {
    const parsers = readParsers();
    for (const vim of parsers.filter((parser) => parser.function.name.startsWith('vim'))) {
      const asim = parsers.find((parser) => parser.function.name === vim.function.name.replace(/^vim/, 'ASim'));
      assert.ok(asim, `ASim form of ${vim.function.name}`);
      assert.equal(asim.function.parameters, '(disabled:bool=false)');
      assert.ok(asim.function.body.endsWith(vim.function.body), asim.function.name);
      assert.match(asim.function.body, /^let starttime = datetime\(null\);\nlet endtime = datetime\(null\);/);
    }
  });

  it('turn each rule into an alert rule with the YAML event grouping, incident settings and ISO 8601 durations', () => {
    const rules = readAnalyticRules();
    const resources = readJson('sentinel/arm/analytic-rules.json')['resources'] as Json[];
    assert.equal(resources.length, rules.length);
    for (const rule of rules) {
      const resource = resources.find((candidate) =>
        String(candidate['name']).endsWith(`/${String(rule.content['id'])}')]`),
      );
      assert.ok(resource, `${rule.file} has a resource`);
      assert.equal(resource['type'], 'Microsoft.OperationalInsights/workspaces/providers/alertRules');
      const properties = resource['properties'] as Json;
      assert.equal(properties['displayName'], rule.content['name']);
      assert.equal(properties['query'], rule.content['query']);
      assert.match(String(properties['queryFrequency']), /^PT\d+[HM]$|^P\d+D$/);
      assert.match(String(properties['queryPeriod']), /^PT\d+[HM]$|^P\d+D$/);
      assert.deepEqual(properties['eventGroupingSettings'], rule.content['eventGroupingSettings']);
      assert.deepEqual(properties['entityMappings'], rule.content['entityMappings']);
      const incident = properties['incidentConfiguration'] as Json;
      assert.equal(incident['createIncident'], (rule.content['incidentConfiguration'] as Json)['createIncident']);
    }
    const admin = resources.find((resource) => String(resource['name']).includes('cee9be74'));
    assert.equal((admin?.['properties'] as Json)['queryPeriod'], 'P14D');
  });

  it('save each hunting query in the Hunting Queries category with its tactics', () => {
    const queries = readHuntingQueries();
    const resources = readJson('sentinel/arm/hunting-queries.json')['resources'] as Json[];
    assert.equal(resources.length, queries.length);
    for (const query of queries) {
      const resource = resources.find((candidate) => String(candidate['name']).includes(String(query.content['id'])));
      const properties = resource?.['properties'] as Json;
      assert.equal(properties['category'], 'Hunting Queries', query.file);
      assert.equal(properties['query'], query.content['query']);
      assert.deepEqual(properties['tags'], [
        { name: 'description', value: String(query.content['description']).trim() },
        { name: 'tactics', value: (query.content['tactics'] as string[]).join(',') },
        { name: 'techniques', value: (query.content['relevantTechniques'] as string[]).join(',') },
      ]);
    }
  });

  it('save every parser as a function with its parameters, the ASIM ones after MCASActivity', () => {
    const resources = readJson('sentinel/arm/parsers.json')['resources'] as Json[];
    const aliases = resources.map((resource) => String((resource['properties'] as Json)['functionAlias']));
    assert.equal(aliases[0], 'MCASActivity');
    assert.deepEqual(
      [...aliases].sort(),
      parserFunctions()
        .map((fn) => fn.name)
        .sort(),
    );
    for (const fn of parserFunctions()) {
      const resource = resources[aliases.indexOf(fn.name)] ?? assert.fail(fn.name);
      const properties = resource['properties'] as Json;
      assert.equal(properties['query'], fn.body);
      assert.equal(properties['functionParameters'], fn.parameters.slice(1, -1));
      if (fn.name !== 'MCASActivity') assert.match(JSON.stringify(resource['dependsOn']), /'MCASActivity'\)\]/);
    }
  });

  it('give Azure-Sentinel KQL validation the table with both sinks columns and each parser with its result', () => {
    const table = readJson('sentinel/kql-validation/CustomTables/MCAS_Activity_Log_CL.json');
    const names = (table['Properties'] as Json[]).map((property) => property['name']);
    for (const name of [
      'ActivityId',
      'ActivityId_s',
      'ActivityId_g',
      'ActivityTime_t',
      'IsSuccess_b',
      'TimeGenerated',
    ]) {
      assert.ok(names.includes(name), name);
    }
    const files = readdirSync(`${SENTINEL_DIR}kql-validation/CustomFunctions`).sort();
    assert.deepEqual(
      files,
      parserFunctions()
        .map((fn) => `${fn.name}.json`)
        .sort(),
    );
    const vim = readJson('sentinel/kql-validation/CustomFunctions/vimAuthenticationMCASActivity.json');
    assert.ok(
      (vim['FunctionParameters'] as Json[]).some(
        (param) => param['Name'] === 'eventresult' && param['Type'] === 'string',
      ),
    );
    assert.ok((vim['FunctionResultColumns'] as Json[]).some((column) => column['Name'] === 'EventResult'));
  });
});

describe('Content Hub package', () => {
  it('is an ARM deployment template whose expressions name only declared parameters and variables', () => {
    assert.equal(
      mainTemplate['$schema'],
      'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#',
    );
    assert.match(String(mainTemplate['contentVersion']), /^\d+\.\d+\.\d+\.\d+$/);
    for (const [name, parameter] of Object.entries(mainTemplate['parameters'] as Record<string, Json>)) {
      assert.ok(['string', 'int', 'bool', 'object', 'array', 'securestring'].includes(String(parameter['type'])), name);
    }
    for (const resource of mainTemplate['resources'] as Json[]) {
      for (const field of ['type', 'apiVersion', 'name'])
        assert.ok(resource[field], `${String(resource['name'])}: ${field}`);
    }
    assert.deepEqual(expressionProblems(mainTemplate), []);
  });

  it('reports an expression that names an undeclared parameter or is unbalanced', () => {
    const broken = {
      parameters: { workspace: { type: 'string' } },
      resources: [{ name: "[concat(parameters('workspace'), parameters('wrkspace'))]", other: "[concat('a'" + ']' }],
    };
    assert.deepEqual(expressionProblems(broken), [
      "unknown parameter wrkspace in [concat(parameters('workspace'), parameters('wrkspace'))]",
      "unbalanced expression: [concat('a']",
    ]);
  });

  it('holds every rule, hunting query, parser, the workbook and the connector', () => {
    const ruleTemplates = resourcesOfType('Microsoft.SecurityInsights/AlertRuleTemplates');
    assert.deepEqual(
      ruleTemplates.map((resource) => resource['name']).sort(),
      readAnalyticRules()
        .map((rule) => rule.content['id'])
        .sort(),
    );
    for (const rule of readAnalyticRules()) {
      const properties = ruleTemplates.find((resource) => resource['name'] === rule.content['id'])?.[
        'properties'
      ] as Json;
      assert.equal(properties['query'], rule.content['query']);
      assert.deepEqual(properties['requiredDataConnectors'], rule.content['requiredDataConnectors']);
      assert.deepEqual(properties['eventGroupingSettings'], rule.content['eventGroupingSettings']);
    }
    const hunting = resourcesOfType('Microsoft.OperationalInsights/savedSearches');
    assert.deepEqual(
      hunting.map((resource) => resource['name']).sort(),
      readHuntingQueries()
        .map((query) => query.content['id'])
        .sort(),
    );
    const functions = resourcesOfType('Microsoft.OperationalInsights/workspaces/savedSearches');
    for (const fn of parserFunctions()) {
      const saved = functions.filter((resource) => (resource['properties'] as Json)['functionAlias'] === fn.name);
      assert.equal(saved.length, 2, `${fn.name}: installed now and as a content template`);
      for (const resource of saved) assert.equal((resource['properties'] as Json)['query'], fn.body);
    }
    const [workbook] = resourcesOfType('Microsoft.Insights/workbooks');
    assert.deepEqual(JSON.parse(String((workbook?.['properties'] as Json)['serializedData'])), readWorkbook());
    const connectors = resourcesOfType('Microsoft.OperationalInsights/workspaces/providers/dataConnectors');
    assert.equal(connectors.length, 2);
    for (const resource of connectors) {
      assert.equal(resource['kind'], 'GenericUI');
      assert.deepEqual((resource['properties'] as Json)['connectorUiConfig'], connector);
    }
  });

  it('lists every content template as a dependency of the solution, each with a metadata record', () => {
    const [solution] = resourcesOfType('Microsoft.OperationalInsights/workspaces/providers/contentPackages');
    const properties = solution?.['properties'] as Json;
    const criteria = (properties['dependencies'] as Json)['criteria'] as Json[];
    const templates = resourcesOfType('Microsoft.OperationalInsights/workspaces/providers/contentTemplates');
    assert.equal(templates.length, 1 + 9 + readAnalyticRules().length + readHuntingQueries().length + 1);
    assert.deepEqual(
      criteria.map((criterion) => criterion['contentId']).sort(),
      templates.map((template) => (template['properties'] as Json)['contentId']).sort(),
    );
    for (const template of templates) {
      const inner = (template['properties'] as Json)['mainTemplate'] as Json;
      const kinds = (inner['resources'] as Json[]).map((resource) => resource['type']);
      assert.ok(
        kinds.includes('Microsoft.OperationalInsights/workspaces/providers/metadata'),
        String(template['name']),
      );
      assert.deepEqual(template['dependsOn'], [
        "[extensionResourceId(resourceId('Microsoft.OperationalInsights/workspaces', parameters('workspace')), 'Microsoft.SecurityInsights/contentPackages', variables('_solutionId'))]",
      ]);
    }
    const kindsListed = new Set(criteria.map((criterion) => criterion['kind']));
    assert.deepEqual([...kindsListed].sort(), ['AnalyticsRule', 'DataConnector', 'HuntingQuery', 'Parser', 'Workbook']);
  });

  it('passes the solution validators: support, domains and verticals, branding', () => {
    const validDomains = ['Identity', 'Security - Cloud Security', 'Security - Threat Protection', 'Security - Others'];
    const records = [
      ...resourcesOfType('Microsoft.OperationalInsights/workspaces/providers/metadata'),
      ...resourcesOfType('Microsoft.OperationalInsights/workspaces/providers/contentPackages'),
    ];
    assert.ok(records.length > 1);
    for (const record of records) {
      const support = (record['properties'] as Json)['support'] as Json;
      assert.ok(String(support['name']).trim() !== '');
      const link = support['link'];
      assert.ok(typeof link === 'string', `support link: ${JSON.stringify(link)}`);
      assert.match(link, /^https?:\/\/\S+$/);
    }
    const [solution] = resourcesOfType('Microsoft.OperationalInsights/workspaces/providers/contentPackages');
    const domains = (((solution?.['properties'] as Json)['categories'] as Json)['domains'] ?? []) as string[];
    assert.ok(domains.length > 0 && domains.every((domain) => validDomains.includes(domain)), domains.join(', '));
    assert.deepEqual(brandingProblems(readText(`${PACKAGE}/mainTemplate.json`)), []);
    assert.deepEqual(brandingProblems(readText(`${PACKAGE}/createUiDefinition.json`)), []);
    assert.equal(brandingProblems('Open the Sentinel workspace').length, 1);
  });

  it('has an install wizard that gives the template every parameter it declares', () => {
    assert.equal(createUiDefinition['handler'], 'Microsoft.Azure.CreateUIDef');
    const parameters = createUiDefinition['parameters'] as Json;
    const outputs = parameters['outputs'] as Json;
    assert.deepEqual(Object.keys(outputs).sort(), Object.keys(mainTemplate['parameters'] as Json).sort());
    const elementNames = new Set(objectsIn(parameters['steps']).map((object) => object['name']));
    for (const value of Object.values(outputs)) {
      for (const match of String(value).matchAll(/steps\('(\w+)'\)\.([\w-]+)/g)) {
        assert.ok(elementNames.has(match[1]) && elementNames.has(match[2]), String(value));
      }
    }
  });
});

describe('solution layout and Azure-Sentinel validators', () => {
  it('lists in Data/Solution_*.json exactly the content files the solution folders hold', () => {
    const data = readJson(`${SOLUTION}/Data/Solution_MCASActivityConnector.json`);
    const solutionDir = `${REPO_ROOT}${SOLUTION}/`;
    for (const folder of ['Analytic Rules', 'Hunting Queries', 'Parsers', 'Data Connectors']) {
      const onDisk = readdirSync(`${solutionDir}${folder}`)
        .map((name) => `${folder}/${name}`)
        .sort();
      assert.deepEqual([...((data[folder] ?? []) as string[])].sort(), onDisk, folder);
    }
    assert.deepEqual(data['Workbooks'], ['Workbooks/MCASActivity.json']);
    assert.equal(data['Metadata'], 'SolutionMetadata.json');
    assert.ok(existsSync(`${solutionDir}SolutionMetadata.json`));
  });

  it('has a data connector definition that passes the Azure Function connector checks', () => {
    const dataTypes = connector['dataTypes'] as Json[];
    // dataConnectorValidator: a _CL table with a "[Deploy To Azure]" step is an Azure Function connector.
    assert.ok(String(dataTypes[0]?.['name']).endsWith('_CL'));
    assert.ok(JSON.stringify(connector['instructionSteps']).includes('[Deploy To Azure]'));
    for (const field of [
      'id',
      'title',
      'publisher',
      'descriptionMarkdown',
      'graphQueries',
      'sampleQueries',
      'dataTypes',
      'connectivityCriterias',
      'availability',
      'permissions',
      'instructionSteps',
    ]) {
      assert.ok(connector[field] !== undefined, field);
    }
    assert.equal(connector['id'], CONNECTOR_ID);
    assert.doesNotMatch(connector['id'], /\s/);
    for (const dataType of dataTypes) {
      assert.doesNotMatch(String(dataType['name']), /\s/);
      assert.ok(String(dataType['lastDataReceivedQuery']).length > 0);
    }
    assert.deepEqual(
      dataTypes.map((dataType) => dataType['name']),
      [TABLE_DATA_TYPE],
    );
    for (const query of connector['graphQueries'] as Json[]) {
      for (const field of ['metricName', 'legend', 'baseQuery']) assert.equal(typeof query[field], 'string', field);
    }
    for (const criterion of connector['connectivityCriterias'] as Json[]) {
      assert.equal(typeof criterion['type'], 'string');
      assert.ok(Array.isArray(criterion['value']));
    }
    const availability = connector['availability'] as Json;
    assert.ok(Number.isInteger(availability['status']) && typeof availability['isPreview'] === 'boolean');
    // permissionsChecker: the Azure Function template's workspace and key permissions, exactly, and the Functions one.
    const permissions = connector['permissions'] as Json;
    assert.deepEqual(
      (permissions['resourceProvider'] as Json[]).map((provider) => provider['provider']),
      ['Microsoft.OperationalInsights/workspaces', 'Microsoft.OperationalInsights/workspaces/sharedKeys'],
    );
    assert.deepEqual(((permissions['resourceProvider'] as Json[])[0] ?? {})['requiredPermissions'], {
      write: true,
      read: true,
      delete: true,
    });
    assert.ok(
      (permissions['customs'] as Json[]).some(
        (custom) =>
          custom['name'] === 'Microsoft.Web/sites permissions' &&
          custom['description'] ===
            'Read and write permissions to Azure Functions to create a Function App is required. [See the documentation to learn more about Azure Functions](https://docs.microsoft.com/azure/azure-functions/).',
      ),
    );
  });

  it("has connector queries that analyse cleanly against the table and the solution's parsers", () => {
    const { globals } = analyseWorkspace('dataCollector', parserFunctions());
    const queries = [
      ...(connector['graphQueries'] as Json[]).map((query) => String(query['baseQuery'])),
      ...(connector['sampleQueries'] as Json[]).map((query) => String(query['query'])),
      ...(connector['dataTypes'] as Json[]).map((dataType) => String(dataType['lastDataReceivedQuery'])),
      ...(connector['connectivityCriterias'] as Json[]).flatMap((criterion) =>
        (criterion['value'] as string[]).map(String),
      ),
    ];
    assert.ok(queries.length >= 5);
    for (const query of queries) {
      const { diagnostics } = analyzeKql(query, globals);
      assert.deepEqual(diagnostics, [], `${query}\n${describeDiagnostics(query, diagnostics)}`);
    }
  });

  it('has workbook metadata in the workbooks metadata schema, with Black and White preview images', () => {
    const [entry, ...others] = readJson(`${SOLUTION}/Workbooks/WorkbooksMetadata.json`) as unknown as Json[];
    assert.equal(others.length, 0);
    assert.ok(entry);
    const required = [
      'workbookKey',
      'logoFileName',
      'description',
      'dataTypesDependencies',
      'dataConnectorsDependencies',
      'previewImagesFileNames',
      'version',
      'title',
      'templateRelativePath',
      'subtitle',
      'provider',
    ];
    const allowed = [
      ...required,
      'featureFlag',
      'source',
      'author',
      'support',
      'categories',
      'threatAnalysisTactics',
      'threatAnalysisTechniques',
    ];
    for (const field of required) assert.ok(entry[field] !== undefined, field);
    for (const field of Object.keys(entry)) assert.ok(allowed.includes(field), `no additional property ${field}`);
    assert.deepEqual(entry['dataTypesDependencies'], [TABLE_DATA_TYPE]);
    assert.deepEqual(entry['dataConnectorsDependencies'], [CONNECTOR_ID]);
    assert.ok(existsSync(`${REPO_ROOT}${SOLUTION}/Workbooks/${String(entry['templateRelativePath'])}`));
    assert.ok(existsSync(`${SENTINEL_DIR}Logos/${String(entry['logoFileName'])}`));
    // previewImageChecker: PNG files, each named Black or White, at least one of each.
    const images = entry['previewImagesFileNames'] as string[];
    assert.ok(images.some((name) => name.includes('Black')) && images.some((name) => name.includes('White')));
    for (const name of images) {
      assert.ok(/(Black|White)\.png$/.test(name), name);
      const png = readFileSync(`${REPO_ROOT}${SOLUTION}/Workbooks/Images/Preview/${name}`);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${name} is a PNG`);
      assert.ok(png.length > 50_000, `${name} is a real picture`);
    }
    // The workbook template checks: a template id of its own, and no resource of anyone's subscription in it.
    const workbook = readWorkbook();
    assert.equal(workbook['fromTemplateId'], `sentinel-${String(entry['workbookKey'])}`);
    assert.doesNotMatch(JSON.stringify(workbook), /subscriptions\/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-/);
  });

  it('has no locale in Microsoft documentation links and only valid JSON and YAML files', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
      );
    const texts = files(SENTINEL_DIR).filter((file) => /\.(json|yaml|md|kql)$/.test(file));
    assert.ok(texts.length > 30);
    for (const file of texts) {
      const text = readFileSync(file, 'utf8');
      assert.doesNotMatch(
        text,
        /(https:\/\/docs.microsoft.com|https:\/\/azure.microsoft.com)(\/[a-z]{2}-[a-z]{2})/i,
        file,
      );
      if (file.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(text) as unknown, file);
    }
  });
});
