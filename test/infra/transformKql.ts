// Checks for DCR transformations: the Kusto language service (as test/sentinel/kusto.ts uses it) analyses a
// transformKql against a `source` table with the stream's columns, and an allowlist holds it to the KQL subset that
// transformations run ("Supported KQL features in Azure Monitor transformations", Microsoft Learn).
import { createRequire } from 'node:module';

import { analyzeKql, type KqlAnalysis } from '../sentinel/kusto.js';

export interface StreamColumn {
  name: string;
  /** As a table or stream declaration names it: string, datetime, boolean, int, long, real, dynamic. */
  type: string;
}

/** Kusto's name of each table/stream column type. */
export const KUSTO_TYPES: Readonly<Record<string, string>> = {
  string: 'string',
  datetime: 'datetime',
  boolean: 'bool',
  int: 'int',
  long: 'long',
  real: 'real',
  dynamic: 'dynamic',
};

/** Tabular operators a transformation may use after `source` (print and datatable are left out: no use here). */
const TRANSFORM_OPERATORS = new Set(['extend', 'project', 'where', 'parse', 'project-away', 'project-rename']);

/** Scalar functions a transformation may call. coalesce(), for one, is not among them. */
const TRANSFORM_FUNCTIONS = new Set([
  'binary_and',
  'binary_or',
  'binary_not',
  'binary_shift_left',
  'binary_shift_right',
  'binary_xor',
  'tobool',
  'todatetime',
  'todouble',
  'toreal',
  'toguid',
  'toint',
  'tolong',
  'tostring',
  'totimespan',
  'ago',
  'datetime_add',
  'datetime_diff',
  'datetime_part',
  'dayofmonth',
  'dayofweek',
  'dayofyear',
  'endofday',
  'endofmonth',
  'endofweek',
  'endofyear',
  'getmonth',
  'getyear',
  'hourofday',
  'make_datetime',
  'make_timespan',
  'now',
  'startofday',
  'startofmonth',
  'startofweek',
  'startofyear',
  'weekofyear',
  'array_concat',
  'array_length',
  'pack_array',
  'pack',
  'parse_json',
  'parse_xml',
  'zip',
  'abs',
  'bin',
  'floor',
  'ceiling',
  'exp',
  'exp10',
  'exp2',
  'isfinite',
  'isinf',
  'isnan',
  'log',
  'log10',
  'log2',
  'pow',
  'round',
  'sign',
  'case',
  'iif',
  'max_of',
  'min_of',
  'base64_encodestring',
  'base64_decodestring',
  'countof',
  'extract',
  'extract_all',
  'indexof',
  'isempty',
  'isnotempty',
  'split',
  'strcat',
  'strcat_delim',
  'strlen',
  'substring',
  'tolower',
  'toupper',
  'hash_sha256',
  'gettype',
  'isnotnull',
  'isnull',
  'columnifexists',
  'parse_cef_dictionary',
  'geo_location',
]);

interface KustoSymbols {
  GlobalState: { Default: { WithDatabase(database: unknown): object } };
  Symbols: {
    TableSymbol: { $ctor7: new (name: string, schema: string, description: string) => unknown };
    DatabaseSymbol: { ctor: new (name: string, members: unknown[]) => unknown };
  };
}

function kustoLanguage(): KustoSymbols {
  const require = createRequire(import.meta.url);
  // Loaded once per process (require caches it); bridge.js first, as the language service expects.
  require('@kusto/language-service-next/bridge.js');
  require('@kusto/language-service-next');
  return (globalThis as unknown as { Kusto: { Language: KustoSymbols } }).Kusto.Language;
}

/** Analyses a query against a database whose only table is `tableName`, with the given columns. */
export function analyzeAgainstTable(query: string, tableName: string, columns: readonly StreamColumn[]): KqlAnalysis {
  const Kusto = kustoLanguage();
  const schema = `(${columns.map((column) => `['${column.name}']:${KUSTO_TYPES[column.type] ?? column.type}`).join(', ')})`;
  const table = new Kusto.Symbols.TableSymbol.$ctor7(tableName, schema, '');
  const globals = Kusto.GlobalState.Default.WithDatabase(new Kusto.Symbols.DatabaseSymbol.ctor('workspace', [table]));
  return analyzeKql(query, globals);
}

/** Analyses a transformation against a database whose only table is `source`, with the stream's columns. */
export function analyzeTransform(transformKql: string, streamColumns: readonly StreamColumn[]): KqlAnalysis {
  return analyzeAgainstTable(transformKql, 'source', streamColumns);
}

/**
 * What a transformation uses beyond the supported subset: tabular operators after `source` and called functions.
 * Empty when it keeps to the subset. Assumes no `|` or `(` inside string literals, which holds for this project's.
 */
export function unsupportedInTransform(transformKql: string): string[] {
  const [head, ...stages] = transformKql.split('|').map((stage) => stage.trim());
  const problems = head === 'source' ? [] : [`starts with "${head}", not source`];
  for (const stage of stages) {
    const operator = /^[a-z-]+/.exec(stage)?.[0] ?? stage;
    if (!TRANSFORM_OPERATORS.has(operator)) problems.push(`operator ${operator}`);
  }
  for (const [, name] of transformKql.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) {
    if (name && !TRANSFORM_FUNCTIONS.has(name)) problems.push(`function ${name}()`);
  }
  return problems;
}
