// KQL checks for the Sentinel content: Microsoft's Kusto language service (@kusto/language-service-next, a Bridge.NET
// build that sets a global `Kusto`) analyses each query against the MCAS_Activity_Log_CL schema generated here.
import { createRequire } from 'node:module';

import { LOG_RECORD_COLUMNS, type LogColumnType } from '../../src/mapping/LogRecord.js';

export const TABLE_NAME = 'MCAS_Activity_Log_CL';

/** A saved workspace function: its name, its parameter list as KQL declares it (`(a:int=1, ...)`), its body. */
export interface KqlFunction {
  name: string;
  parameters: string;
  body: string;
}

/** A column as the language service names its type (`string`, `datetime`, `bool`, `guid`, `real`, `long`, ...). */
export interface KqlColumn {
  name: string;
  type: string;
}

export interface KqlDiagnostic {
  severity: string;
  code: string;
  message: string;
  /** Character offset in the query text. */
  start: number;
}

export interface KqlAnalysis {
  diagnostics: KqlDiagnostic[];
  /** The columns of the query's tabular result; undefined when the result is not a table. */
  columns: KqlColumn[] | undefined;
}

/** The two shapes the table takes, one per sink. */
export type TableShape = 'dataCollector' | 'logsIngestion';

/** Kusto type of each mapped column type. */
const KUSTO_TYPES: Record<LogColumnType, string> = { string: 'string', datetime: 'datetime', boolean: 'bool' };

/** HTTP Data Collector API suffixes, by the JSON type it infers from each value. */
const DATA_COLLECTOR_SUFFIXES: Record<LogColumnType, string> = { string: '_s', datetime: '_t', boolean: '_b' };

/**
 * Standard columns of a table created by the Data Collector API (a "classic" custom log), as listed for such
 * tables in Azure/Azure-Sentinel `.script/tests/KqlvalidationsTests/CustomTables/*_CL.json`, plus the hidden
 * standard columns every Log Analytics table has.
 */
const DATA_COLLECTOR_STANDARD_COLUMNS: readonly KqlColumn[] = [
  { name: 'TenantId', type: 'guid' },
  { name: 'SourceSystem', type: 'string' },
  { name: 'MG', type: 'string' },
  { name: 'ManagementGroupName', type: 'string' },
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'Computer', type: 'string' },
  { name: 'RawData', type: 'string' },
  { name: 'Type', type: 'string' },
  { name: '_ResourceId', type: 'string' },
  { name: '_SubscriptionId', type: 'string' },
  { name: '_BilledSize', type: 'real' },
  { name: '_IsBillable', type: 'string' },
  { name: '_TimeReceived', type: 'datetime' },
];

/** Standard columns of a DCR-based custom table: TimeGenerated plus the hidden ones. */
const LOGS_INGESTION_STANDARD_COLUMNS: readonly KqlColumn[] = [
  { name: 'TenantId', type: 'guid' },
  { name: 'TimeGenerated', type: 'datetime' },
  { name: 'Type', type: 'string' },
  { name: '_ResourceId', type: 'string' },
  { name: '_SubscriptionId', type: 'string' },
  { name: '_BilledSize', type: 'real' },
  { name: '_IsBillable', type: 'string' },
  { name: '_TimeReceived', type: 'datetime' },
  { name: '_ItemId', type: 'string' },
];

/**
 * The columns of MCAS_Activity_Log_CL for one sink, generated from LOG_RECORD_COLUMNS.
 * Data Collector: each column with its type suffix, and for string columns also the `_g` column a GUID-shaped
 * value would create (typed guid, the strictest case). Logs Ingestion: the declared names and types.
 */
export function tableColumns(shape: TableShape): KqlColumn[] {
  if (shape === 'logsIngestion') {
    return [
      ...LOGS_INGESTION_STANDARD_COLUMNS,
      ...LOG_RECORD_COLUMNS.map((column) => ({ name: column.name, type: KUSTO_TYPES[column.type] })),
    ];
  }
  const suffixed = LOG_RECORD_COLUMNS.flatMap((column) => {
    const main = { name: column.name + DATA_COLLECTOR_SUFFIXES[column.type], type: KUSTO_TYPES[column.type] };
    return column.type === 'string' ? [main, { name: `${column.name}_g`, type: 'guid' }] : [main];
  });
  return [...DATA_COLLECTOR_STANDARD_COLUMNS, ...suffixed];
}

// The minimal surface of the Bridge.NET API that this file uses.
interface BridgeList {
  readonly __brand?: 'BridgeList';
}
interface KustoDiagnostic {
  Severity: string;
  Code: string;
  Message: string;
  Start: number;
}
interface KustoColumnSymbol {
  Name: string;
  Type: { Name: string };
}
interface KustoCode {
  GetDiagnostics(): BridgeList;
  ResultType: { Columns?: BridgeList } | null;
}
type KustoGlobalState = object;
interface KustoLanguage {
  GlobalState: { Default: { WithDatabase(database: unknown): KustoGlobalState } };
  KustoCode: { ParseAndAnalyze(text: string, globals: KustoGlobalState): KustoCode };
  Diagnostic: unknown;
  Symbols: {
    TableSymbol: { $ctor7: new (name: string, schema: string, description: string) => unknown };
    FunctionSymbol: {
      $ctor16: new (name: string, parameterList: string, body: string, description: string) => unknown;
    };
    DatabaseSymbol: { ctor: new (name: string, members: unknown[]) => unknown };
    ColumnSymbol: unknown;
  };
}
interface BridgeSystem {
  Array: {
    getCount(list: BridgeList, type: unknown): number;
    getItem(list: BridgeList, index: number, type: unknown): unknown;
  };
}

let language: { Kusto: KustoLanguage; System: BridgeSystem } | undefined;

function loadLanguageService(): { Kusto: KustoLanguage; System: BridgeSystem } {
  if (language === undefined) {
    const require = createRequire(import.meta.url);
    // bridge.js defines the Bridge.NET runtime (globals Bridge and System) the language service is compiled against.
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next');
    const globals = globalThis as unknown as { Kusto: { Language: KustoLanguage }; System: BridgeSystem };
    language = { Kusto: globals.Kusto.Language, System: globals.System };
  }
  return language;
}

function listItems<T>(list: BridgeList, type: unknown): T[] {
  const { System } = loadLanguageService();
  const items: T[] = [];
  const count = System.Array.getCount(list, type);
  for (let index = 0; index < count; index += 1) items.push(System.Array.getItem(list, index, type) as T);
  return items;
}

/** Table schema text in the form the language service reads: `(Name:type, ...)`. */
function schemaText(columns: readonly KqlColumn[]): string {
  return `(${columns.map((column) => `['${column.name}']:${column.type}`).join(', ')})`;
}

/**
 * A workspace as the language service sees it: MCAS_Activity_Log_CL in the given shape and the given saved functions
 * (the parsers), so that queries can call them.
 */
export function workspaceGlobals(shape: TableShape, functions: readonly KqlFunction[] = []): KustoGlobalState {
  const { Kusto } = loadLanguageService();
  const members: unknown[] = [new Kusto.Symbols.TableSymbol.$ctor7(TABLE_NAME, schemaText(tableColumns(shape)), '')];
  for (const fn of functions) {
    members.push(new Kusto.Symbols.FunctionSymbol.$ctor16(fn.name, fn.parameters, `{\n${fn.body}\n}`, ''));
  }
  return Kusto.GlobalState.Default.WithDatabase(new Kusto.Symbols.DatabaseSymbol.ctor('workspace', members));
}

/** The result of analysing every parser of a workspace once. */
export interface AnalysedWorkspace {
  /** The table and every function, each function standing as its parameter list over a table of its result columns. */
  globals: KustoGlobalState;
  /** Each function's body as analysed (bodyQuery), against the functions it calls. */
  bodies: ReadonlyMap<string, KqlAnalysis>;
}

/** The datatable() expression of an empty table with these columns: a function body that is instant to analyse. */
function emptyTable(columns: readonly KqlColumn[]): string {
  return `datatable${schemaText(columns)}[]`;
}

const workspaces = new Map<string, AnalysedWorkspace>();

/**
 * Analyses each function body once, callees first, then stands each function in for callers as its parameter list
 * over an empty table of its result columns. A parser's columns do not depend on the arguments, and re-analysing
 * the parser body at every call (what the language service does with a real body) made the checks ten times slower.
 * Argument names and types are still checked at every call. Throws if the functions call each other in a cycle.
 */
export function analyseWorkspace(shape: TableShape, functions: readonly KqlFunction[]): AnalysedWorkspace {
  const key = `${shape}\n${functions.map((fn) => `${fn.name}${fn.parameters}{${fn.body}}`).join('\n')}`;
  const known = workspaces.get(key);
  if (known !== undefined) return known;
  const stubs: KqlFunction[] = [];
  const bodies = new Map<string, KqlAnalysis>();
  let pending = [...functions];
  while (pending.length > 0) {
    const ready = pending.filter((fn) =>
      pending.every((other) => other === fn || !new RegExp(`\\b${other.name}\\b`).test(fn.body)),
    );
    if (ready.length === 0)
      throw new Error(`functions call each other in a cycle: ${pending.map((fn) => fn.name).join(', ')}`);
    const globals = workspaceGlobals(shape, stubs);
    for (const fn of ready) {
      const analysis = analyzeKql(bodyQuery(fn), globals);
      bodies.set(fn.name, analysis);
      stubs.push({ name: fn.name, parameters: fn.parameters, body: emptyTable(analysis.columns ?? []) });
    }
    pending = pending.filter((fn) => !ready.includes(fn));
  }
  const workspace = { globals: workspaceGlobals(shape, stubs), bodies };
  workspaces.set(key, workspace);
  return workspace;
}

/**
 * Splits what stands between the outer parentheses of `f(a, g(b, c), 'x,y')` or a parameter list `(a:int=1, ...)` at
 * the commas outside quotes and inner brackets.
 */
export function splitArguments(call: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const char of call.slice(call.indexOf('(') + 1, call.lastIndexOf(')'))) {
    if (char === "'") quoted = !quoted;
    if (!quoted && char === '(') depth += 1;
    if (!quoted && char === ')') depth -= 1;
    if (!quoted && depth === 0 && char === ',') {
      parts.push(current.trim());
      current = '';
    } else current += char;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

/**
 * A function's body as a query of its own, each parameter bound to its default by `let`, so that diagnostics inside
 * the body are reported (a call reports none from inside the function it calls).
 */
export function bodyQuery(fn: KqlFunction): string {
  const lets = splitArguments(fn.parameters).map((parameter) => {
    const match = /^(\w+)\s*:\s*\w+\s*=\s*(.+)$/s.exec(parameter);
    if (match === null) throw new Error(`${fn.name}: parameter without a default: ${parameter}`);
    return `let ${match[1]} = ${match[2]};\n`;
  });
  return `${lets.join('')}${fn.body}`;
}

/** Analyses already done, per workspace: the same query is checked by several tests, and analysis is the slow part. */
const analysesByGlobals = new WeakMap<KustoGlobalState, Map<string, KqlAnalysis>>();

/** Parses and analyses one query: every syntax and semantic diagnostic, and the result columns. */
export function analyzeKql(query: string, globals: KustoGlobalState): KqlAnalysis {
  let analyses = analysesByGlobals.get(globals);
  if (analyses === undefined) {
    analyses = new Map();
    analysesByGlobals.set(globals, analyses);
  }
  const known = analyses.get(query);
  if (known !== undefined) return known;
  const analysis = analyzeUncached(query, globals);
  analyses.set(query, analysis);
  return analysis;
}

function analyzeUncached(query: string, globals: KustoGlobalState): KqlAnalysis {
  const { Kusto } = loadLanguageService();
  const code = Kusto.KustoCode.ParseAndAnalyze(query, globals);
  const diagnostics = listItems<KustoDiagnostic>(code.GetDiagnostics(), Kusto.Diagnostic).map((diagnostic) => ({
    severity: diagnostic.Severity,
    code: diagnostic.Code,
    message: diagnostic.Message,
    start: diagnostic.Start,
  }));
  const resultColumns = code.ResultType?.Columns;
  const columns =
    resultColumns === undefined
      ? undefined
      : listItems<KustoColumnSymbol>(resultColumns, Kusto.Symbols.ColumnSymbol).map((column) => ({
          name: column.Name,
          type: column.Type.Name,
        }));
  return { diagnostics, columns };
}

/** One line per diagnostic, with the line of the query it points at, for assertion messages. */
export function describeDiagnostics(query: string, diagnostics: readonly KqlDiagnostic[]): string {
  return diagnostics
    .map((diagnostic) => {
      const lineNumber = query.slice(0, diagnostic.start).split('\n').length;
      const line = query.split('\n')[lineNumber - 1] ?? '';
      return `${diagnostic.severity} ${diagnostic.code} at line ${lineNumber}: ${diagnostic.message}\n    ${line.trim()}`;
    })
    .join('\n');
}
