// The row sent to Log Analytics for one activity: a fixed, flat set of columns with their types, and its zod schema.
// LOG_RECORD_COLUMNS is the single source: the TypeScript type, the schema and any table definition derive from it.
import { z } from 'zod';

import { MAX_FIELD_BYTES, utf8ByteLength } from './truncate.js';

/** Column types, named as Log Analytics table definitions name them. */
export type LogColumnType = 'string' | 'datetime' | 'boolean';

export interface LogColumn {
  /** Letters, digits and `_`, starting with a letter, at most 45 characters; unique ignoring case. */
  name: string;
  type: LogColumnType;
  description: string;
}

/**
 * The columns every row type (activities, alerts) ends with: which columns were cut, and the flagged-row columns
 * (see rowBuilder.ts).
 */
export const BOOKKEEPING_COLUMNS = [
  {
    name: 'TruncatedFields',
    type: 'string',
    description: 'Comma-separated columns cut to the field limit (a cut JSON column is no longer valid JSON).',
  },
  { name: 'IsFlagged', type: 'boolean', description: 'True on a record that failed the core schema.' },
  { name: 'ValidationIssues', type: 'string', description: 'Flagged rows: why the record failed the core schema.' },
  { name: 'RawRecordJson', type: 'string', description: 'Flagged rows: the whole raw record, as JSON.' },
] as const satisfies readonly LogColumn[];

/**
 * Every column a row can have, in a fixed order. Nested MCAS objects are kept as JSON strings (`…Json` columns):
 * the Data Collector API would otherwise flatten them into one column per key, towards the 500-column cap, and
 * because column names are case-insensitive, keys that differ only by case (`Level`, `level`) would collide.
 *
 * The activity id column is `ActivityId`, not `Id`: `id` is a reserved column name for custom tables (with
 * `TenantId`, `Type`, `Title`, `UniqueId`, `_ResourceId`, `_SubscriptionId`), and names compare ignoring case.
 * `TimeGenerated` is not here: the Data Collector API fills it from `ActivityTime` (time-generated-field header).
 */
export const LOG_RECORD_COLUMNS = [
  { name: 'ActivityId', type: 'string', description: 'MCAS activity _id.' },
  { name: 'ActivityTime', type: 'datetime', description: 'When the activity happened (MCAS timestamp).' },
  { name: 'CreatedTime', type: 'datetime', description: 'When MCAS saved the activity (MCAS created).' },
  { name: 'AppId', type: 'string', description: 'MCAS app id, e.g. 11161 for Office 365.' },
  { name: 'AppName', type: 'string', description: 'App name, e.g. Microsoft OneDrive for Business.' },
  { name: 'SourceAppId', type: 'string', description: 'App whose connector reported the activity (srcAppId).' },
  { name: 'EventType', type: 'string', description: 'Event category, e.g. EVENT_CATEGORY_LOGIN (eventTypeName).' },
  { name: 'EventTypeValue', type: 'string', description: 'App-specific event, e.g. EVENT_AAD_LOGIN_FAILED.' },
  {
    name: 'ActionType',
    type: 'string',
    description: 'MCAS actionType, else the source app operation (mainInfo.rawOperationName), e.g. FileDownloaded.',
  },
  { name: 'Description', type: 'string', description: 'Human-readable description from MCAS.' },
  { name: 'Severity', type: 'string', description: 'MCAS severity, e.g. INFO.' },
  { name: 'UserName', type: 'string', description: 'user.userName, else failedUserData.userName (failed logons).' },
  { name: 'ActorName', type: 'string', description: 'Display name of the resolved actor (resolvedActor.name).' },
  { name: 'IpAddress', type: 'string', description: 'Client IP (device.clientIP).' },
  { name: 'CountryCode', type: 'string', description: 'Country of the client IP (location.countryCode).' },
  { name: 'City', type: 'string', description: 'City of the client IP (location.city).' },
  { name: 'UserAgent', type: 'string', description: 'Raw user agent (device.userAgent).' },
  { name: 'ObjectName', type: 'string', description: 'Name of the first named object in mainInfo.eventObjects.' },
  {
    name: 'IsSuccess',
    type: 'boolean',
    description: 'Whether the activity succeeded, only when the record says so (see deriveIsSuccess); else empty.',
  },
  { name: 'ResultMessage', type: 'string', description: 'Failure message (mainInfo.activityResult.message).' },
  { name: 'RawDataJson', type: 'string', description: 'The source app raw record (rawDataJson), as JSON.' },
  { name: 'EventObjectsJson', type: 'string', description: 'mainInfo.eventObjects, as JSON.' },
  { name: 'LocationJson', type: 'string', description: 'location, as JSON.' },
  { name: 'UserAgentJson', type: 'string', description: 'The parsed user agent (userAgent object), as JSON.' },
  { name: 'DescriptionMetadataJson', type: 'string', description: 'description_metadata, as JSON.' },
  { name: 'EntityDataJson', type: 'string', description: 'entityData, as JSON.' },
  ...BOOKKEEPING_COLUMNS,
] as const satisfies readonly LogColumn[];

type ColumnValue<T extends LogColumnType> = T extends 'boolean' ? boolean : string;

/** The row type of a column list: every column optional, typed by its column type. */
export type RowOf<Columns extends readonly LogColumn[]> = {
  [C in Columns[number] as C['name']]?: ColumnValue<C['type']>;
};

/** One row. Every column is optional: a value that is absent in the activity is left out, never sent as null. */
export type LogRecord = RowOf<typeof LOG_RECORD_COLUMNS>;

export type LogColumnName = keyof LogRecord;

/** A string value within the per-field limit. */
const FieldStringSchema = z
  .string()
  .refine((value) => utf8ByteLength(value) <= MAX_FIELD_BYTES, `longer than ${MAX_FIELD_BYTES} UTF-8 bytes`);

const VALUE_SCHEMAS: Record<LogColumnType, z.ZodType> = {
  string: FieldStringSchema,
  // toISOString() form: UTC with milliseconds and a 4-digit year.
  datetime: z.iso.datetime({ precision: 3 }),
  boolean: z.boolean(),
};

/**
 * The strict schema of a row with these columns: an unknown column, a wrong type, an over-long string or a non-ISO
 * time fails. For tests and checks; the mappings do not run it.
 */
export function rowSchema<Columns extends readonly LogColumn[]>(columns: Columns): z.ZodType<RowOf<Columns>> {
  return z.strictObject(
    Object.fromEntries(columns.map((column) => [column.name, VALUE_SCHEMAS[column.type].optional()])),
  ) as unknown as z.ZodType<RowOf<Columns>>;
}

/** The output shape of the activity mapping, strict (see rowSchema). */
export const LogRecordSchema: z.ZodType<LogRecord> = rowSchema(LOG_RECORD_COLUMNS);
