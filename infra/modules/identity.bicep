// The user-assigned managed identity the function runs as: for Key Vault, host storage, the checkpoint and telemetry.
// Its roles are granted in roleAssignments.bicep, each on one resource.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output name string = identity.name
output principalId string = identity.properties.principalId
