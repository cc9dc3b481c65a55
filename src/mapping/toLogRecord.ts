// Maps one MCAS activity to one Log Analytics row (toLogRecord, pure and total), and checks raw records first so a
// record that fails the core schema becomes a flagged row instead of a gap or a stalled run (mapActivity).
import type { z } from 'zod';

import { MAX_EPOCH_MS, McasActivitySchema, type McasActivity } from '../mcas/schema.js';
import type { LogColumnName, LogRecord } from './LogRecord.js';
import { MAX_FIELD_BYTES, truncateUtf8 } from './truncate.js';

export interface MappedActivity {
  record: LogRecord;
  /** True when the input failed the core schema and `record` is a flagged minimal row. */
  flagged: boolean;
  /** The activity `_id` when the input has a non-empty string one (untruncated, for logs and checkpoints). */
  id: string | undefined;
  /** Flagged rows only: what was wrong, as "path: message". */
  issues?: string[];
}

/**
 * Validates one raw record and maps it. Never throws: a record that fails McasActivitySchema (no `_id`, `created`
 * or `timestamp` not epoch ms, not an object at all) comes back flagged, with the issues.
 */
export function mapActivity(raw: unknown): MappedActivity {
  let issues: string[];
  try {
    const parsed = McasActivitySchema.safeParse(raw);
    if (parsed.success) return { record: toLogRecord(parsed.data), flagged: false, id: parsed.data._id };
    issues = parsed.error.issues.map(describeIssue);
  } catch (error) {
    // Unreachable for JSON input; here so that one unforeseen record cannot stall every later run.
    issues = [`mapping failed: ${error instanceof Error ? error.message : safeString(error)}`];
  }
  return { record: toFlaggedRecord(raw, issues), flagged: true, id: idOf(raw), issues };
}

/**
 * The row for a valid activity. Times become ISO 8601; nested parts become JSON strings of the original
 * sub-objects; every string longer than MAX_FIELD_BYTES (UTF-8) is cut and its column named in `TruncatedFields`.
 * Absent or wrongly typed optional parts simply leave their columns out.
 */
export function toLogRecord(activity: McasActivity): LogRecord {
  const cut: LogColumnName[] = [];
  const { mainInfo, location, userAgent } = activity;
  const eventObjects = mainInfo?.eventObjects;
  // One object literal with every column, in column order, so that all rows share one shape.
  const record: LogRecord = {
    ActivityId: fit(activity._id, 'ActivityId', cut),
    ActivityTime: new Date(activity.timestamp).toISOString(),
    CreatedTime: new Date(activity.created).toISOString(),
    AppId: fit(idString(activity.appId), 'AppId', cut),
    AppName: fit(activity.appName, 'AppName', cut),
    SourceAppId: fit(idString(activity.srcAppId), 'SourceAppId', cut),
    EventType: fit(activity.eventTypeName, 'EventType', cut),
    EventTypeValue: fit(activity.eventTypeValue, 'EventTypeValue', cut),
    ActionType: fit(activity.actionType ?? mainInfo?.rawOperationName, 'ActionType', cut),
    Description: fit(activity.description, 'Description', cut),
    Severity: fit(activity.severity, 'Severity', cut),
    // Failed logons carry the attempted name in failedUserData, not in user (DESIGN.md).
    UserName: fit(nonEmpty(activity.user?.userName) ?? nonEmpty(activity.failedUserData?.userName), 'UserName', cut),
    ActorName: fit(activity.resolvedActor?.name, 'ActorName', cut),
    IpAddress: fit(activity.device?.clientIP, 'IpAddress', cut),
    CountryCode: fit(stringField(location, 'countryCode'), 'CountryCode', cut),
    City: fit(stringField(location, 'city'), 'City', cut),
    UserAgent: fit(
      activity.device?.userAgent ?? (typeof userAgent === 'string' ? userAgent : undefined),
      'UserAgent',
      cut,
    ),
    ObjectName: fit(firstObjectName(eventObjects), 'ObjectName', cut),
    IsSuccess: deriveIsSuccess(activity),
    ResultMessage: fit(mainInfo?.activityResult?.message, 'ResultMessage', cut),
    RawDataJson: fitJson(activity.rawDataJson, 'RawDataJson', cut),
    EventObjectsJson: fitJson(eventObjects, 'EventObjectsJson', cut),
    LocationJson: fitJson(location, 'LocationJson', cut),
    UserAgentJson: typeof userAgent === 'object' ? fitJson(userAgent, 'UserAgentJson', cut) : undefined,
    DescriptionMetadataJson: fitJson(activity.description_metadata, 'DescriptionMetadataJson', cut),
    EntityDataJson: fitJson(activity.entityData, 'EntityDataJson', cut),
    TruncatedFields: undefined,
  };
  if (cut.length > 0) record.TruncatedFields = cut.join(',');
  return record;
}

/**
 * The minimal row for a record that failed the core schema: `ActivityId` when the input has a string `_id`, the
 * issues, the whole raw record as (truncated) JSON, and `IsFlagged: true`. `ActivityTime`/`CreatedTime` are set
 * only when `timestamp`/`created` still read as epoch ms (also as a digit string); without `ActivityTime`,
 * Log Analytics stamps the row with its ingestion time, which is acceptable for a flagged row.
 */
export function toFlaggedRecord(raw: unknown, issues: readonly string[]): LogRecord {
  const cut: LogColumnName[] = [];
  const fields = isJsonObject(raw) ? raw : undefined;
  const record: LogRecord = {
    ActivityId: fit(idOf(raw), 'ActivityId', cut),
    ActivityTime: looseIsoTime(fields?.['timestamp']),
    CreatedTime: looseIsoTime(fields?.['created']),
    TruncatedFields: undefined,
    IsFlagged: true,
    ValidationIssues: fit(issues.join('; '), 'ValidationIssues', cut),
    RawRecordJson: fit(safeJson(raw) ?? safeString(raw), 'RawRecordJson', cut),
  };
  if (cut.length > 0) record.TruncatedFields = cut.join(',');
  return record;
}

/**
 * Whether the activity succeeded, only where the record states it; undefined otherwise. In order:
 * 1. `mainInfo.activityResult.isSuccess` (set on logons);
 * 2. a failed-logon category (`eventTypeName` EVENT_CATEGORY_FAILED_LOGIN, `genericEventType`
 *    ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN, `description_id` EVENT_DESCRIPTION_FAILED_LOGIN, `mainInfo.type`
 *    failedLogin) means false;
 * 3. the source app's own status in `rawDataJson`: `LoginStatus` (Entra ID logons: Success/Failure) or
 *    `ResultStatus` (Office 365 audit: Succeeded/Success/True or Failed/Failure/False; PartiallySucceeded is
 *    left unknown);
 * 4. EVENT_CATEGORY_LOGIN means true, since MCAS files failed logons under their own category.
 * The free-text `description` is not parsed: it is a display string, and words such as "failed" can name an object.
 */
export function deriveIsSuccess(activity: McasActivity): boolean | undefined {
  const stated = activity.mainInfo?.activityResult?.isSuccess;
  if (stated !== undefined) return stated;
  if (
    activity.eventTypeName === 'EVENT_CATEGORY_FAILED_LOGIN' ||
    activity.genericEventType === 'ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN' ||
    activity.description_id === 'EVENT_DESCRIPTION_FAILED_LOGIN' ||
    activity.mainInfo?.type === 'failedLogin'
  ) {
    return false;
  }
  const status =
    statusToBoolean(stringField(activity.rawDataJson, 'LoginStatus')) ??
    statusToBoolean(stringField(activity.rawDataJson, 'ResultStatus'));
  if (status !== undefined) return status;
  if (activity.eventTypeName === 'EVENT_CATEGORY_LOGIN') return true;
  return undefined;
}

const SUCCESS_STATUSES = new Set(['success', 'succeeded', 'true']);
const FAILURE_STATUSES = new Set(['failure', 'failed', 'false']);

function statusToBoolean(status: string | undefined): boolean | undefined {
  if (status === undefined) return undefined;
  const normalized = status.toLowerCase();
  if (SUCCESS_STATUSES.has(normalized)) return true;
  if (FAILURE_STATUSES.has(normalized)) return false;
  return undefined;
}

/**
 * `ObjectName` is the name of the first event object that has one, in MCAS's order. MCAS lists the main object
 * first in the samples we have (the site or file for SharePoint/OneDrive, the target application for logons); the
 * numeric `role`/`objType` codes are undocumented, so we do not pick by them. The whole list is in EventObjectsJson.
 */
function firstObjectName(eventObjects: unknown[] | undefined): string | undefined {
  if (eventObjects === undefined) return undefined;
  for (const item of eventObjects) {
    if (isJsonObject(item)) {
      const name = nonEmpty(stringField(item, 'name'));
      if (name !== undefined) return name;
    }
  }
  return undefined;
}

/** `value` cut to MAX_FIELD_BYTES; the column is added to `cut` when that changed it. */
function fit(value: string | undefined, column: LogColumnName, cut: LogColumnName[]): string | undefined {
  if (value === undefined) return undefined;
  const fitted = truncateUtf8(value, MAX_FIELD_BYTES);
  if (fitted !== value) cut.push(column);
  return fitted;
}

/** The JSON text of `value` (serialized once), cut like any string; undefined when there is nothing to keep. */
function fitJson(value: unknown, column: LogColumnName, cut: LogColumnName[]): string | undefined {
  return value === undefined ? undefined : fit(safeJson(value), column, cut);
}

function safeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // BigInt or a cycle: impossible in parsed JSON
  }
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable value]';
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === 'string' ? value : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

function idString(value: number | string | undefined): string | undefined {
  return typeof value === 'number' ? String(value) : value;
}

function idOf(raw: unknown): string | undefined {
  return isJsonObject(raw) ? nonEmpty(stringField(raw, '_id')) : undefined;
}

/** ISO 8601 of an epoch-ms number or digit string, when it is a plausible time; undefined otherwise. */
function looseIsoTime(value: unknown): string | undefined {
  const ms = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > MAX_EPOCH_MS) return undefined;
  return new Date(ms).toISOString();
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}
