// The streams the connector copies: where each is read from, which fields carry its cursor, how a record becomes a
// row, and where rows go. The pipeline (run.ts) is the same for every stream.
import { mapAlert } from './mapping/toAlertRecord.js';
import { mapActivity } from './mapping/toLogRecord.js';
import type { McasResource } from './mcas/McasClient.js';

export interface MappedRow {
  record: object;
  flagged: boolean;
  id?: string | undefined;
  issues?: readonly string[] | undefined;
}

export interface StreamSpec {
  /** Name of the stream's checkpoint (and of its run report). */
  name: string;
  resource: McasResource;
  /** Filter and sort field of the cursor in the API. */
  cursorField: 'created' | 'date';
  /** Record field holding the cursor value. */
  timeKey: 'created' | 'timestamp';
  /** The row's ISO 8601 field that becomes TimeGenerated. */
  timeGeneratedField: string;
  /** Default Log-Type (the table is <Log-Type>_CL). */
  defaultLogType: string;
  map(raw: unknown): MappedRow;
}

/**
 * Activities, by the time MCAS saved them (`created`): an activity saved late is still read, which a cursor on the
 * activity's own time would skip.
 */
export const ACTIVITIES: StreamSpec = Object.freeze({
  name: 'activities',
  resource: 'activities',
  cursorField: 'created',
  timeKey: 'created',
  timeGeneratedField: 'ActivityTime',
  defaultLogType: 'MCAS_Activity_Log',
  map: mapActivity,
});

/**
 * Alerts, by the time they were raised (`date`, the record's `timestamp`): the optional second stream
 * (MCAS_ALERTS_ENABLED). An alert is copied once; later changes to its status or resolution are not followed.
 */
export const ALERTS: StreamSpec = Object.freeze({
  name: 'alerts',
  resource: 'alerts',
  cursorField: 'date',
  timeKey: 'timestamp',
  timeGeneratedField: 'AlertTime',
  defaultLogType: 'MCAS_Alert_Log',
  map: mapAlert,
});
