// Azure Container Registry for the Functions image. Admin user off: the app pulls with its
// managed identity (AcrPull), azd pushes with the deploying user's Entra token.

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Registry name (alphanumeric, globally unique).')
param name string

@description('Principal id granted AcrPull.')
param pullPrincipalId string

// Built-in role: AcrPull.
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Standard: Basic's 10 GiB would hold only a few CUDA-sized images.
    name: 'Standard'
  }
  properties: {
    adminUserEnabled: false
  }
}

resource pullRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, pullPrincipalId, acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: pullPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
