// The Logs Ingestion path: a data collection endpoint (DCE), a data collection rule (DCR) whose streams take the
// connector's rows into the DCR-based tables of the Sentinel workspace, and the one role the function needs to post.
param endpointName string
param ruleName string
@description('The Sentinel workspace\'s region: a DCR must be in the region of its workspace, and its DCE in the DCR\'s.')
param location string
param tags object
param workspaceResourceId string
param activityTableName string
param alertTableName string
param alertsEnabled bool
@description('The function\'s identity, which posts rows through this DCR.')
param principalId string

// Column lists generated from the mapping by scripts/generateTableSchemas.ts; the path is relative to this file.
var schemas = loadJsonContent('../generated/tableSchemas.json')

// The streams the connector posts to: LOGS_INGESTION_STREAM (its default) and the alerts stream it derives from the
// MCAS_Alert_Log log type.
var activityStreamName = 'Custom-MCAS_Activity_Log_CL'
var alertStreamName = 'Custom-MCAS_Alert_Log_CL'
var destinationName = 'sentinel'

// Monitoring Metrics Publisher: what the Logs Ingestion API asks of a caller, here on this DCR only.
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'

var activityStreams = {
  '${activityStreamName}': {
    columns: schemas.activities
  }
}

var alertStreams = {
  '${alertStreamName}': {
    columns: schemas.alerts
  }
}

// TimeGenerated is when the activity happened. The connector sends it already (ActivityTime, else CreatedTime, else
// the time of sending); the transformation holds it to ActivityTime whoever sends. Transformations run a subset of
// KQL that has iif() and isnull() but no coalesce() ("Supported KQL features in Azure Monitor transformations").
var activityFlow = {
  streams: [
    activityStreamName
  ]
  destinations: [
    destinationName
  ]
  transformKql: 'source | extend TimeGenerated = iif(isnull(ActivityTime), TimeGenerated, ActivityTime)'
  outputStream: 'Custom-${activityTableName}'
}

var alertFlow = {
  streams: [
    alertStreamName
  ]
  destinations: [
    destinationName
  ]
  transformKql: 'source | extend TimeGenerated = iif(isnull(AlertTime), TimeGenerated, AlertTime)'
  outputStream: 'Custom-${alertTableName}'
}

// A DCE rather than the DCR's own endpoint (kind 'Direct'): only a DCE can join an Azure Monitor Private Link Scope
// (the Data Collector API has no Private Link at all), and it is the form Logs Ingestion has taken from the start (the
// DCR endpoint came in March 2024).
resource endpoint 'Microsoft.Insights/dataCollectionEndpoints@2024-03-11' = {
  name: endpointName
  location: location
  tags: tags
  properties: {
    description: 'Logs Ingestion endpoint of mcas-activity-connector.'
    networkAcls: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

resource rule 'Microsoft.Insights/dataCollectionRules@2024-03-11' = {
  name: ruleName
  location: location
  tags: tags
  properties: {
    description: 'Defender for Cloud Apps activities (and alerts) from mcas-activity-connector into the Sentinel workspace.'
    dataCollectionEndpointId: endpoint.id
    streamDeclarations: alertsEnabled ? union(activityStreams, alertStreams) : activityStreams
    destinations: {
      logAnalytics: [
        {
          name: destinationName
          workspaceResourceId: workspaceResourceId
        }
      ]
    }
    dataFlows: alertsEnabled ? [
      activityFlow
      alertFlow
    ] : [
      activityFlow
    ]
  }
}

// On the DCR, not the resource group: the identity can post to these streams and nothing else.
resource rulePublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(rule.id, principalId, monitoringMetricsPublisherRoleId)
  scope: rule
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Addresses and ids only. LOGS_INGESTION_ENDPOINT, LOGS_INGESTION_DCR_ID and LOGS_INGESTION_STREAM take these.
output ruleId string = rule.id
output ruleImmutableId string = rule.properties.immutableId
output logsIngestionEndpoint string = endpoint.properties.logsIngestion.endpoint
output activityStreamName string = activityStreamName
