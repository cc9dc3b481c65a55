// The Flex Consumption plan and function app (Node 22), running as the user-assigned identity, with the app settings
// the connector's config reads. Secrets are not among them: the function reads both from Key Vault at each run.
param planName string
param appName string
param location string
param tags object
param identityName string
param storageAccountName string
param deploymentContainerName string
param checkpointContainerName string
param applicationInsightsName string
param keyVaultName string
param mcasPortalUrl string
@description('The Sentinel workspace id (its customerId GUID), not its resource id.')
param logAnalyticsWorkspaceId string
param timerSchedule string
@maxValue(540)
param runTimeBudgetSeconds int
param logType string
param instanceMemoryMB int
@allowed([
  'public'
  'usgov'
  'china'
])
@description('AZURE_CLOUD: the cloud the connector runs in (service domains, token audiences).')
param azureCloud string
@allowed([
  'dataCollector'
  'logsIngestion'
])
param logSink string
@description('logsIngestion: the DCE\'s logs ingestion endpoint; empty otherwise.')
param logsIngestionEndpoint string
@description('logsIngestion: the DCR\'s immutable id (dcr-...); empty otherwise.')
param logsIngestionDcrImmutableId string
@description('logsIngestion: the DCR stream of the activities; empty otherwise.')
param logsIngestionStream string
param alertsEnabled bool
@description('Network isolation: the subnet (delegated to Microsoft.App/environments) the app integrates with; empty for none.')
param appSubnetId string
@description('TENANT_REGISTRY: where the tenant registry is (multi-tenant); empty for one tenant.')
param tenantRegistry string
@description('TENANT_QUEUE_NAME: the queue of tenant runs, which the queue trigger names even when it stays unused.')
param tenantQueueName string

// azd finds the app to deploy to by this tag; it must match the service name in azure.yaml.
var serviceName = 'connector'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Outbound through the virtual network (storage, vault and the deployment package by their private endpoints).
    virtualNetworkSubnetId: empty(appSubnetId) ? null : appSubnetId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        // A timer runs on one instance at a time (a blob lease); this only caps scale-out.
        maximumInstanceCount: 40
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// The whole set of app settings: a provision replaces settings changed by hand. Flex Consumption takes the runtime
// from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION must not appear here.
resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Host storage through the identity: no connection string, no account key.
    AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
    // For the tenant-run queue trigger; unused (and without a queue role) with one tenant.
    AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identity.properties.clientId
    // The connection string names the component (its InstrumentationKey is an id, not a credential); with local auth
    // disabled, telemetry is accepted only with an Entra token of the identity below.
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
    AZURE_CLIENT_ID: identity.properties.clientId
    KEY_VAULT_URL: vault.properties.vaultUri
    MCAS_PORTAL_URL: mcasPortalUrl
    LOG_ANALYTICS_WORKSPACE_ID: logAnalyticsWorkspaceId
    LOG_TYPE: logType
    // The host resolves %MCAS_TIMER_SCHEDULE% in the trigger; without this setting the function does not load.
    MCAS_TIMER_SCHEDULE: timerSchedule
    CHECKPOINT_STORE: 'blob'
    CHECKPOINT_CONTAINER: checkpointContainerName
    RUN_TIME_BUDGET_SECONDS: string(runTimeBudgetSeconds)
    AZURE_CLOUD: azureCloud
    LOG_SINK: logSink
    // Empty with the Data Collector sink, where the connector reads an empty setting as unset.
    LOGS_INGESTION_ENDPOINT: logsIngestionEndpoint
    LOGS_INGESTION_DCR_ID: logsIngestionDcrImmutableId
    LOGS_INGESTION_STREAM: logsIngestionStream
    // Spelled out: string(true) would give 'True'.
    MCAS_ALERTS_ENABLED: alertsEnabled ? 'true' : 'false'
    // Empty: one tenant. The queue name is set either way, so that the trigger's %TENANT_QUEUE_NAME% resolves.
    TENANT_REGISTRY: tenantRegistry
    TENANT_QUEUE_NAME: tenantQueueName
    // Read by Node when the worker starts: a young generation of at most 8 MB a semi-space. Scan pages of 5,000 parse
    // thousands of 4-5 KB records, and by default the young generation grows by tens of MB of resident memory for no
    // speed gain (BENCHMARKS.md, Memory).
    NODE_OPTIONS: '--max-semi-space-size=8'
  }
}

// No publishing with a user name and password (FTP, or zip deploy through the scm site with basic auth): azd and the
// Azure CLI deploy with Entra tokens.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
