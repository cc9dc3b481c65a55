// The vault that holds the MCAS API token and the Log Analytics workspace key. Access is by Azure RBAC only (no access
// policies); soft delete and purge protection keep a deleted secret recoverable. The template never writes a secret.
param name string
param location string
param tags object
param softDeleteRetentionInDays int

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
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
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output vaultUri string = vault.properties.vaultUri
