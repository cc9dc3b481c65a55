// The vault that holds the MCAS API token and the Log Analytics workspace key. Access is by Azure RBAC only (no access
// policies); soft delete and purge protection keep a deleted secret recoverable. The template never writes a secret.
// Every access, each read of a secret included, is audited to a Log Analytics workspace (AuditEvent).
param name string
param location string
param tags object
param softDeleteRetentionInDays int
@description('False with network isolation: the vault is then reached only through its private endpoint.')
param publicNetworkAccess bool
@description('Resource id of the Log Analytics workspace that receives the vault\'s audit events.')
param auditWorkspaceResourceId string

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: publicNetworkAccess ? 'Enabled' : 'Disabled'
    networkAcls: {
      defaultAction: publicNetworkAccess ? 'Allow' : 'Deny'
      bypass: 'None'
    }
  }
}

// AuditEvent covers every data-plane call (SecretGet by the function at each run, SecretSet by whoever rotates a
// secret) with the caller's identity and address. 'Dedicated' writes the resource-specific table AZKVAuditLogs rather
// than AzureDiagnostics (infra/README.md has the query). A preview API version on purpose: the one stable version,
// 2016-09-01, has the older shape (its name must be 'service', it takes a location, it cannot choose the table).
resource audit 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: auditWorkspaceResourceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [
      {
        category: 'AuditEvent'
        enabled: true
      }
    ]
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
