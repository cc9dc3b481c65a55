// The function's own storage account: host storage (AzureWebJobsStorage), the Flex Consumption deployment package,
// the checkpoint blob, and with many tenants the tenant-run queue. Shared-key access is off, so only Entra identities
// with a data role can read or write it; with network isolation only through its private endpoints.
param name string
param location string
param tags object
param deploymentContainerName string
param checkpointContainerName string
@description('False with network isolation: the account is then reached only through its private endpoints.')
param publicNetworkAccess bool
@description('The queue of tenant runs (multi-tenant only); empty creates no queue.')
param tenantQueueName string

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    // As Microsoft's Flex Consumption samples do: with isolation no exception for "trusted" Azure services either.
    networkAcls: publicNetworkAccess
      ? {
          defaultAction: 'Allow'
          bypass: 'AzureServices'
        }
      : {
          defaultAction: 'Deny'
          bypass: 'None'
        }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-04-01' = {
  parent: storage
  name: 'default'
  properties: {
    // A deleted checkpoint blob can be undeleted for a week instead of restarting from INITIAL_LOOKBACK_MINUTES.
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-04-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource checkpointContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-04-01' = {
  parent: blobService
  name: checkpointContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2026-04-01' = if (!empty(tenantQueueName)) {
  parent: storage
  name: 'default'
}

resource tenantQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-04-01' = if (!empty(tenantQueueName)) {
  parent: queueService
  name: tenantQueueName
}

// The host creates <queue>-poison itself on the first failed message; created here, it can be watched from the start.
resource tenantPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2026-04-01' = if (!empty(tenantQueueName)) {
  parent: queueService
  name: '${tenantQueueName}-poison'
}

output name string = storage.name
