// Service Bus for Mage's outbound events: Entra-only (local SAS auth off), one topic and an
// example subscription that a consumer can read from. Its logs go to Log Analytics.

import { allLogsTo } from 'diagnostics.bicep'

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Namespace name (globally unique).')
param name string

@description('Log Analytics workspace resource id for the namespace\'s logs.')
param logAnalyticsId string

@description('Topic the app publishes events to.')
param topicName string

@description('Name of the example subscription on the topic.')
param exampleSubscriptionName string

@description('Principal id of the app identity (Data Sender on the topic).')
param senderPrincipalId string

@description('Principal id of a user to grant Data Receiver on the namespace; empty for none.')
param userPrincipalId string = ''

@description('Principal type of userPrincipalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param userPrincipalType string = 'User'

// Built-in roles.
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'
var serviceBusDataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: name
  location: location
  tags: tags
  sku: {
    // Standard: topics and duplicate detection are not available on Basic.
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: namespace
  properties: allLogsTo(logAnalyticsId)
}

resource topic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: namespace
  name: topicName
  properties: {
    defaultMessageTimeToLive: 'P14D'
    // The message id is the event's deterministic id, so a completion republished after a crash
    // or by a redelivered message (the outbox in ResultCommitter) is dropped here. One hour
    // covers the Functions host's retries of a message; the maximum is 7 days (Standard tier).
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
  }
}

resource exampleSubscription 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = {
  parent: topic
  name: exampleSubscriptionName
  properties: {
    maxDeliveryCount: 10
    deadLetteringOnMessageExpiration: true
  }
}

// Scoped to the topic, not the namespace: the app sends to this one topic only.
resource senderRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, senderPrincipalId, serviceBusDataSender)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataSender)
    principalId: senderPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource userReceiverRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(namespace.id, userPrincipalId, serviceBusDataReceiver)
  scope: namespace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceBusDataReceiver)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}

output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output topicName string = topic.name
