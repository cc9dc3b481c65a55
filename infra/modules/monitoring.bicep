// Application Insights for the function's own logs, and the Key Vault's audit events, on a small Log Analytics
// workspace of its own (not the Sentinel workspace, whose ingestion is billed at Sentinel rates). Local (instrumentation key) auth is off: Entra tokens only.
param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

// The name only: the function app reads the connection string itself, so no output carries it.
output applicationInsightsName string = applicationInsights.name
// Also where the Key Vault's audit events go.
output logAnalyticsWorkspaceId string = logAnalytics.id
