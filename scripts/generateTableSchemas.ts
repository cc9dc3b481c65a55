// Writes infra/generated/tableSchemas.json, the column lists of the DCR-based tables and stream declarations that
// infra/modules/*.bicep load with loadJsonContent(), from the mapping's column lists: the schema is never typed twice.
// Run: `node dist/scripts/generateTableSchemas.js` (or `--check`: exit 1 when the committed file is out of date).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ALERT_RECORD_COLUMNS } from '../src/mapping/AlertRecord.js';
import { LOG_RECORD_COLUMNS, type LogColumn, type LogColumnType } from '../src/mapping/LogRecord.js';

/** Column types as Log Analytics tables and DCR stream declarations name them. */
export type TableColumnType = 'string' | 'datetime' | 'boolean' | 'int' | 'long' | 'real' | 'dynamic';

export interface TableColumn {
  name: string;
  type: TableColumnType;
}

/** One column list per stream; each starts with TimeGenerated, which every Log Analytics table must have. */
export interface TableSchemas {
  activities: TableColumn[];
  alerts: TableColumn[];
}

/** Path of the generated file, from the repository root. */
export const TABLE_SCHEMAS_PATH = 'infra/generated/tableSchemas.json';

// A new mapping type fails to compile here until it is given its table type.
const TABLE_TYPES: Record<LogColumnType, TableColumnType> = {
  string: 'string',
  datetime: 'datetime',
  boolean: 'boolean',
};

const TIME_GENERATED: TableColumn = { name: 'TimeGenerated', type: 'datetime' };

function tableColumns(columns: readonly LogColumn[]): TableColumn[] {
  return [TIME_GENERATED, ...columns.map((column) => ({ name: column.name, type: TABLE_TYPES[column.type] }))];
}

export function tableSchemas(): TableSchemas {
  return { activities: tableColumns(LOG_RECORD_COLUMNS), alerts: tableColumns(ALERT_RECORD_COLUMNS) };
}

/** The file's exact text: two-space JSON and a final newline. */
export function renderTableSchemas(): string {
  return `${JSON.stringify(tableSchemas(), null, 2)}\n`;
}

async function main(args: readonly string[]): Promise<number> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const path = join(root, TABLE_SCHEMAS_PATH);
  const text = renderTableSchemas();
  if (args.includes('--check')) {
    const current = await readFile(path, 'utf8').catch(() => '');
    if (current === text) return 0;
    process.stderr.write(`${TABLE_SCHEMAS_PATH} is out of date: run node dist/scripts/generateTableSchemas.js\n`);
    return 1;
  }
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  process.stdout.write(`Wrote ${TABLE_SCHEMAS_PATH}\n`);
  return 0;
}

const isEntryPoint = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntryPoint) process.exitCode = await main(process.argv.slice(2));
