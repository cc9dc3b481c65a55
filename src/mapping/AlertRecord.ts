// The row sent to Log Analytics for one MCAS alert (custom log MCAS_Alert_Log): a fixed, flat set of columns with
// their types, and its zod schema. ALERT_RECORD_COLUMNS is the single source, as LOG_RECORD_COLUMNS is for activities.
import type { z } from 'zod';

import { BOOKKEEPING_COLUMNS, type LogColumn, rowSchema, type RowOf } from './LogRecord.js';

/**
 * Every column an alert row can have, in a fixed order. Same rules as LOG_RECORD_COLUMNS: legal names, unique
 * ignoring case, none of the reserved names (`id`, `TenantId`, `Type`, `Title`, `UniqueId`, `_ResourceId`,
 * `_SubscriptionId`), hence `AlertId` and `AlertTitle`. `TimeGenerated` is not here: the sink fills it from
 * `AlertTime` (time-generated-field header). Each column keeps one type in every row, so the Data Collector API
 * never splits it into `_s`/`_d` twins; the one number (threatScore) is therefore sent as a string.
 *
 * An alert's read and resolution state changes after it is raised; a row records the state when it was copied.
 */
export const ALERT_RECORD_COLUMNS = [
  { name: 'AlertId', type: 'string', description: 'MCAS alert _id.' },
  { name: 'AlertTime', type: 'datetime', description: 'When the alert was raised (MCAS timestamp).' },
  { name: 'AlertTitle', type: 'string', description: 'Alert title (title).' },
  { name: 'Description', type: 'string', description: 'Alert description; HTML when MCAS says isMarkdown.' },
  {
    name: 'Severity',
    type: 'string',
    description: 'Low, Medium, High or Informational (severityValue 0-3); an undocumented code as its number.',
  },
  {
    name: 'Status',
    type: 'string',
    description: 'Unread, Read or Archived (statusValue 0-2); an undocumented code as its number.',
  },
  {
    name: 'ResolutionStatus',
    type: 'string',
    description:
      'Open, Dismissed, Resolved, FalsePositive, Benign or TruePositive (resolutionStatusValue 0-5); ' +
      'an undocumented code as its number.',
  },
  { name: 'IsPreview', type: 'boolean', description: 'Whether the detection is in preview (isPreview).' },
  { name: 'ThreatScore', type: 'string', description: 'User investigation priority (threatScore), as text.' },
  { name: 'AlertUrl', type: 'string', description: 'The alert in the Defender for Cloud Apps portal (URL).' },
  {
    name: 'UserNames',
    type: 'string',
    description: 'Comma-separated account/user entities: principal address (pa), else label.',
  },
  { name: 'IpAddresses', type: 'string', description: 'Comma-separated ip entities (label).' },
  { name: 'AppNames', type: 'string', description: 'Comma-separated service entities (label), e.g. Office 365.' },
  { name: 'PolicyName', type: 'string', description: 'The policy that raised the alert (policyRule entity label).' },
  { name: 'FileNames', type: 'string', description: 'Comma-separated file entities (label).' },
  { name: 'EntitiesJson', type: 'string', description: 'entities, as JSON: every entity with all its fields.' },
  { name: 'EvidenceJson', type: 'string', description: 'evidence, as JSON.' },
  {
    name: 'StoriesJson',
    type: 'string',
    description: 'Risk categories (stories) as a JSON array of names, e.g. ["THREAT_DETECTION"].',
  },
  {
    name: 'IntentJson',
    type: 'string',
    description: 'MITRE ATT&CK tactics (intent) as a JSON array of names, e.g. ["INITIAL_ACCESS"].',
  },
  ...BOOKKEEPING_COLUMNS,
] as const satisfies readonly LogColumn[];

/** One alert row. Every column is optional: a value absent in the alert is left out, never sent as null. */
export type AlertRecord = RowOf<typeof ALERT_RECORD_COLUMNS>;

export type AlertColumnName = keyof AlertRecord;

/** The output shape, strict: an unknown column, a wrong type, an over-long string or a non-ISO time fails. */
export const AlertRecordSchema: z.ZodType<AlertRecord> = rowSchema(ALERT_RECORD_COLUMNS);
