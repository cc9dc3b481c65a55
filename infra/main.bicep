// The whole connector in a new resource group (Flex Consumption app, identity, storage, Key Vault, App Insights, and
// with logSink=logsIngestion a DCE, a DCR and the tables in the Sentinel workspace; with vnetEnabled a virtual network
// and private endpoints; with multiTenant the tenant-run queue), for `azd up` or
// `az deployment sub create -f infra/main.bicep`. How to deploy and set the secrets: infra/README.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the environment (the azd environment name). It seeds the unique suffix of every resource name.')
param environmentName string

// The public regions that offer Flex Consumption, as Microsoft's Flex Consumption quickstarts list them
// (Azure-Samples/functions-quickstart-typescript-azd, without the canary region); a new region shows in
// `az functionapp list-flexconsumption-locations` first and can be added here.
@allowed([
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'southindia'
  'spaincentral'
  'swedencentral'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westcentralus'
  'westeurope'
  'westus'
  'westus2'
  'westus3'
])
@description('Region of every resource. It must offer Flex Consumption: az functionapp list-flexconsumption-locations.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Resource id of the Log Analytics workspace behind Microsoft Sentinel, e.g. /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>. It may sit in another resource group or subscription; the deployment only reads its workspace id (customerId).')
param sentinelWorkspaceResourceId string

@description('Origin of the tenant\'s Defender for Cloud Apps API, e.g. https://contoso.us2.portal.cloudappsecurity.com (Settings > About in the portal).')
param mcasPortalUrl string

@description('NCRONTAB schedule of the timer (six fields, seconds first).')
param timerSchedule string = '0 */5 * * * *'

// host.json sets functionTimeout to 00:10:00 (600 s). A run stops between pages at this budget, so the cap leaves a
// minute for the last batch and the checkpoint write before the host would kill the invocation.
@minValue(60)
@maxValue(540)
@description('Seconds a run may read before it stops between pages; must stay below host.json functionTimeout (600 s).')
param runTimeBudgetSeconds int = 480

@description('Custom log type in the workspace; the service appends _CL.')
param logType string = 'MCAS_Activity_Log'

@allowed([
  'dataCollector'
  'logsIngestion'
])
@description('Where rows go: dataCollector (HTTP Data Collector API, signed with the workspace key) or logsIngestion (Logs Ingestion API through a DCE and DCR deployed here, with the function\'s identity; no workspace key). logsIngestion also writes tables in the Sentinel workspace\'s resource group.')
param logSink string = 'dataCollector'

@description('Also copy Defender for Cloud Apps alerts (a second timer), to MCAS_Alert_Log_CL.')
param alertsEnabled bool = false

@description('logsIngestion: the DCR-based table of the activities (ends in _CL). Another name keeps an existing classic table apart (infra/README.md).')
param activityTableName string = 'MCAS_Activity_Log_CL'

@description('logsIngestion with alertsEnabled: the DCR-based table of the alerts (ends in _CL).')
param alertTableName string = 'MCAS_Alert_Log_CL'

@description('logsIngestion: tables that exist already and whose columns the template must not write, such as a classic table you migrated (writing it would drop its _s/_t columns). Add the new columns yourself: infra/README.md.')
param unmanagedTables array = []

@allowed([
  512
  2048
  4096
])
@description('Memory of each Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(7)
@maxValue(90)
@description('Days a deleted vault or secret stays recoverable. With purge protection the vault name stays reserved for as long.')
param keyVaultSoftDeleteRetentionDays int = 90

// Not named after what it guards: a parameter name with "secret" in it trips Bicep's secure-secrets-in-params rule.
@description('Optional object id of the person or group who sets the two secrets: it gets Key Vault Secrets Officer on this vault only, a one-off grant to remove once the secrets are set (infra/README.md). Empty grants nothing.')
param vaultOfficerPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
@description('Kind of principal vaultOfficerPrincipalId names.')
param vaultOfficerPrincipalType string = 'User'

@description('Network isolation: a virtual network, the app\'s VNet integration, private endpoints and DNS zones for the storage account (blob, and queue with multiTenant) and the Key Vault, and public network access denied on both. Off by default, as in Microsoft\'s Flex Consumption samples.')
param vnetEnabled bool = false

@description('Many tenants: the tenant-run queue and its poison queue, Storage Queue Data Contributor for the function on the storage account, and TENANT_REGISTRY pointing at the registry blob. Off: one tenant, as configured by MCAS_PORTAL_URL.')
param multiTenant bool = false

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
// The connector's config reads CHECKPOINT_CONTAINER; the container is created here so the first run need not.
var checkpointContainerName = 'mcas-connector'
var deploymentContainerName = 'app-package-${resourceToken}'

// The multi-tenant names the connector reads (TENANT_QUEUE_NAME, TENANT_REGISTRY); the Functions host moves a message
// that failed maxDequeueCount times to <queue>-poison.
var tenantQueueName = 'mcas-tenant-runs'
var tenantRegistry = 'blob:${checkpointContainerName}/tenants.json'

// /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.OperationalInsights/workspaces/<name>
var sentinelWorkspaceIdParts = split(sentinelWorkspaceResourceId, '/')

var logsIngestion = logSink == 'logsIngestion'
// AZURE_CLOUD for the connector, from the cloud this deployment runs in (environment().name).
var azureCloudNames = {
  AzureCloud: 'public'
  AzureUSGovernment: 'usgov'
  AzureChinaCloud: 'china'
}

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

// Read, not deployed: reading customerId compiles to reference(), which needs only read access on the workspace and
// creates no deployment in the Sentinel resource group (a module there would need deployments/write on it).
resource sentinelWorkspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' existing = {
  scope: resourceGroup(sentinelWorkspaceIdParts[2], sentinelWorkspaceIdParts[4])
  name: last(sentinelWorkspaceIdParts)
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-mcas-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-mcas-${resourceToken}'
    applicationInsightsName: 'appi-mcas-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    checkpointContainerName: checkpointContainerName
    publicNetworkAccess: !vnetEnabled
    tenantQueueName: multiTenant ? tenantQueueName : ''
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    softDeleteRetentionInDays: keyVaultSoftDeleteRetentionDays
    publicNetworkAccess: !vnetEnabled
    auditWorkspaceResourceId: monitoring.outputs.logAnalyticsWorkspaceId
  }
}

// Only with vnetEnabled: the network, the app's integration subnet, and private endpoints for storage and the vault.
module network 'modules/network.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: rg
  params: {
    virtualNetworkName: 'vnet-mcas-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    queueEndpoint: multiTenant
  }
}

module roles 'modules/roleAssignments.bicep' = {
  name: 'roleAssignments'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    keyVaultName: keyVault.outputs.name
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    vaultOfficerPrincipalId: vaultOfficerPrincipalId
    vaultOfficerPrincipalType: vaultOfficerPrincipalType
    queueAccess: multiTenant
  }
}

// The DCR-based tables live in the Sentinel workspace, so this module deploys into the workspace's resource group and
// subscription: it needs Microsoft.Resources/deployments/write and workspaces/tables/write there.
module sentinelTables 'modules/sentinelTables.bicep' = if (logsIngestion) {
  // Unique per environment: several connectors may deploy into the same workspace resource group.
  name: 'mcas-tables-${resourceToken}'
  scope: resourceGroup(sentinelWorkspaceIdParts[2], sentinelWorkspaceIdParts[4])
  params: {
    workspaceName: last(sentinelWorkspaceIdParts)
    activityTableName: activityTableName
    alertTableName: alertTableName
    alertsEnabled: alertsEnabled
    unmanagedTables: unmanagedTables
  }
}

module dataCollection 'modules/dataCollection.bicep' = if (logsIngestion) {
  name: 'dataCollection'
  scope: rg
  // A DCR's output streams must name tables that exist.
  dependsOn: [
    sentinelTables
  ]
  params: {
    endpointName: 'dce-mcas-${resourceToken}'
    ruleName: 'dcr-mcas-${resourceToken}'
    location: sentinelWorkspace.location
    tags: tags
    workspaceResourceId: sentinelWorkspace.id
    activityTableName: activityTableName
    alertTableName: alertTableName
    alertsEnabled: alertsEnabled
    principalId: identity.outputs.principalId
  }
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  scope: rg
  // The app starts its host as soon as it exists; let it find its roles in place.
  dependsOn: [
    roles
  ]
  params: {
    planName: 'plan-mcas-${resourceToken}'
    appName: 'func-mcas-${resourceToken}'
    location: location
    tags: tags
    identityName: identity.outputs.name
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    checkpointContainerName: checkpointContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    mcasPortalUrl: mcasPortalUrl
    logAnalyticsWorkspaceId: sentinelWorkspace.properties.customerId
    timerSchedule: timerSchedule
    runTimeBudgetSeconds: runTimeBudgetSeconds
    logType: logType
    instanceMemoryMB: instanceMemoryMB
    azureCloud: azureCloudNames[environment().name]
    logSink: logSink
    // Null-safe: the module is deployed only with logsIngestion, and an absent module has no outputs to read.
    logsIngestionEndpoint: dataCollection.?outputs.logsIngestionEndpoint ?? ''
    logsIngestionDcrImmutableId: dataCollection.?outputs.ruleImmutableId ?? ''
    logsIngestionStream: dataCollection.?outputs.activityStreamName ?? ''
    alertsEnabled: alertsEnabled
    appSubnetId: network.?outputs.appSubnetId ?? ''
    tenantRegistry: multiTenant ? tenantRegistry : ''
    tenantQueueName: tenantQueueName
  }
}

// Names and addresses only: nothing here is a key, a token or a connection string.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_KEY_VAULT_URL string = keyVault.outputs.vaultUri
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
// Logs Ingestion only (empty with the Data Collector sink): the DCR and where the function posts.
output LOGS_INGESTION_DCR_RESOURCE_ID string = dataCollection.?outputs.ruleId ?? ''
output LOGS_INGESTION_DCR_ID string = dataCollection.?outputs.ruleImmutableId ?? ''
output LOGS_INGESTION_ENDPOINT string = dataCollection.?outputs.logsIngestionEndpoint ?? ''
// Where Key Vault's audit events (AuditEvent, in AzureDiagnostics) go: the connector's own workspace.
output AZURE_LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.logAnalyticsWorkspaceId
// Multi-tenant only (empty otherwise): the queue the tenant runs go through.
output TENANT_QUEUE_NAME string = multiTenant ? tenantQueueName : ''
