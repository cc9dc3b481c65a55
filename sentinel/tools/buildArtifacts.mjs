// Builds the importable forms of the Sentinel content from its sources, so each query is written once:
// parsers/MCASActivity.kql -> parsers/MCASActivity.yaml (Sentinel parser YAML) and arm/parser.json (saved function);
// analytic-rules/*.yaml -> arm/analytic-rules.json (the template Analytics > Import and `az deployment` take);
// hunting/*.yaml -> arm/hunting-queries.json (saved searches in the Hunting Queries category).
// Usage: node sentinel/tools/buildArtifacts.mjs [--check] [--dir <sentinel dir>]
//   --check: write nothing, exit 1 if a generated file is missing or stale (npm test runs this).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

const dirFlag = process.argv.indexOf('--dir');
const SENTINEL_DIR =
  dirFlag === -1 ? fileURLToPath(new URL('../', import.meta.url)) : `${process.argv[dirFlag + 1].replace(/\/$/, '')}/`;
const ARM_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
const FUNCTION_ALIAS = 'MCASActivity';
const PARSER_ID = '25a6ccd1-f7ec-4962-a649-55ed12e0c655';
const PARSER_VERSION = '1.0.0';
const ALERT_RULES_API_VERSION = '2023-02-01';
const SAVED_SEARCHES_API_VERSION = '2020-08-01';

const TRIGGER_OPERATORS = { gt: 'GreaterThan', lt: 'LessThan', eq: 'Equal', ne: 'NotEqual' };

/** `1h` -> `PT1H`, `14d` -> `P14D`, `30m` -> `PT30M`: the YAML rule format's durations as ISO 8601. */
export function toIsoDuration(duration) {
  const match = /^(\d+)([mhd])$/.exec(String(duration));
  if (match === null) throw new Error(`unsupported duration ${JSON.stringify(duration)} (expected e.g. 30m, 1h, 14d)`);
  const [, amount, unit] = match;
  return unit === 'd' ? `P${amount}D` : `PT${amount}${unit.toUpperCase()}`;
}

function read(relativePath) {
  return readFileSync(`${SENTINEL_DIR}${relativePath}`, 'utf8');
}

function json(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The parser in the Azure-Sentinel parser YAML form (Parsers/*.yaml there), query as a literal block. */
function parserYaml(query) {
  const body = query
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (line === '' ? '' : `  ${line}`))
    .join('\n');
  return [
    '# Generated from MCASActivity.kql by sentinel/tools/buildArtifacts.mjs; edit the .kql, then run the tool.',
    `id: ${PARSER_ID}`,
    'Function:',
    '  Title: Parser for MCAS_Activity_Log_CL (Defender for Cloud Apps activities, both sinks, deduplicated)',
    `  Version: '${PARSER_VERSION}'`,
    'Category: Microsoft Sentinel Parser',
    `FunctionName: ${FUNCTION_ALIAS}`,
    `FunctionAlias: ${FUNCTION_ALIAS}`,
    'FunctionQuery: |',
    body,
    '',
  ].join('\n');
}

/** An ARM template that saves the parser as a workspace function with alias MCASActivity. */
function parserTemplate(query) {
  return {
    $schema: ARM_SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: {
      workspace: {
        type: 'string',
        metadata: { description: 'Name of the Log Analytics workspace that holds MCAS_Activity_Log_CL.' },
      },
    },
    resources: [
      {
        type: 'Microsoft.OperationalInsights/workspaces/savedSearches',
        apiVersion: SAVED_SEARCHES_API_VERSION,
        name: `[concat(parameters('workspace'), '/${FUNCTION_ALIAS}')]`,
        properties: {
          category: 'Microsoft Sentinel Parser',
          displayName: 'MCASActivity: Defender for Cloud Apps activities (both sinks, deduplicated)',
          functionAlias: FUNCTION_ALIAS,
          query,
          version: 2,
        },
      },
    ],
  };
}

/** One scheduled rule as a Microsoft.SecurityInsights alert rule resource, in the form Sentinel exports. */
function ruleResource(rule, file) {
  const triggerOperator = TRIGGER_OPERATORS[rule.triggerOperator];
  if (triggerOperator === undefined) throw new Error(`${file}: unknown triggerOperator ${rule.triggerOperator}`);
  const properties = {
    displayName: rule.name,
    description: rule.description,
    severity: rule.severity,
    enabled: true,
    query: rule.query,
    queryFrequency: toIsoDuration(rule.queryFrequency),
    queryPeriod: toIsoDuration(rule.queryPeriod),
    triggerOperator,
    triggerThreshold: rule.triggerThreshold,
    suppressionDuration: 'PT5H',
    suppressionEnabled: false,
    tactics: rule.tactics,
    techniques: rule.relevantTechniques.map((technique) => technique.split('.')[0]),
    entityMappings: rule.entityMappings,
    incidentConfiguration: {
      createIncident: true,
      groupingConfiguration: {
        enabled: false,
        reopenClosedIncident: false,
        lookbackDuration: 'PT5H',
        matchingMethod: 'AllEntities',
        groupByEntities: [],
        groupByAlertDetails: [],
        groupByCustomDetails: [],
      },
    },
    eventGroupingSettings: { aggregationKind: 'AlertPerResult' },
  };
  if (rule.customDetails !== undefined) properties.customDetails = rule.customDetails;
  if (rule.alertDetailsOverride !== undefined) properties.alertDetailsOverride = rule.alertDetailsOverride;
  return {
    id: `[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', parameters('workspace'), 'Microsoft.SecurityInsights'), '/alertRules/${rule.id}')]`,
    name: `[concat(parameters('workspace'), '/Microsoft.SecurityInsights/${rule.id}')]`,
    type: 'Microsoft.OperationalInsights/workspaces/providers/alertRules',
    kind: rule.kind,
    apiVersion: ALERT_RULES_API_VERSION,
    properties,
  };
}

function yamlFiles(directory) {
  return readdirSync(`${SENTINEL_DIR}${directory}`)
    .filter((name) => name.endsWith('.yaml'))
    .sort();
}

/** One hunting query as a saved search in the category Sentinel's Hunting page lists, tactics in its tags. */
function huntingResource(query) {
  return {
    type: 'Microsoft.OperationalInsights/workspaces/savedSearches',
    apiVersion: SAVED_SEARCHES_API_VERSION,
    name: `[concat(parameters('workspace'), '/${query.id}')]`,
    properties: {
      category: 'Hunting Queries',
      displayName: query.name,
      query: query.query,
      version: 2,
      tags: [
        { name: 'description', value: query.description.trim() },
        { name: 'tactics', value: query.tactics.join(',') },
        { name: 'techniques', value: query.relevantTechniques.join(',') },
      ],
    },
  };
}

function huntingTemplate() {
  return {
    $schema: ARM_SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: {
      workspace: {
        type: 'String',
        metadata: {
          description: 'Name of the Sentinel workspace; the MCASActivity function must already exist in it.',
        },
      },
    },
    resources: yamlFiles('hunting').map((name) => huntingResource(parse(read(`hunting/${name}`)))),
  };
}

function rulesTemplate() {
  const files = yamlFiles('analytic-rules');
  return {
    $schema: ARM_SCHEMA,
    contentVersion: '1.0.0.0',
    parameters: {
      workspace: {
        type: 'String',
        metadata: {
          description: 'Name of the Sentinel workspace; the MCASActivity function must already exist in it.',
        },
      },
    },
    resources: files.map((name) => ruleResource(parse(read(`analytic-rules/${name}`)), name)),
  };
}

/** Every generated file, by path under sentinel/, with its content. */
export function buildArtifacts() {
  const query = read('parsers/MCASActivity.kql');
  return new Map([
    ['parsers/MCASActivity.yaml', parserYaml(query)],
    ['arm/parser.json', json(parserTemplate(query))],
    ['arm/analytic-rules.json', json(rulesTemplate())],
    ['arm/hunting-queries.json', json(huntingTemplate())],
  ]);
}

function main() {
  const check = process.argv.includes('--check');
  const stale = [];
  for (const [path, content] of buildArtifacts()) {
    let current;
    try {
      current = read(path);
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    if (check) stale.push(path);
    else writeFileSync(`${SENTINEL_DIR}${path}`, content);
  }
  if (stale.length > 0) {
    console.error(
      `Stale: ${stale.map((path) => `sentinel/${path}`).join(', ')}. Run: node sentinel/tools/buildArtifacts.mjs`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
