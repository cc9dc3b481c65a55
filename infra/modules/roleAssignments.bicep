// Every role the connector's identity holds, each on the one resource that needs it; none on the resource group or the
// subscription. Role ids are Azure built-in role definitions (the same in every tenant).
param principalId string
param keyVaultName string
param storageAccountName string
param applicationInsightsName string
@description('The person or group who sets the secrets (a one-off grant, infra/README.md); empty grants nothing.')
param vaultOfficerPrincipalId string = ''
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param vaultOfficerPrincipalType string = 'User'
@description('Many tenants: the function reads and writes the tenant-run queue.')
param queueAccess bool = false

// Key Vault Secrets User: read secret values. Not Officer (which can also write and delete them).
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'
// Storage Blob Data Owner: what the Functions host needs on AzureWebJobsStorage (blobs, and creating its containers
// azure-webjobs-hosts and azure-webjobs-secrets); the timer's singleton lock is a blob lease, the checkpoint a blob.
var storageBlobDataOwnerRoleId = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Monitoring Metrics Publisher: send telemetry to an Application Insights component whose local auth is disabled.
var monitoringMetricsPublisherRoleId = '3913510d-42f4-4e42-8a64-420c390055eb'
// Key Vault Secrets Officer: for the person who sets the two secrets, and only when one is named.
var keyVaultSecretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// Storage Queue Data Contributor: read, add, update and delete queue messages (the queue trigger and the fan-out).
var storageQueueDataContributorRoleId = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// On the vault, not on each secret: the secrets are created after deployment, and the vault holds nothing else.
resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// On the account, not a container: the host creates its own containers at start-up, which a container-scoped role
// cannot allow. The account belongs to this app alone. Tables get no role: the host does not need them (diagnostic
// events would use tables; without the role the host only warns that it cannot write them). Queues only with many
// tenants, below.
resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, storageBlobDataOwnerRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwnerRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, monitoringMetricsPublisherRoleId)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisherRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// One-off: the person who sets the secrets needs this while setting them (and again at a rotation). Deploying again
// with vaultOfficerPrincipalId empty does not remove it (an incremental deployment leaves in place what it no longer
// names): delete the assignment itself (infra/README.md). Later deployments recreate it only while the id is set.
resource vaultSecretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(vaultOfficerPrincipalId)) {
  name: guid(vault.id, vaultOfficerPrincipalId, keyVaultSecretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficerRoleId)
    principalId: vaultOfficerPrincipalId
    principalType: vaultOfficerPrincipalType
    description: 'One-off: to set the connector secrets. Remove once they are set (infra/README.md).'
  }
}

// On the account, as the Functions host's queue trigger needs it for AzureWebJobsStorage (it also creates the
// <queue>-poison queue); the account serves this app alone.
resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (queueAccess) {
  name: guid(storage.id, principalId, storageQueueDataContributorRoleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributorRoleId)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
