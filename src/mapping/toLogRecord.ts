// Maps one MCAS activity to one Log Analytics row (toLogRecord, pure and total), and checks raw records first so a
// record that fails the core schema becomes a flagged row instead of a gap or a stalled run (mapActivity).
import { type CheckedActivity, type McasActivityCore, McasActivityCoreSchema } from '../mcas/schema.js';
import { isJsonObject, readArray, readBoolean, readObject, readString } from '../mcas/unchecked.js';
import type { LogColumnName, LogRecord } from './LogRecord.js';
import {
  createFieldFitter,
  flaggedColumns,
  idOf,
  isoTime,
  looseIsoTime,
  mapOrFlag,
  type MappedRecord,
  nonEmpty,
  stringField,
} from './rowBuilder.js';

export type MappedActivity = MappedRecord<LogRecord>;

/**
 * Validates one raw record and maps it. Never throws: a record that fails McasActivityCoreSchema (no `_id`, `created`
 * or `timestamp` not epoch ms, not an object at all) comes back flagged, with the issues.
 */
export function mapActivity(raw: unknown): MappedActivity {
  return mapOrFlag(raw, McasActivityCoreSchema, rowOfChecked, toFlaggedRecord);
}

/** `raw` passed McasActivityCoreSchema, which checks its own `_id`, `created` and `timestamp` and transforms none. */
function rowOfChecked(_core: McasActivityCore, raw: unknown): LogRecord {
  return toLogRecord(raw as CheckedActivity);
}

/**
 * The row for a valid activity. Times become ISO 8601; nested parts become JSON strings of the original
 * sub-objects; every string longer than MAX_FIELD_BYTES (UTF-8) is cut and its column named in `TruncatedFields`.
 * Absent or wrongly typed optional parts simply leave their columns out: each is read as the type McasActivity
 * gives it, or not at all.
 */
export function toLogRecord(activity: CheckedActivity): LogRecord {
  const fit = createFieldFitter<LogColumnName>();
  const mainInfo = readObject(activity, 'mainInfo');
  const device = readObject(activity, 'device');
  const location = readObject(activity, 'location');
  const userAgent = activity.userAgent;
  const eventObjects = readArray(mainInfo, 'eventObjects');
  // One object literal with every column, in column order, so that all rows share one shape.
  const record: LogRecord = {
    ActivityId: fit.text(activity._id, 'ActivityId'),
    ActivityTime: isoTime(activity.timestamp),
    CreatedTime: isoTime(activity.created),
    AppId: fit.text(idString(activity.appId), 'AppId'),
    AppName: fit.text(readString(activity, 'appName'), 'AppName'),
    SourceAppId: fit.text(idString(activity.srcAppId), 'SourceAppId'),
    EventType: fit.text(readString(activity, 'eventTypeName'), 'EventType'),
    EventTypeValue: fit.text(readString(activity, 'eventTypeValue'), 'EventTypeValue'),
    ActionType: fit.text(readString(activity, 'actionType') ?? readString(mainInfo, 'rawOperationName'), 'ActionType'),
    Description: fit.text(readString(activity, 'description'), 'Description'),
    Severity: fit.text(readString(activity, 'severity'), 'Severity'),
    // Failed logons carry the attempted name in failedUserData, not in user (DESIGN.md).
    UserName: fit.text(
      nonEmpty(readString(readObject(activity, 'user'), 'userName')) ??
        nonEmpty(readString(readObject(activity, 'failedUserData'), 'userName')),
      'UserName',
    ),
    ActorName: fit.text(readString(readObject(activity, 'resolvedActor'), 'name'), 'ActorName'),
    IpAddress: fit.text(readString(device, 'clientIP'), 'IpAddress'),
    CountryCode: fit.text(stringField(location, 'countryCode'), 'CountryCode'),
    City: fit.text(stringField(location, 'city'), 'City'),
    UserAgent: fit.text(
      readString(device, 'userAgent') ?? (typeof userAgent === 'string' ? userAgent : undefined),
      'UserAgent',
    ),
    ObjectName: fit.text(firstObjectName(eventObjects), 'ObjectName'),
    IsSuccess: deriveIsSuccess(activity),
    ResultMessage: fit.text(readString(readObject(mainInfo, 'activityResult'), 'message'), 'ResultMessage'),
    RawDataJson: fit.json(readObject(activity, 'rawDataJson'), 'RawDataJson'),
    EventObjectsJson: fit.json(eventObjects, 'EventObjectsJson'),
    LocationJson: fit.json(location, 'LocationJson'),
    UserAgentJson: isJsonObject(userAgent) ? fit.json(userAgent, 'UserAgentJson') : undefined,
    DescriptionMetadataJson: fit.json(readObject(activity, 'description_metadata'), 'DescriptionMetadataJson'),
    EntityDataJson: fit.json(jsonContainer(activity.entityData), 'EntityDataJson'),
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
export function deriveIsSuccess(activity: CheckedActivity): boolean | undefined {
  const mainInfo = readObject(activity, 'mainInfo');
  const stated = readBoolean(readObject(mainInfo, 'activityResult'), 'isSuccess');
  if (stated !== undefined) return stated;
  if (
    readString(activity, 'eventTypeName') === 'EVENT_CATEGORY_FAILED_LOGIN' ||
    readString(activity, 'genericEventType') === 'ENUM_ACTIVITY_GENERIC_TYPE_FAILED_LOGIN' ||
    readString(activity, 'description_id') === 'EVENT_DESCRIPTION_FAILED_LOGIN' ||
    readString(mainInfo, 'type') === 'failedLogin'
  ) {
    return false;
  }
  const rawDataJson = readObject(activity, 'rawDataJson');
  const status =
    statusToBoolean(stringField(rawDataJson, 'LoginStatus')) ??
    statusToBoolean(stringField(rawDataJson, 'ResultStatus'));
  if (status !== undefined) return status;
  if (readString(activity, 'eventTypeName') === 'EVENT_CATEGORY_LOGIN') return true;
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

/** `appId`/`srcAppId` as text: numbers as MCAS sends them, or strings; anything else is no id. */
function idString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  // Finite, as z.number() demands; JSON has no other numbers anyway.
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
}

/** `entityData` is kept whole when it is an object or an array. */
function jsonContainer(value: unknown): Record<string, unknown> | unknown[] | undefined {
  return Array.isArray(value) || isJsonObject(value) ? value : undefined;
}
