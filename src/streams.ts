// The streams the connector copies: where each is read from, which fields carry its cursor, and how a record becomes a
// row. Where its rows go is resolved once in config (Config.destinations, by resource). The pipeline (run.ts) is the
// same for every stream.
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
  map: mapAlert,
});
