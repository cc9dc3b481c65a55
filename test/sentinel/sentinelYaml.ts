// Checks of the Azure-Sentinel YAML formats (scheduled analytic rules, hunting queries): required fields, values
// Sentinel accepts, and columns that the query really returns. Each check returns problems instead of throwing, so
// a test can show that a broken document is caught. The limits are those of Azure-Sentinel's detection template
// validation (`.script/tests/detectionTemplateSchemaValidation/Models/`: ScheduledTemplateInternalModel and its
// attributes, KillChainTechniquesHelper for which tactics each technique belongs to).
import type { KqlColumn } from './kusto.js';

/** Sentinel's tactic names (MITRE ATT&CK Enterprise, without spaces). */
const TACTICS = new Set([
  'Reconnaissance',
  'ResourceDevelopment',
  'InitialAccess',
  'Execution',
  'Persistence',
  'PrivilegeEscalation',
  'DefenseEvasion',
  'CredentialAccess',
  'Discovery',
  'LateralMovement',
  'Collection',
  'CommandAndControl',
  'Exfiltration',
  'Impact',
]);

/** Identifiers Sentinel offers per entity type (Microsoft Sentinel entity types reference). */
export const ENTITY_IDENTIFIERS: Record<string, readonly string[]> = {
  Account: [
    'Name',
    'FullName',
    'NTDomain',
    'DnsDomain',
    'UPNSuffix',
    'Sid',
    'AadTenantId',
    'AadUserId',
    'PUID',
    'IsDomainJoined',
    'DisplayName',
    'ObjectGuid',
    'CloudAppAccountId',
  ],
  IP: ['Address', 'AddressScope'],
  File: ['Directory', 'Name'],
  CloudApplication: ['AppId', 'Name', 'InstanceName'],
  URL: ['Url'],
  Host: [
    'DnsDomain',
    'NTDomain',
    'HostName',
    'FullName',
    'NetBiosName',
    'AzureID',
    'OMSAgentID',
    'OSFamily',
    'OSVersion',
    'IsDomainJoined',
  ],
  Mailbox: ['MailboxPrimaryAddress', 'DisplayName', 'Upn', 'ExternalDirectoryObjectId', 'RiskLevel'],
};

/** Kusto types an identifier's column may have, where Sentinel needs a specific one. */
const IDENTIFIER_TYPES: Record<string, readonly string[]> = {
  'CloudApplication.AppId': ['int', 'long'],
  'IP.Address': ['string'],
  'Account.FullName': ['string'],
  'File.Name': ['string'],
};

/** MITRE ATT&CK tactics of the techniques used here, as Azure-Sentinel's KillChainTechniquesHelper maps them. */
const TECHNIQUE_TACTICS: Record<string, readonly string[]> = {
  T1020: ['Exfiltration'],
  T1059: ['Execution'],
  T1078: ['InitialAccess', 'Persistence', 'PrivilegeEscalation', 'DefenseEvasion'],
  T1090: ['CommandAndControl'],
  T1098: ['Persistence'],
  T1110: ['CredentialAccess'],
  T1114: ['Collection'],
  T1485: ['Impact'],
  T1530: ['Collection'],
  T1567: ['Exfiltration'],
};

const SEVERITIES = new Set(['Informational', 'Low', 'Medium', 'High']);
const AGGREGATION_KINDS = new Set(['SingleAlert', 'AlertPerResult']);
/** The connector id the solution's data connector definition declares; every rule must name it. */
export const CONNECTOR_ID = 'MCASActivityConnector';
const TRIGGER_OPERATORS = new Set(['gt', 'lt', 'eq', 'ne']);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DURATION = /^(\d+)([mhd])$/;
const MINUTES_PER_UNIT: Record<string, number> = { m: 1, h: 60, d: 1440 };
export const TABLE_DATA_TYPE = 'MCAS_Activity_Log_CL';

type Doc = Record<string, unknown>;

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function durationMinutes(value: unknown): number | undefined {
  const match = DURATION.exec(String(value));
  return match === null ? undefined : Number(match[1]) * (MINUTES_PER_UNIT[match[2] ?? ''] ?? Number.NaN);
}

/** Problems with the fields both formats share: id, name, description, connectors, tactics, techniques, query. */
function commonProblems(doc: Doc): string[] {
  const problems: string[] = [];
  if (!GUID.test(String(doc['id']))) problems.push(`id is not a lower-case GUID: ${String(doc['id'])}`);
  for (const field of ['name', 'description', 'query']) {
    if (!isNonEmptyString(doc[field])) problems.push(`${field} is missing or empty`);
  }
  const connectors = doc['requiredDataConnectors'];
  if (!Array.isArray(connectors) || connectors.length === 0) {
    problems.push('requiredDataConnectors is missing or empty');
  } else {
    for (const connector of connectors as Doc[]) {
      const dataTypes = connector['dataTypes'];
      if (connector['connectorId'] !== CONNECTOR_ID) {
        problems.push(`connectorId ${String(connector['connectorId'])} is not the solution's ${CONNECTOR_ID}`);
      }
      if (!Array.isArray(dataTypes) || !dataTypes.includes(TABLE_DATA_TYPE)) {
        problems.push(`a required data connector does not list ${TABLE_DATA_TYPE} in dataTypes`);
      }
    }
  }
  const tactics = doc['tactics'];
  if (!Array.isArray(tactics) || tactics.length === 0) problems.push('tactics is missing or empty');
  else
    for (const tactic of tactics) if (!TACTICS.has(String(tactic))) problems.push(`unknown tactic ${String(tactic)}`);
  const techniques = doc['relevantTechniques'];
  if (!Array.isArray(techniques) || techniques.length === 0) problems.push('relevantTechniques is missing or empty');
  else {
    for (const technique of techniques) {
      if (!/^T\d{4}(\.\d{3})?$/.test(String(technique))) problems.push(`bad technique id ${String(technique)}`);
    }
    if (Array.isArray(tactics)) problems.push(...tacticTechniqueProblems(tactics.map(String), techniques.map(String)));
  }
  if (String(doc['name']).length > 256) problems.push('name is longer than 256 characters');
  if (String(doc['description']).length > 5000) problems.push('description is longer than 5000 characters');
  if (String(doc['query']).length > 10000) problems.push('query is longer than 10000 characters');
  if (isNonEmptyString(doc['query'])) {
    if (!/\bMCASActivity\b/.test(doc['query'])) problems.push('query does not read through the MCASActivity parser');
    if (doc['query'].includes(TABLE_DATA_TYPE))
      problems.push('query reads the table directly, bypassing deduplication');
  }
  return problems;
}

/** Each technique belongs to one of the tactics listed, and each tactic listed is backed by one of the techniques. */
export function tacticTechniqueProblems(tactics: readonly string[], techniques: readonly string[]): string[] {
  const problems: string[] = [];
  const covered = new Set<string>();
  for (const technique of techniques) {
    const known = TECHNIQUE_TACTICS[technique.split('.')[0] ?? ''];
    if (known === undefined) {
      problems.push(`technique ${technique} has no tactic mapping here; add it from KillChainTechniquesHelper`);
      continue;
    }
    const matching = known.filter((tactic) => tactics.includes(tactic));
    if (matching.length === 0)
      problems.push(`technique ${technique} belongs to none of the tactics ${tactics.join(', ')}`);
    for (const tactic of matching) covered.add(tactic);
  }
  for (const tactic of tactics) {
    if (TACTICS.has(tactic) && !covered.has(tactic)) problems.push(`tactic ${tactic} has no technique listed for it`);
  }
  return problems;
}

/**
 * Problems with entity mappings: known entity types and identifiers, at most three identifiers each, and every
 * mapped column present (with a usable type) in `columns`, the query's result.
 */
export function entityMappingProblems(doc: Doc, columns: readonly KqlColumn[], required: boolean): string[] {
  const problems: string[] = [];
  const mappings = doc['entityMappings'];
  if (mappings === undefined && !required) return problems;
  if (!Array.isArray(mappings) || mappings.length === 0) return ['entityMappings is missing or empty'];
  if (mappings.length > 5) problems.push('more than 5 entity mappings');
  const types = new Map(columns.map((column) => [column.name, column.type]));
  for (const mapping of mappings as Doc[]) {
    const entityType = String(mapping['entityType']);
    const allowed = ENTITY_IDENTIFIERS[entityType];
    if (allowed === undefined) {
      problems.push(`unknown entityType ${entityType}`);
      continue;
    }
    const fieldMappings = mapping['fieldMappings'];
    if (!Array.isArray(fieldMappings) || fieldMappings.length === 0 || fieldMappings.length > 3) {
      problems.push(`${entityType}: fieldMappings must have 1 to 3 entries`);
      continue;
    }
    for (const field of fieldMappings as Doc[]) {
      const identifier = String(field['identifier']);
      const columnName = String(field['columnName']);
      if (!allowed.includes(identifier)) problems.push(`${entityType}: unknown identifier ${identifier}`);
      const type = types.get(columnName);
      if (type === undefined) {
        problems.push(`${entityType}.${identifier}: column ${columnName} is not in the query's output`);
        continue;
      }
      const typesAllowed = IDENTIFIER_TYPES[`${entityType}.${identifier}`];
      if (typesAllowed !== undefined && !typesAllowed.includes(type)) {
        problems.push(
          `${entityType}.${identifier}: column ${columnName} is ${type}, expected ${typesAllowed.join('/')}`,
        );
      }
    }
  }
  return problems;
}

/** Problems with customDetails and alertDetailsOverride: every column they name is in the output. */
function alertDetailProblems(doc: Doc, columns: readonly KqlColumn[]): string[] {
  const problems: string[] = [];
  const names = new Set(columns.map((column) => column.name));
  const customDetails = (doc['customDetails'] ?? {}) as Record<string, unknown>;
  if (Object.keys(customDetails).length > 20) problems.push('more than 20 custom details');
  for (const [key, column] of Object.entries(customDetails)) {
    if (!/^[a-zA-Z]+\w*$/.test(key) || key.length > 20) problems.push(`custom detail key ${key} is not a name of 1-20`);
    if (!/^[a-zA-Z_]+\w*$/.test(String(column)))
      problems.push(`custom detail ${key}: ${String(column)} is no column name`);
    if (!names.has(String(column)))
      problems.push(`custom detail ${key}: column ${String(column)} is not in the output`);
  }
  const override = (doc['alertDetailsOverride'] ?? {}) as Record<string, unknown>;
  for (const value of Object.values(override)) {
    if ((String(value).match(/\{\{/g) ?? []).length > 3) problems.push('more than 3 placeholders in an alert detail');
    for (const match of String(value).matchAll(/\{\{([^}]+)\}\}/g)) {
      if (!names.has(match[1] ?? '')) problems.push(`alert details name column ${match[1]} that is not in the output`);
    }
  }
  return problems;
}

/** Every problem with a scheduled analytic rule, given its query's result columns. */
export function analyticRuleProblems(doc: Doc, columns: readonly KqlColumn[]): string[] {
  const problems = commonProblems(doc);
  if (!SEVERITIES.has(String(doc['severity']))) problems.push(`severity ${String(doc['severity'])} is not valid`);
  const frequency = durationMinutes(doc['queryFrequency']);
  const period = durationMinutes(doc['queryPeriod']);
  if (frequency === undefined) problems.push(`queryFrequency ${String(doc['queryFrequency'])} is not like 5m, 1h, 1d`);
  if (period === undefined) problems.push(`queryPeriod ${String(doc['queryPeriod'])} is not like 5m, 1h, 14d`);
  if (frequency !== undefined && (frequency < 5 || frequency > 14 * 1440))
    problems.push('queryFrequency is outside 5m..14d');
  if (period !== undefined && (period < 5 || period > 14 * 1440)) problems.push('queryPeriod is outside 5m..14d');
  if (frequency !== undefined && period !== undefined && period < frequency) {
    problems.push('queryPeriod is shorter than queryFrequency: activities between runs would never be queried');
  }
  if (frequency !== undefined && period !== undefined && period >= 2 * 1440 && frequency < 60) {
    problems.push('queryPeriod of 2 days or more needs a queryFrequency of at least 1 hour');
  }
  const grouping = doc['eventGroupingSettings'] as Doc | undefined;
  if (!AGGREGATION_KINDS.has(String(grouping?.['aggregationKind']))) {
    problems.push('eventGroupingSettings.aggregationKind is not SingleAlert or AlertPerResult');
  }
  if (!TRIGGER_OPERATORS.has(String(doc['triggerOperator']))) problems.push('triggerOperator is not gt, lt, eq or ne');
  if (
    !Number.isInteger(doc['triggerThreshold']) ||
    Number(doc['triggerThreshold']) < 0 ||
    Number(doc['triggerThreshold']) > 10000
  ) {
    problems.push('triggerThreshold is not an integer in 0..10000');
  }
  if (!/^\d+\.\d+\.\d+$/.test(String(doc['version']))) problems.push('version is not like 1.0.0');
  if (doc['kind'] !== 'Scheduled') problems.push('kind is not Scheduled');
  return [...problems, ...entityMappingProblems(doc, columns, true), ...alertDetailProblems(doc, columns)];
}

/** Every problem with a hunting query, given its result columns. */
export function huntingQueryProblems(doc: Doc, columns: readonly KqlColumn[]): string[] {
  return [...commonProblems(doc), ...entityMappingProblems(doc, columns, false)];
}
