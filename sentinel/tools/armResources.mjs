// The ARM property blocks of the Sentinel content, built from the YAML sources: one scheduled rule, one hunting query,
// one parser. The stand-alone templates in arm/ and the Content Hub package both use them, so a field the YAML sets
// (event grouping, incident settings, custom details) reaches every form.

export const ARM_SCHEMA = 'https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#';
export const ALERT_RULES_API_VERSION = '2023-02-01';
export const SAVED_SEARCHES_API_VERSION = '2022-10-01';

const TRIGGER_OPERATORS = { gt: 'GreaterThan', lt: 'LessThan', eq: 'Equal', ne: 'NotEqual' };

/** `1h` -> `PT1H`, `14d` -> `P14D`, `30m` -> `PT30M`: the YAML rule format's durations as ISO 8601. */
export function toIsoDuration(duration) {
  const match = /^(\d+)([mhd])$/.exec(String(duration));
  if (match === null) throw new Error(`unsupported duration ${JSON.stringify(duration)} (expected e.g. 30m, 1h, 14d)`);
  const [, amount, unit] = match;
  return unit === 'd' ? `P${amount}D` : `PT${amount}${unit.toUpperCase()}`;
}

/**
 * A string that starts with `[` is an expression to ARM; content text (queries, descriptions, workbook JSON) that
 * happens to start with one is escaped as `[[`, which ARM turns back into `[`.
 */
export function armLiteral(value) {
  if (typeof value === 'string') return value.startsWith('[') ? `[${value}` : value;
  if (Array.isArray(value)) return value.map(armLiteral);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, armLiteral(inner)]));
  }
  return value;
}

function required(rule, file, field) {
  if (rule[field] === undefined) throw new Error(`${file}: ${field} is missing`);
  return rule[field];
}

/** The properties of a scheduled rule (alertRules) or rule template (AlertRuleTemplates), from its YAML. */
export function ruleProperties(rule, file) {
  const triggerOperator = TRIGGER_OPERATORS[rule.triggerOperator];
  if (triggerOperator === undefined) throw new Error(`${file}: unknown triggerOperator ${rule.triggerOperator}`);
  const grouping = required(rule, file, 'incidentConfiguration').groupingConfiguration;
  const properties = {
    displayName: rule.name,
    description: rule.description,
    severity: rule.severity,
    query: rule.query,
    queryFrequency: toIsoDuration(rule.queryFrequency),
    queryPeriod: toIsoDuration(rule.queryPeriod),
    triggerOperator,
    triggerThreshold: rule.triggerThreshold,
    suppressionDuration: 'PT5H',
    suppressionEnabled: false,
    tactics: rule.tactics,
    techniques: rule.relevantTechniques.map((technique) => technique.split('.')[0]),
    entityMappings: rule.entityMappings,
    eventGroupingSettings: required(rule, file, 'eventGroupingSettings'),
    incidentConfiguration: {
      createIncident: rule.incidentConfiguration.createIncident,
      groupingConfiguration: {
        enabled: grouping.enabled,
        reopenClosedIncident: grouping.reopenClosedIncident,
        lookbackDuration: toIsoDuration(grouping.lookbackDuration),
        matchingMethod: grouping.matchingMethod,
        groupByEntities: grouping.groupByEntities ?? [],
        groupByAlertDetails: grouping.groupByAlertDetails ?? [],
        groupByCustomDetails: grouping.groupByCustomDetails ?? [],
      },
    },
  };
  if (rule.customDetails !== undefined) properties.customDetails = rule.customDetails;
  if (rule.alertDetailsOverride !== undefined) properties.alertDetailsOverride = rule.alertDetailsOverride;
  return armLiteral(properties);
}

/** A hunting query as a saved search in the category Sentinel's Hunting page lists, tactics in its tags. */
export function huntingSearchProperties(query) {
  return armLiteral({
    category: 'Hunting Queries',
    displayName: query.name,
    query: query.query,
    version: 2,
    tags: [
      { name: 'description', value: query.description.trim() },
      { name: 'tactics', value: query.tactics.join(',') },
      { name: 'techniques', value: query.relevantTechniques.join(',') },
    ],
  });
}

/** A parser as a saved workspace function: alias, parameters and body. */
export function parserSearchProperties(fn) {
  const title = fn.document.Function?.Title ?? fn.document.Parser.Title;
  const properties = {
    category: fn.document.Normalization === undefined ? 'Microsoft Sentinel Parser' : 'ASIM',
    displayName: title,
    functionAlias: fn.name,
    query: fn.body,
    version: 2,
  };
  const parameters = fn.parameters.slice(1, -1);
  if (parameters !== '') properties.functionParameters = parameters;
  return armLiteral(properties);
}
