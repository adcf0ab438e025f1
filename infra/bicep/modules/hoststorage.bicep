// The Functions host's own storage account (AzureWebJobsStorage; storageaccount.bicep creates
// it): leases, blob-trigger receipts, the blob trigger's internal queue, the host's tables.
// Nothing of Mage's data is here, so the app identity gets data roles on the whole account.

@description('Name of the host storage account (created by storageaccount.bicep).')
param accountName string

@description('Principal id of the app identity.')
param appPrincipalId string

// Built-in roles.
// Blob Data Owner, not Contributor: the Functions docs ("Connecting to host storage with an
// identity") list Owner for host storage, which creates its azure-webjobs-* containers and
// manages leases and receipts there.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Queue Data Contributor includes queue creation: the host creates its blob trigger queue and
// that queue's poison twin here.
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
// Table Data Contributor: the contract hands the host a table endpoint
// (AzureWebJobsStorage__tableServiceUri), which the host uses for its diagnostic events.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

var hostRoles = [
  storageBlobDataOwner
  storageQueueDataContributor
  storageTableDataContributor
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: accountName
}

resource hostRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in hostRoles: {
    name: guid(account.id, appPrincipalId, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]
