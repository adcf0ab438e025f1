// The Mage data plane on its own storage account (storageaccount.bicep creates it): the blob
// containers and queues, and the app's data roles scoped to each of them. Nothing is granted on
// the account itself, so the app reaches exactly the containers and queues listed here; the
// Functions host's own storage lives in another account (hoststorage.bicep).

@description('Name of the data storage account (created by storageaccount.bicep).')
param accountName string

@description('Blob containers the app reads only (Storage Blob Data Reader on each): uploads, models, the allowed source containers.')
param readerContainers string[]

@description('Blob containers the app writes (Storage Blob Data Contributor on each): results, jobs, the allowed output containers. A name in both lists gets Contributor only.')
param contributorContainers string[]

@description('Queues to create, -poison twins included (Storage Queue Data Contributor on each): with queue-scoped roles neither the host nor the app could create a missing one.')
param queueNames string[]

@description('Principal id of the app identity.')
param appPrincipalId string

@description('Principal id of a user to grant data-plane access for uploads and inspection; empty for none.')
param userPrincipalId string = ''

@description('Principal type of userPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

// Built-in roles.
var storageBlobDataReader = '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
// Covers Message Processor and Sender; the trigger listener also reads queue metadata.
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

// Each container once, with the one role the app gets on it.
var writable = union(contributorContainers, [])
var containerAccess = concat(
  map(filter(union(readerContainers, []), c => !contains(writable, c)), c => {
    name: c
    role: storageBlobDataReader
  }),
  map(writable, c => {
    name: c
    role: storageBlobDataContributor
  })
)

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in containerAccess: {
    parent: blobService
    name: container.name
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource appContainerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (container, i) in containerAccess: {
    name: guid(containers[i].id, appPrincipalId, container.role)
    scope: containers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', container.role)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource appQueueRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in queueNames: {
    name: guid(queues[i].id, appPrincipalId, storageQueueDataContributor)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The deploying user uploads images and models and reads results, jobs and queues: Contributor
// on every container and queue, still scoped to each one.
resource userContainerRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (container, i) in containerAccess: if (!empty(userPrincipalId)) {
    name: guid(containers[i].id, userPrincipalId, storageBlobDataContributor)
    scope: containers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
      principalId: userPrincipalId
      principalType: userPrincipalType
    }
  }
]

resource userQueueRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (queueName, i) in queueNames: if (!empty(userPrincipalId)) {
    name: guid(queues[i].id, userPrincipalId, storageQueueDataContributor)
    scope: queues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
      principalId: userPrincipalId
      principalType: userPrincipalType
    }
  }
]
