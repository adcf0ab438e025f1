// Event Grid system topic on the storage account and the subscription that feeds the blob
// trigger: BlobCreated events under the uploads container go to the blobs extension's webhook.
// Deployed after the Functions app, because the endpoint is the app's FQDN and Event Grid
// validates the endpoint (the extension answers the handshake) when the subscription is created.
// The system topic's logs (delivery failures among them) go to Log Analytics.

import { allLogsTo } from 'diagnostics.bicep'

@description('Azure region (the storage account\'s).')
param location string

@description('Tags for every resource.')
param tags object

@description('System topic name.')
param systemTopicName string

@description('Storage account name (the event source).')
param storageAccountName string

@description('Log Analytics workspace resource id for the system topic\'s logs.')
param logAnalyticsId string

@description('Blob container whose new blobs trigger the function.')
param uploadsContainer string

@description('Event subscription name.')
param subscriptionName string

@description('Create the event subscription. False until the Mage image serves the webhook.')
param createSubscription bool

@secure()
@description('The blobs extension webhook of the blob-triggered function, with the system key as code:\nhttps://<app fqdn>/runtime/webhooks/blobs?functionName=Host.Functions.<name>&code=<key>.')
param webhookUrl string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: systemTopicName
  location: location
  tags: tags
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: systemTopic
  properties: allLogsTo(logAnalyticsId)
}

resource uploadsSubscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = if (createSubscription) {
  parent: systemTopic
  name: subscriptionName
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: webhookUrl
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${uploadsContainer}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicName string = systemTopic.name
output subscriptionCreated bool = createSubscription
