// Builds every generated file of the Sentinel content from its sources, so each query is written once:
// - Parsers/vim<Schema>MCASActivity.yaml -> Parsers/ASim<Schema>MCASActivity.yaml (the parameterless ASIM form);
// - the parsers, rules and hunting queries -> arm/*.json (the templates Analytics > Import and `az deployment` take);
// - everything the solution lists in Data/Solution_*.json -> Package/mainTemplate.json and createUiDefinition.json,
//   and Package/<Version>.zip holding the two, the file Content Hub publishing takes;
// - the table and parser schemas -> kql-validation/CustomTables|CustomFunctions (Azure-Sentinel's KQL test format);
// - the ASIM tester's EventProduct rows with the parsers' product added -> asim-tester/ASimTester.EventProduct.csv.
// Usage (after `npm run build`, which it reads the mapping and the Kusto language service from):
//   node sentinel/tools/buildArtifacts.mjs [--check] [--dir <sentinel dir>]
//   --check: write nothing, exit 1 if a generated file is missing or stale (npm test does the same in-process).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { unzipSync, zipSync } from 'fflate';
import { parse } from 'yaml';

import { ASIM_TESTER_EVENT_PRODUCTS, MCAS_EVENT_PRODUCT } from '../../dist/test/sentinel/asimSchemas.js';
import { analyseWorkspace, tableColumns } from '../../dist/test/sentinel/kusto.js';
import {
  ALERT_RULES_API_VERSION,
  ARM_SCHEMA,
  huntingSearchProperties,
  parserSearchProperties,
  ruleProperties,
  SAVED_SEARCHES_API_VERSION,
  toIsoDuration,
} from './armResources.mjs';
import { buildPackage } from './package.mjs';

export { toIsoDuration };

export const SOLUTION_PATH = 'Solutions/MCASActivityConnector';

/** Types as Azure-Sentinel's KQL validation files name them, from the language service's names. */
const VALIDATION_TYPES = {
  string: 'String',
  datetime: 'DateTime',
  bool: 'Boolean',
  guid: 'Guid',
  real: 'Double',
  int: 'Int32',
  long: 'Int64',
  dynamic: 'Dynamic',
  timespan: 'TimeSpan',
};

function json(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Reads the sources of one sentinel/ directory (the repository's, or a copy for tests). */
export function readSources(sentinelDir) {
  const solutionDir = `${sentinelDir}${SOLUTION_PATH}/`;
  const read = (relativePath) => readFileSync(`${solutionDir}${relativePath}`, 'utf8');
  const yamlIn = (folder) =>
    readdirSync(`${solutionDir}${folder}`)
      .filter((name) => name.endsWith('.yaml'))
      .sort()
      .map((name) => ({ path: `${folder}/${name}`, name, content: parse(read(`${folder}/${name}`)) }));
  const parserFiles = yamlIn('Parsers').filter((file) => !file.name.startsWith('ASim'));
  return {
    read,
    solution: JSON.parse(read('Data/Solution_MCASActivityConnector.json')),
    metadata: JSON.parse(read('SolutionMetadata.json')),
    connector: JSON.parse(read('Data Connectors/MCASActivityConnector_API_FunctionApp.json')),
    workbook: JSON.parse(read('Workbooks/MCASActivity.json')),
    workbookMetadata: JSON.parse(read('Workbooks/WorkbooksMetadata.json')),
    rules: yamlIn('Analytic Rules'),
    hunting: yamlIn('Hunting Queries'),
    mainParser: parserFiles.find((file) => file.name === 'MCASActivity.yaml'),
    filteringParsers: parserFiles.filter((file) => file.name.startsWith('vim')),
  };
}

/** `(starttime:datetime=datetime(null), eventresult:string='*')` from a parser's parameter list. */
export function kqlParameterList(params = []) {
  const defaultText = (param) => (param.Type === 'string' ? `'${param.Default}'` : String(param.Default));
  return `(${params.map((param) => `${param.Name}:${param.Type}=${defaultText(param)}`).join(', ')})`;
}

/**
 * The ASim form of a vim parser: the same query with every filter bound to its "no filter" default by `let`, and
 * `disabled` as its only parameter, as ASIM's unifying ASim<Schema> parsers call their members.
 */
export function asimFromVim(vim) {
  const filters = vim.ParserParams.filter((param) => param.Name !== 'disabled');
  const defaultText = (param) => (param.Type === 'string' ? `'${param.Default}'` : String(param.Default));
  const lets = filters.map((param) => `let ${param.Name} = ${defaultText(param)};`).join('\n');
  const asimName = vim.ParserName.replace(/^vim/, 'ASim');
  return {
    ...vim,
    Parser: { ...vim.Parser, Title: vim.Parser.Title.replace(' filtering parser', ' parser') },
    Description: `${vim.Description.trimEnd()}\nThe parameterless form of ${vim.ParserName}, for the ASim${vim.Normalization.Schema} unifying parser.\n`,
    ParserName: asimName,
    EquivalentBuiltInParser: vim.EquivalentBuiltInParser.replace(/^_Im_/, '_ASim_'),
    ParserParams: vim.ParserParams.filter((param) => param.Name === 'disabled'),
    ParserQuery: `${lets}\n${vim.ParserQuery}`,
  };
}

/** The parser YAML in the layout Azure-Sentinel's ASIM parsers use, query as a literal block. */
function asimYaml(parser) {
  const literal = (text) =>
    text
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => (line === '' ? '' : `  ${line}`))
      .join('\n');
  const refs = parser.References.map((ref) => `- Title: ${ref.Title}\n  Link: ${ref.Link}`).join('\n');
  const params = parser.ParserParams.map(
    (param) => `  - Name: ${param.Name}\n    Type: ${param.Type}\n    Default: ${param.Default}`,
  ).join('\n');
  return [
    `# Generated from ${parser.ParserName.replace(/^ASim/, 'vim')}.yaml by sentinel/tools/buildArtifacts.mjs.`,
    'Parser:',
    `  Title: ${parser.Parser.Title}`,
    `  Version: '${parser.Parser.Version}'`,
    `  LastUpdated: ${parser.Parser.LastUpdated}`,
    'Product:',
    `  Name: ${parser.Product.Name}`,
    'Normalization:',
    `  Schema: ${parser.Normalization.Schema}`,
    `  Version: '${parser.Normalization.Version}'`,
    'References:',
    refs,
    'Description: |',
    literal(parser.Description),
    `ParserName: ${parser.ParserName}`,
    `EquivalentBuiltInParser: ${parser.EquivalentBuiltInParser}`,
    'ParserParams:',
    params,
    'ParserQuery: |',
    literal(parser.ParserQuery),
    '',
  ].join('\n');
}

/** Every parser as a saved function: name, parameter list, body, and its source document. */
export function parserFunctions(sources) {
  const main = sources.mainParser.content;
  const functions = [
    {
      name: main.FunctionAlias,
      parameters: kqlParameterList(main.FunctionParams),
      body: main.FunctionQuery,
      document: main,
    },
  ];
  for (const vim of sources.filteringParsers) {
    for (const parser of [vim.content, asimFromVim(vim.content)]) {
      functions.push({
        name: parser.ParserName,
        parameters: kqlParameterList(parser.ParserParams),
        body: parser.ParserQuery,
        document: parser,
      });
    }
  }
  return functions;
}

function template(parameters, resources) {
  return { $schema: ARM_SCHEMA, contentVersion: '1.0.0.0', parameters, resources };
}

const WORKSPACE_PARAMETER = {
  workspace: {
    type: 'string',
    metadata: { description: 'Name of the Microsoft Sentinel workspace that holds MCAS_Activity_Log_CL.' },
  },
};

function parsersTemplate(functions) {
  const [main] = functions;
  return template(
    WORKSPACE_PARAMETER,
    functions.map((fn) => ({
      type: 'Microsoft.OperationalInsights/workspaces/savedSearches',
      apiVersion: SAVED_SEARCHES_API_VERSION,
      name: `[concat(parameters('workspace'), '/${fn.name}')]`,
      ...(fn === main
        ? {}
        : {
            dependsOn: [
              `[resourceId('Microsoft.OperationalInsights/workspaces/savedSearches', parameters('workspace'), '${main.name}')]`,
            ],
          }),
      properties: parserSearchProperties(fn),
    })),
  );
}

function rulesTemplate(rules) {
  return template(
    WORKSPACE_PARAMETER,
    rules.map(({ content, name }) => ({
      id: `[concat(resourceId('Microsoft.OperationalInsights/workspaces/providers', parameters('workspace'), 'Microsoft.SecurityInsights'), '/alertRules/${content.id}')]`,
      name: `[concat(parameters('workspace'), '/Microsoft.SecurityInsights/${content.id}')]`,
      type: 'Microsoft.OperationalInsights/workspaces/providers/alertRules',
      kind: content.kind,
      apiVersion: ALERT_RULES_API_VERSION,
      properties: { ...ruleProperties(content, name), enabled: true },
    })),
  );
}

function huntingTemplate(queries) {
  return template(
    WORKSPACE_PARAMETER,
    queries.map(({ content }) => ({
      type: 'Microsoft.OperationalInsights/workspaces/savedSearches',
      apiVersion: SAVED_SEARCHES_API_VERSION,
      name: `[concat(parameters('workspace'), '/${content.id}')]`,
      properties: huntingSearchProperties(content),
    })),
  );
}

/** Both shapes' columns of MCAS_Activity_Log_CL, each once, in Azure-Sentinel's CustomTables format. */
function customTable() {
  const seen = new Map();
  for (const column of [...tableColumns('dataCollector'), ...tableColumns('logsIngestion')]) {
    if (!seen.has(column.name)) seen.set(column.name, { name: column.name, type: VALIDATION_TYPES[column.type] });
  }
  return { Name: 'MCAS_Activity_Log_CL', Properties: [...seen.values()] };
}

/** Each parser's parameters and result columns (as the language service computes them) in the CustomFunctions format. */
function customFunctions(functions) {
  const { bodies } = analyseWorkspace('dataCollector', functions);
  return functions.map((fn) => {
    const analysis = bodies.get(fn.name);
    if (analysis?.columns === undefined) throw new Error(`${fn.name} returns no table`);
    const params = fn.document.FunctionParams ?? fn.document.ParserParams ?? [];
    return {
      FunctionName: fn.name,
      FunctionParameters: params.map((param) => ({ Name: param.Name, Type: param.Type })),
      FunctionResultColumns: analysis.columns.map((column) => ({
        Name: column.name,
        Type: VALIDATION_TYPES[column.type],
      })),
    };
  });
}

/** Every generated file, by path under the sentinel directory, with its content. */
export function buildArtifacts(sentinelDir = fileURLToPath(new URL('../', import.meta.url))) {
  const sources = readSources(sentinelDir);
  const functions = parserFunctions(sources);
  const files = new Map();
  for (const vim of sources.filteringParsers) {
    const asim = asimFromVim(vim.content);
    files.set(`${SOLUTION_PATH}/Parsers/${asim.ParserName}.yaml`, asimYaml(asim));
  }
  files.set('arm/parsers.json', json(parsersTemplate(functions)));
  files.set('arm/analytic-rules.json', json(rulesTemplate(sources.rules)));
  files.set('arm/hunting-queries.json', json(huntingTemplate(sources.hunting)));
  const { mainTemplate, createUiDefinition } = buildPackage(sources, functions);
  files.set(`${SOLUTION_PATH}/Package/mainTemplate.json`, json(mainTemplate));
  files.set(`${SOLUTION_PATH}/Package/createUiDefinition.json`, json(createUiDefinition));
  files.set(
    `${SOLUTION_PATH}/Package/${sources.solution.Version}.zip`,
    packageZip({ 'mainTemplate.json': json(mainTemplate), 'createUiDefinition.json': json(createUiDefinition) }),
  );
  files.set('kql-validation/CustomTables/MCAS_Activity_Log_CL.json', json(customTable()));
  for (const fn of customFunctions(functions)) {
    files.set(`kql-validation/CustomFunctions/${fn.FunctionName}.json`, json(fn));
  }
  files.set('asim-tester/ASimTester.EventProduct.csv', testerEventProductRows());
  return files;
}

/**
 * The EventProduct rows of Azure-Sentinel's `ASIM/dev/ASimTester/ASimTester.csv` for the four schemas, with the MCAS
 * parsers' product added: the rows a contribution of the parsers replaces, so that the ASIM data tester accepts them.
 */
function testerEventProductRows() {
  const rows = Object.entries(ASIM_TESTER_EVENT_PRODUCTS).map(
    ([schema, products]) =>
      `EventProduct,string,Mandatory,${schema},Enumerated,${[...products, MCAS_EVENT_PRODUCT].join('|')},`,
  );
  return ['ColumnName,ColumnType,Class,Schema,LogicalType,ListOfValues,Aliased', ...rows, ''].join('\n');
}

/** Fixed time for every zip entry, so the same files give the same zip. */
const ZIP_TIME = new Date(Date.UTC(2026, 0, 1));

/** The solution's package zip (Package/<Version>.zip): the given files, deflated, at the root of the archive. */
function packageZip(entries) {
  const files = Object.fromEntries(
    Object.entries(entries).map(([name, text]) => [name, [Buffer.from(text, 'utf8'), { mtime: ZIP_TIME }]]),
  );
  return Buffer.from(zipSync(files, { level: 9 }));
}

/** A zip's entries as name -> text, or undefined when it is not a zip. */
function zipEntries(bytes) {
  try {
    const entries = unzipSync(new Uint8Array(bytes));
    return Object.fromEntries(
      Object.entries(entries).map(([name, data]) => [name, Buffer.from(data).toString('utf8')]),
    );
  } catch {
    return undefined;
  }
}

/** Whether what is on disk is what would be built: a zip by its entries (a new deflater may pack them otherwise). */
function sameArtifact(current, content) {
  if (current === undefined) return false;
  if (typeof content === 'string') return current.toString('utf8') === content;
  const [have, want] = [zipEntries(current), zipEntries(content)];
  return have !== undefined && JSON.stringify(have) === JSON.stringify(want);
}

/** The generated files that differ from what is on disk (missing ones included). */
export function staleArtifacts(sentinelDir) {
  const stale = [];
  for (const [path, content] of buildArtifacts(sentinelDir)) {
    let current;
    try {
      current = readFileSync(`${sentinelDir}${path}`);
    } catch {
      current = undefined;
    }
    if (!sameArtifact(current, content)) stale.push(path);
  }
  return stale;
}

function main() {
  const dirFlag = process.argv.indexOf('--dir');
  const sentinelDir =
    dirFlag === -1
      ? fileURLToPath(new URL('../', import.meta.url))
      : `${process.argv[dirFlag + 1].replace(/\/$/, '')}/`;
  if (process.argv.includes('--check')) {
    const stale = staleArtifacts(sentinelDir);
    if (stale.length > 0) {
      console.error(
        `Stale: ${stale.map((path) => `sentinel/${path}`).join(', ')}. Run: node sentinel/tools/buildArtifacts.mjs`,
      );
      process.exitCode = 1;
    }
    return;
  }
  for (const [path, content] of buildArtifacts(sentinelDir)) {
    mkdirSync(dirname(`${sentinelDir}${path}`), { recursive: true });
    writeFileSync(`${sentinelDir}${path}`, content);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
