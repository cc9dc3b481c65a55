// Network isolation (vnetEnabled): a virtual network with a subnet the function app integrates with and a subnet for
// private endpoints; private endpoints, each with its private DNS zone, for the storage account's blobs (host storage,
// checkpoint, deployment package), its queues when the tenant-run queue exists, and the Key Vault. The storage account
// and the vault deny public network access in this mode (storage.bicep, keyVault.bicep). Laid out as in Microsoft's
// Flex Consumption samples (Azure-Samples/functions-quickstart-typescript-azd, infra/app/vnet.bicep).
param virtualNetworkName string
param location string
param tags object
param storageAccountName string
param keyVaultName string
@description('Also a private endpoint for the storage account\'s queues (the multi-tenant queue trigger).')
param queueEndpoint bool

var privateEndpointSubnetName = 'private-endpoints'
var appSubnetName = 'app'

// Private DNS zone names per cloud: storage from the cloud's storage suffix; Key Vault's has no suffix of its own.
var vaultZones = {
  AzureCloud: 'privatelink.vaultcore.azure.net'
  AzureUSGovernment: 'privatelink.vaultcore.usgovcloudapi.net'
  AzureChinaCloud: 'privatelink.vaultcore.azure.cn'
}

resource storage 'Microsoft.Storage/storageAccounts@2026-04-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2026-02-01' existing = {
  name: keyVaultName
}

resource virtualNetwork 'Microsoft.Network/virtualNetworks@2025-05-01' = {
  name: virtualNetworkName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        '10.0.0.0/16'
      ]
    }
    subnets: [
      {
        name: privateEndpointSubnetName
        properties: {
          // 11 usable addresses: three endpoints and room to spare.
          addressPrefix: '10.0.1.0/28'
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
      {
        name: appSubnetName
        properties: {
          // Flex Consumption takes one address per instance; /26 leaves 59, above maximumInstanceCount (40).
          addressPrefix: '10.0.2.0/26'
          delegations: [
            {
              name: 'flex-consumption'
              properties: {
                // The delegation Flex Consumption's VNet integration requires.
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

module blobEndpoint 'privateEndpoint.bicep' = {
  name: 'pe-blob'
  params: {
    name: 'pe-blob-${storageAccountName}'
    location: location
    tags: tags
    virtualNetworkId: virtualNetwork.id
    subnetId: '${virtualNetwork.id}/subnets/${privateEndpointSubnetName}'
    serviceId: storage.id
    groupId: 'blob'
    dnsZoneName: 'privatelink.blob.${environment().suffixes.storage}'
  }
}

module queueEndpointModule 'privateEndpoint.bicep' = if (queueEndpoint) {
  name: 'pe-queue'
  params: {
    name: 'pe-queue-${storageAccountName}'
    location: location
    tags: tags
    virtualNetworkId: virtualNetwork.id
    subnetId: '${virtualNetwork.id}/subnets/${privateEndpointSubnetName}'
    serviceId: storage.id
    groupId: 'queue'
    dnsZoneName: 'privatelink.queue.${environment().suffixes.storage}'
  }
}

module vaultEndpoint 'privateEndpoint.bicep' = {
  name: 'pe-vault'
  params: {
    name: 'pe-vault-${keyVaultName}'
    location: location
    tags: tags
    virtualNetworkId: virtualNetwork.id
    subnetId: '${virtualNetwork.id}/subnets/${privateEndpointSubnetName}'
    serviceId: vault.id
    groupId: 'vault'
    dnsZoneName: vaultZones[environment().name]
  }
}

output appSubnetId string = '${virtualNetwork.id}/subnets/${appSubnetName}'
