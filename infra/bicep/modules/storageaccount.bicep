// One StorageV2 account, hardened the same way for both of Mage's accounts: Entra-only (shared
// keys off), private blobs, TLS 1.2, HTTPS only. Blob and queue service logs go to Log Analytics.
// Data protection (blob versioning, blob and container soft delete) is a parameter: the data
// account keeps it on; the Functions host's account leaves it off, because the host rewrites
// its lease and receipt blobs all day and versions of those protect nothing.
// Containers, queues and role assignments live in the modules that own them (storage.bicep,
// hoststorage.bicep).

import { allLogsTo } from 'diagnostics.bicep'

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Storage account name (3-24 lowercase alphanumerics, globally unique).')
param name string

@description('Log Analytics workspace resource id for the blob and queue service logs.')
param logAnalyticsId string

@description('Keep blob versions and soft-delete blobs and containers.')
param dataProtection bool

@description('Days a deleted blob or container can be restored (with dataProtection).')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int = 7

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
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
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

var retention = dataProtection
  ? {
      enabled: true
      days: deleteRetentionDays
    }
  : {
      enabled: false
    }

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: dataProtection
    deleteRetentionPolicy: retention
    containerDeleteRetentionPolicy: retention
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: blobService
  properties: allLogsTo(logAnalyticsId)
}

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: queueService
  properties: allLogsTo(logAnalyticsId)
}

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
