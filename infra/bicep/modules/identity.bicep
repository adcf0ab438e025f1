// The one user-assigned identity the Functions app runs as: image pull, host storage, triggers,
// the Service Bus client and telemetry all authenticate with it.

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Managed identity name.')
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
