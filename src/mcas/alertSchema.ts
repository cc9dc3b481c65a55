// Zod schema of one Defender for Cloud Apps (MCAS) alert as listed by POST /api/v1/alerts/, and the documented
// meanings of its numeric codes. Strict only on `_id` and `timestamp`; everything else is lenient and passed through.
import { z } from 'zod';

import { EpochMsSchema, lenient } from './schema.js';

/**
 * One alert as returned in `data` of POST /api/v1/alerts/ (the page envelope is the same as for activities:
 * McasPageSchema). Fields are those of the "Properties" table of Microsoft's api-alerts page and of its
 * api-alerts-list response example; test/fixtures/alerts/README.md names the sources. Unknown fields pass through.
 */
export const McasAlertSchema = z.looseObject({
  /**
   * A 24-hex string in practice (the list example; the MCAS PowerShell module's Get-MCASAlert checks
   * `^[A-Fa-f0-9]{24}$`), although the properties table types it "int".
   */
  _id: z.string().min(1),
  /** When the alert was raised (epoch ms); the `date` filter and sort field work on this. */
  timestamp: EpochMsSchema,

  title: lenient(z.string()),
  /** HTML when `isMarkdown` is true (the properties table). */
  description: lenient(z.string()),
  /** See ALERT_SEVERITIES. */
  severityValue: lenient(z.number().int()),
  /** See ALERT_STATUSES. */
  statusValue: lenient(z.number().int()),
  /** See ALERT_RESOLUTION_STATUSES. */
  resolutionStatusValue: lenient(z.number().int()),
  /**
   * The entities involved: `{ type, id, label, … }` with `type` account (`pa` = principal address), user, ip,
   * service (`id` = app id), policyRule (`policyType`), file, device, country, groupTag, … Items are not checked
   * one by one: the mapping reads them defensively and keeps the whole list as JSON.
   */
  entities: lenient(z.array(z.unknown())),
  /** Risk categories, see ALERT_STORIES. */
  stories: lenient(z.array(z.unknown())),
  /** "List of short descriptions of main parts of the alert"; shape not documented further. */
  evidence: lenient(z.array(z.unknown())),
  /** MITRE ATT&CK tactics, see ALERT_INTENTS. */
  intent: lenient(z.array(z.unknown())),
  isPreview: lenient(z.boolean()),
  /** "User investigation priority" (an integer). */
  threatScore: lenient(z.number()),
  /** The alert's page in the portal. */
  URL: lenient(z.string()),
  /** The policy that raised the alert, as an entity (`type` policyRule); also listed in `entities`. */
  policy: lenient(z.looseObject({ label: lenient(z.string()) })),
});
export type McasAlert = z.infer<typeof McasAlertSchema>;

/** `severityValue` (api-alerts, Properties): 0 LOW, 1 MEDIUM, 2 HIGH, 3 INFORMATIONAL. */
export const ALERT_SEVERITIES: Readonly<Record<number, string>> = Object.freeze({
  0: 'Low',
  1: 'Medium',
  2: 'High',
  3: 'Informational',
});

/** `statusValue` (api-alerts, Properties): whether the alert was opened. 0 UNREAD, 1 READ, 2 ARCHIVED. */
export const ALERT_STATUSES: Readonly<Record<number, string>> = Object.freeze({
  0: 'Unread',
  1: 'Read',
  2: 'Archived',
});

/**
 * `resolutionStatusValue` (api-alerts, Properties and the resolutionStatus filter): 0 OPEN, 1 DISMISSED and
 * 2 RESOLVED (legacy), 3 FALSE_POSITIVE, 4 BENIGN, 5 TRUE_POSITIVE.
 */
export const ALERT_RESOLUTION_STATUSES: Readonly<Record<number, string>> = Object.freeze({
  0: 'Open',
  1: 'Dismissed',
  2: 'Resolved',
  3: 'FalsePositive',
  4: 'Benign',
  5: 'TruePositive',
});

/** `stories` (api-alerts, Properties): risk categories. 6 is not listed. */
export const ALERT_STORIES: Readonly<Record<number, string>> = Object.freeze({
  0: 'THREAT_DETECTION',
  1: 'PRIVILEGED_ACCOUNT_MONITORING',
  2: 'COMPLIANCE',
  3: 'DLP',
  4: 'DISCOVERY',
  5: 'SHARING_CONTROL',
  7: 'ACCESS_CONTROL',
  8: 'CONFIGURATION_MONITORING',
});

/** `intent` (api-alerts, Properties): kill-chain intents following the MITRE ATT&CK enterprise matrix. */
export const ALERT_INTENTS: Readonly<Record<number, string>> = Object.freeze({
  0: 'UNKNOWN',
  1: 'PREATTACK',
  2: 'INITIAL_ACCESS',
  3: 'PERSISTENCE',
  4: 'PRIVILEGE_ESCALATION',
  5: 'DEFENSE_EVASION',
  6: 'CREDENTIAL_ACCESS',
  7: 'DISCOVERY',
  8: 'LATERAL_MOVEMENT',
  9: 'EXECUTION',
  10: 'COLLECTION',
  11: 'EXFILTRATION',
  12: 'COMMAND_AND_CONTROL',
  13: 'IMPACT',
});
