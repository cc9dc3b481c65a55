// KQL checks for the Sentinel content: Microsoft's Kusto language service (@kusto/language-service-next, a Bridge.NET
// build that sets a global `Kusto`) analyses each query against the MCAS_Activity_Log_CL schema generated here.
import { createRequire } from 'node:module';

import { LOG_RECORD_COLUMNS, type LogColumnType } from '../../src/mapping/LogRecord.js';

export const TABLE_NAME = 'MCAS_Activity_Log_CL';
export const PARSER_FUNCTION_NAME = 'MCASActivity';

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
    getItem<T>(list: BridgeList, index: number, type: unknown): T;
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
  for (let index = 0; index < count; index += 1) items.push(System.Array.getItem<T>(list, index, type));
  return items;
}

/** Table schema text in the form the language service reads: `(Name:type, ...)`. */
function schemaText(columns: readonly KqlColumn[]): string {
  return `(${columns.map((column) => `['${column.name}']:${column.type}`).join(', ')})`;
}

/**
 * A workspace as the language service sees it: MCAS_Activity_Log_CL in the given shape and, when `parserText` is
 * given, the saved function MCASActivity with that body, so that rules can call it.
 */
export function workspaceGlobals(shape: TableShape, parserText?: string): KustoGlobalState {
  const { Kusto } = loadLanguageService();
  const members: unknown[] = [new Kusto.Symbols.TableSymbol.$ctor7(TABLE_NAME, schemaText(tableColumns(shape)), '')];
  if (parserText !== undefined) {
    members.push(new Kusto.Symbols.FunctionSymbol.$ctor16(PARSER_FUNCTION_NAME, '()', `{\n${parserText}\n}`, ''));
  }
  return Kusto.GlobalState.Default.WithDatabase(new Kusto.Symbols.DatabaseSymbol.ctor('workspace', members));
}

/** Parses and analyses one query: every syntax and semantic diagnostic, and the result columns. */
export function analyzeKql(query: string, globals: KustoGlobalState): KqlAnalysis {
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
