// Reads the Sentinel content of the solution under sentinel/Solutions/ (parsers, rules, hunting queries, workbook) for
// the tests.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { parse } from 'yaml';

import type { KqlFunction } from './kusto.js';

/** The repository root: tests run from dist/test/sentinel/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SENTINEL_DIR = `${REPO_ROOT}sentinel/`;
/** The solution folder, relative to the repository root, laid out like Azure-Sentinel's `Solutions/<Name>/`. */
export const SOLUTION = 'sentinel/Solutions/MCASActivityConnector';

export interface YamlDocument {
  /** Path relative to the repository root. */
  file: string;
  content: Record<string, unknown>;
}

export interface WorkbookQuery {
  /** The item's `name`. */
  name: string;
  /** The query as written, with workbook parameters such as `{TimeRange:grain}` in it. */
  query: string;
  /** The same query with the workbook parameters replaced by sample values, ready for KQL analysis. */
  resolvedQuery: string;
  content: Record<string, unknown>;
}

/** Values for the workbook parameters the queries use, as Azure would substitute them. */
const WORKBOOK_PARAMETER_VALUES: Record<string, string> = { '{TimeRange:grain}': '1h' };

export function readText(relativePath: string): string {
  return readFileSync(`${REPO_ROOT}${relativePath}`, 'utf8');
}

/** A parser YAML file, either the Solutions form (`FunctionAlias`, `FunctionParams`) or ASIM's (`ParserName`, `ParserParams`). */
export interface ParserDocument extends YamlDocument {
  function: KqlFunction;
}

interface ParserParam {
  Name: string;
  Type: string;
  Default: unknown;
}

/** KQL's parameter list for a saved function: `(starttime:datetime=datetime(null), eventresult:string='*')`. */
export function kqlParameterList(params: readonly ParserParam[]): string {
  const defaultText = (param: ParserParam): string =>
    param.Type === 'string' ? `'${String(param.Default)}'` : String(param.Default);
  return `(${params.map((param) => `${param.Name}:${param.Type}=${defaultText(param)}`).join(', ')})`;
}

export function readParsers(): ParserDocument[] {
  return readYamlDirectory(`${SOLUTION}/Parsers`).map((document) => {
    const c = document.content;
    const name = String(c['FunctionAlias'] ?? c['ParserName']);
    const params = (c['FunctionParams'] ?? c['ParserParams'] ?? []) as ParserParam[];
    const body = String(c['FunctionQuery'] ?? c['ParserQuery']);
    return { ...document, function: { name, parameters: kqlParameterList(params), body } };
  });
}

/** The MCASActivity parser, the one every rule, hunting query and the workbook read through. */
export function readMainParser(): ParserDocument {
  return readParsers().find((parser) => parser.function.name === 'MCASActivity') ?? assert.fail('no MCASActivity');
}

/** Every parser as a workspace function. */
export function parserFunctions(): KqlFunction[] {
  return readParsers().map((parser) => parser.function);
}

function readYamlDirectory(relativeDir: string): YamlDocument[] {
  return readdirSync(`${REPO_ROOT}${relativeDir}`)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const file = `${relativeDir}/${name}`;
      const content: unknown = parse(readText(file));
      if (typeof content !== 'object' || content === null || Array.isArray(content)) {
        throw new Error(`${file} is not a YAML mapping`);
      }
      return { file, content: content as Record<string, unknown> };
    });
}

export function readAnalyticRules(): YamlDocument[] {
  return readYamlDirectory(`${SOLUTION}/Analytic Rules`);
}

export function readHuntingQueries(): YamlDocument[] {
  return readYamlDirectory(`${SOLUTION}/Hunting Queries`);
}

export function readJson(relativePath: string): Record<string, unknown> {
  return JSON.parse(readText(relativePath)) as Record<string, unknown>;
}

export function readWorkbook(): Record<string, unknown> {
  return readJson(`${SOLUTION}/Workbooks/MCASActivity.json`);
}

/** Every KQL text in the workbook: query items (type 3) and query-driven parameters, nested groups included. */
export function workbookQueries(workbook: Record<string, unknown>): WorkbookQuery[] {
  const found: WorkbookQuery[] = [];
  const visit = (items: unknown): void => {
    if (!Array.isArray(items)) return;
    for (const item of items as Record<string, unknown>[]) {
      const content = (item['content'] ?? {}) as Record<string, unknown>;
      if (item['type'] === 3 && typeof content['query'] === 'string') {
        found.push(toWorkbookQuery(String(item['name']), content['query'], content));
      }
      if (Array.isArray(content['parameters'])) {
        for (const parameter of content['parameters'] as Record<string, unknown>[]) {
          if (typeof parameter['query'] === 'string') {
            found.push(toWorkbookQuery(`parameter ${String(parameter['name'])}`, parameter['query'], parameter));
          }
        }
      }
      visit(content['items']);
    }
  };
  visit(workbook['items']);
  return found;
}

function toWorkbookQuery(name: string, query: string, content: Record<string, unknown>): WorkbookQuery {
  let resolvedQuery = query;
  for (const [placeholder, value] of Object.entries(WORKBOOK_PARAMETER_VALUES)) {
    resolvedQuery = resolvedQuery.split(placeholder).join(value);
  }
  return { name, query, resolvedQuery, content };
}
