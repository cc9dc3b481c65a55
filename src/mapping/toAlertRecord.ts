// Maps one MCAS alert to one Log Analytics row (toAlertRecord, pure and total), and checks raw records first so an
// alert that fails the core schema becomes a flagged row instead of a gap or a stalled run (mapAlert).
import {
  ALERT_INTENTS,
  ALERT_RESOLUTION_STATUSES,
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  ALERT_STORIES,
  McasAlertSchema,
  type McasAlert,
} from '../mcas/alertSchema.js';
import { isJsonObject } from '../mcas/unchecked.js';
import type { AlertColumnName, AlertRecord } from './AlertRecord.js';
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

export type MappedAlert = MappedRecord<AlertRecord>;

/**
 * Validates one raw alert and maps it. Never throws: an alert that fails McasAlertSchema (no string `_id`,
 * `timestamp` not epoch ms, not an object at all) comes back flagged, with the issues.
 */
export function mapAlert(raw: unknown): MappedAlert {
  return mapOrFlag(raw, McasAlertSchema, toAlertRecord, toFlaggedAlertRecord);
}

type Entity = Record<string, unknown>;

// Entity `type` values, from the api-alerts-list example (account, service, policyRule, device) and public samples
// (user, ip, file; discovery_user/discovery_ip on Cloud Discovery alerts): test/fixtures/alerts/README.md.
const USER_TYPES = new Set(['account', 'user', 'discovery_user']);
const IP_TYPES = new Set(['ip', 'discovery_ip']);
const APP_TYPES = new Set(['service']);
const POLICY_TYPES = new Set(['policyRule', 'policy']);
const FILE_TYPES = new Set(['file']);

/**
 * The row for a valid alert. `timestamp` becomes ISO 8601; the documented numeric codes become their names; the
 * entity lists become comma-separated columns (duplicates once) next to the whole list in EntitiesJson; every string
 * longer than MAX_FIELD_BYTES (UTF-8) is cut and its column named in `TruncatedFields`. Absent or wrongly typed
 * optional parts simply leave their columns out.
 */
export function toAlertRecord(alert: McasAlert): AlertRecord {
  const fit = createFieldFitter<AlertColumnName>();
  const entities = (alert.entities ?? []).filter(isJsonObject);
  // One object literal with every column, in column order, so that all rows share one shape.
  const record: AlertRecord = {
    AlertId: fit.text(alert._id, 'AlertId'),
    AlertTime: isoTime(alert.timestamp),
    AlertTitle: fit.text(alert.title, 'AlertTitle'),
    Description: fit.text(alert.description, 'Description'),
    Severity: codeName(alert.severityValue, ALERT_SEVERITIES),
    Status: codeName(alert.statusValue, ALERT_STATUSES),
    ResolutionStatus: codeName(alert.resolutionStatusValue, ALERT_RESOLUTION_STATUSES),
    IsPreview: alert.isPreview,
    ThreatScore: alert.threatScore === undefined ? undefined : String(alert.threatScore),
    AlertUrl: fit.text(alert.URL, 'AlertUrl'),
    UserNames: fit.text(entityList(entities, USER_TYPES, userNameOf), 'UserNames'),
    IpAddresses: fit.text(entityList(entities, IP_TYPES, addressOf), 'IpAddresses'),
    AppNames: fit.text(entityList(entities, APP_TYPES, labelOf), 'AppNames'),
    PolicyName: fit.text(policyName(alert, entities), 'PolicyName'),
    FileNames: fit.text(entityList(entities, FILE_TYPES, labelOf), 'FileNames'),
    EntitiesJson: fit.json(alert.entities, 'EntitiesJson'),
    EvidenceJson: fit.json(alert.evidence, 'EvidenceJson'),
    StoriesJson: fit.json(codeNames(alert.stories, ALERT_STORIES), 'StoriesJson'),
    IntentJson: fit.json(codeNames(alert.intent, ALERT_INTENTS), 'IntentJson'),
    TruncatedFields: undefined,
  };
  record.TruncatedFields = fit.truncatedFields();
  return record;
}

/**
 * The minimal row for an alert that failed the core schema: `AlertId` when the input has a string `_id`, `AlertTime`
 * when `timestamp` still reads as epoch ms (also as a digit string), the issues, the whole raw record as (truncated)
 * JSON, and `IsFlagged: true`. Without `AlertTime`, Log Analytics stamps the row with its ingestion time.
 */
export function toFlaggedAlertRecord(raw: unknown, issues: readonly string[]): AlertRecord {
  const fit = createFieldFitter<AlertColumnName>();
  const timestamp = isJsonObject(raw) ? raw['timestamp'] : undefined;
  const record: AlertRecord = {
    AlertId: fit.text(idOf(raw), 'AlertId'),
    AlertTime: looseIsoTime(timestamp),
    TruncatedFields: undefined,
    ...flaggedColumns(raw, issues, fit),
  };
  record.TruncatedFields = fit.truncatedFields();
  return record;
}

/** The documented name of a code; an undocumented code stays visible as its number. */
function codeName(code: number | undefined, names: Readonly<Record<number, string>>): string | undefined {
  return code === undefined ? undefined : (names[code] ?? String(code));
}

/** The list with each documented code replaced by its name; anything else is kept as it came. */
function codeNames(codes: unknown[] | undefined, names: Readonly<Record<number, string>>): unknown[] | undefined {
  return codes?.map((code) => (typeof code === 'number' ? (names[code] ?? code) : code));
}

/** The distinct non-empty values `pick` reads from entities of the given types, in MCAS's order, comma-separated. */
function entityList(
  entities: readonly Entity[],
  types: ReadonlySet<string>,
  pick: (entity: Entity) => string | undefined,
): string | undefined {
  const values = entityValues(entities, types, pick);
  return values.length > 0 ? values.join(',') : undefined;
}

function entityValues(
  entities: readonly Entity[],
  types: ReadonlySet<string>,
  pick: (entity: Entity) => string | undefined,
): string[] {
  const values = new Set<string>();
  for (const entity of entities) {
    const type = text(entity, 'type');
    if (type === undefined || !types.has(type)) continue;
    const value = pick(entity);
    if (value !== undefined) values.add(value);
  }
  return [...values];
}

/** The first policy entity's label, else the top-level `policy` object's (present in some responses). */
function policyName(alert: McasAlert, entities: readonly Entity[]): string | undefined {
  return entityValues(entities, POLICY_TYPES, labelOf)[0] ?? nonEmpty(alert.policy?.label);
}

/**
 * An account's label is its display name; `pa` (principal address) is the sign-in name analysts search for. User
 * entities carry the address in `id` and `label`.
 */
function userNameOf(entity: Entity): string | undefined {
  return text(entity, 'pa') ?? addressOf(entity);
}

/** `label`, else a string `id`: user and ip entities carry the address in both. */
function addressOf(entity: Entity): string | undefined {
  return labelOf(entity) ?? text(entity, 'id');
}

/** Only the label: the ids of services, files and policies are not names. */
function labelOf(entity: Entity): string | undefined {
  return text(entity, 'label');
}

function text(entity: Entity, key: string): string | undefined {
  return nonEmpty(stringField(entity, key));
}
