// Maps one MCAS activity to one Log Analytics row (toLogRecord, pure and total), and checks raw records first so a
// record that fails the core schema becomes a flagged row instead of a gap or a stalled run (mapActivity).
import { McasActivitySchema, type McasActivity } from '../mcas/schema.js';
import type { LogColumnName, LogRecord } from './LogRecord.js';
import {
  createFieldFitter,
  flaggedColumns,
  idOf,
  isJsonObject,
  looseIsoTime,
  mapOrFlag,
  type MappedRecord,
  nonEmpty,
  stringField,
} from './rowBuilder.js';

export type MappedActivity = MappedRecord<LogRecord>;

/**
 * Validates one raw record and maps it. Never throws: a record that fails McasActivitySchema (no `_id`, `created`
 * or `timestamp` not epoch ms, not an object at all) comes back flagged, with the issues.
 */
export function mapActivity(raw: unknown): MappedActivity {
  return mapOrFlag(raw, McasActivitySchema, toLogRecord, toFlaggedRecord);
}

/**
 * The row for a valid activity. Times become ISO 8601; nested parts become JSON strings of the original
 * sub-objects; every string longer than MAX_FIELD_BYTES (UTF-8) is cut and its column named in `TruncatedFields`.
 * Absent or wrongly typed optional parts simply leave their columns out.
 */
export function toLogRecord(activity: McasActivity): LogRecord {
  const fit = createFieldFitter<LogColumnName>();
  const { mainInfo, location, userAgent } = activity;
  const eventObjects = mainInfo?.eventObjects;
  // One object literal with every column, in column order, so that all rows share one shape.
  const record: LogRecord = {
    ActivityId: fit.text(activity._id, 'ActivityId'),
    ActivityTime: new Date(activity.timestamp).toISOString(),
    CreatedTime: new Date(activity.created).toISOString(),
    AppId: fit.text(idString(activity.appId), 'AppId'),
    AppName: fit.text(activity.appName, 'AppName'),
    SourceAppId: fit.text(idString(activity.srcAppId), 'SourceAppId'),
    EventType: fit.text(activity.eventTypeName, 'EventType'),
    EventTypeValue: fit.text(activity.eventTypeValue, 'EventTypeValue'),
    ActionType: fit.text(activity.actionType ?? mainInfo?.rawOperationName, 'ActionType'),
    Description: fit.text(activity.description, 'Description'),
    Severity: fit.text(activity.severity, 'Severity'),
    // Failed logons carry the attempted name in failedUserData, not in user (DESIGN.md).
    UserName: fit.text(nonEmpty(activity.user?.userName) ?? nonEmpty(activity.failedUserData?.userName), 'UserName'),
    ActorName: fit.text(activity.resolvedActor?.name, 'ActorName'),
    IpAddress: fit.text(activity.device?.clientIP, 'IpAddress'),
    CountryCode: fit.text(stringField(location, 'countryCode'), 'CountryCode'),
    City: fit.text(stringField(location, 'city'), 'City'),
    UserAgent: fit.text(
      activity.device?.userAgent ?? (typeof userAgent === 'string' ? userAgent : undefined),
      'UserAgent',
    ),
    ObjectName: fit.text(firstObjectName(eventObjects), 'ObjectName'),
    IsSuccess: deriveIsSuccess(activity),
    ResultMessage: fit.text(mainInfo?.activityResult?.message, 'ResultMessage'),
    RawDataJson: fit.json(activity.rawDataJson, 'RawDataJson'),
    EventObjectsJson: fit.json(eventObjects, 'EventObjectsJson'),
    LocationJson: fit.json(location, 'LocationJson'),
    UserAgentJson: typeof userAgent === 'object' ? fit.json(userAgent, 'UserAgentJson') : undefined,
    DescriptionMetadataJson: fit.json(activity.description_metadata, 'DescriptionMetadataJson'),
    EntityDataJson: fit.json(activity.entityData, 'EntityDataJson'),
    TruncatedFields: undefined,
  };
  record.TruncatedFields = fit.truncatedFields();
  return record;
}

/**
 * The minimal row for a record that failed the core schema: `ActivityId` when the input has a string `_id`, the
 * issues, the whole raw record as (truncated) JSON, and `IsFlagged: true`. `ActivityTime`/`CreatedTime` are set
 * only when `timestamp`/`created` still read as epoch ms (also as a digit string); without `ActivityTime`,
 * Log Analytics stamps the row with its ingestion time, which is acceptable for a flagged row.
 */
export function toFlaggedRecord(raw: unknown, issues: readonly string[]): LogRecord {
  const fit = createFieldFitter<LogColumnName>();
  const fields = isJsonObject(raw) ? raw : undefined;
  const record: LogRecord = {
    ActivityId: fit.text(idOf(raw), 'ActivityId'),
    ActivityTime: looseIsoTime(fields?.['timestamp']),
    CreatedTime: looseIsoTime(fields?.['created']),
    TruncatedFields: undefined,
    ...flaggedColumns(raw, issues, fit),
  };
  record.TruncatedFields = fit.truncatedFields();
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

function idString(value: number | string | undefined): string | undefined {
  return typeof value === 'number' ? String(value) : value;
}
