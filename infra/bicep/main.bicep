// Mage on Azure: one resource group with everything the Functions app needs, on a serverless GPU
// profile (computeProfile 'gpu', the default) or on CPU replicas of the Consumption profile ('cpu').
// Deploy with `azd up` (azure.yaml at the repository root) or
// `az deployment sub create -l <region> -f infra/bicep/main.bicep -p environmentName=<name>`.
// docs/deploy.md walks through both, the GPU quota and the two-pass Event Grid wiring.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('Environment name (azd: AZURE_ENV_NAME); prefixes the resource group and salts resource names.')
param environmentName string

@minLength(1)
@description('Region for every resource. With computeProfile gpu it must offer serverless GPU workload profiles (docs/deploy.md).')
param location string

@description('Where the Functions app runs: gpu (a serverless GPU profile, gpuProfileType, CUDA) or cpu (the Consumption profile, CPU only; serve an int8 package there, docs/deploy.md).')
@allowed([
  'gpu'
  'cpu'
])
param computeProfile string = 'gpu'

@description('vCPUs of one replica with computeProfile cpu (memory is 2 GiB per vCPU, the Consumption profile\'s ratio). The seeded vit-base worker peaked at 2.5 GiB (bench/results/2026-11-29-memory), so 2 vCPU is the least that fits.')
@allowed([
  2
  4
])
param cpuReplicaCores int = 4

@description('Serverless GPU workload profile type for the Functions app (computeProfile gpu).')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuProfileType string = 'Consumption-GPU-NC8as-T4'

@description('Minimum replicas of the Functions app; 0 scales to zero when idle.')
@minValue(0)
param minReplicas int = 0

@description('Maximum replicas of the Functions app; with computeProfile gpu each one holds a whole GPU and counts against the GPU quota.')
@minValue(1)
param maxReplicas int = 1

@description('Mage Functions image in the registry (azd: SERVICE_FUNCTIONS_IMAGE_NAME). Empty before the first push: a public Functions placeholder runs and the Event Grid subscription is not created yet.')
param functionsImageName string = ''

@description('Blob prefix of the model package inside the models container (e.g. mage-vit-base); empty = the package baked into the image at /models/mage.')
param modelBlobPrefix string = ''

@description('Containers callers may name as a source (the app gets Storage Blob Data Reader on each; created if absent). Never jobs, models or azure-webjobs-*.')
param sourceContainers string[] = [
  'uploads'
]

@description('Containers callers may name as an output (the app gets Storage Blob Data Contributor on each; created if absent). Never jobs, models or azure-webjobs-*.')
param outputContainers string[] = [
  'results'
]

@description('Days a deleted blob or container in the data account can be restored; blob versioning is on as well.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int = 7

@description('Largest HTTP request body the Functions host accepts, in bytes (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT): 16 MiB, the largest body the API accepts (a multipart/form-data edit, RequestApiService.MaxUploadBodyBytes). The API caps every other body lower itself.')
@minValue(1)
param requestBodySizeLimitBytes int = 16777216

@description('Put Container Apps authentication with Microsoft Entra ID in front of the API (docs/deploy.md, Authentication). Needs authClientId.')
param enableAuthentication bool = true

@description('Application (client) id of the Entra app registration for the API; required when enableAuthentication is true.')
param authClientId string = ''

@description('Entra tenant that issues the tokens.')
param authTenantId string = tenant().tenantId

@description('Token audiences the API accepts; empty = api://<authClientId> and <authClientId>.')
param authAllowedAudiences string[] = []

@description('Name of the blob-triggered function that embeds uploads.')
param blobTriggerFunctionName string = 'EmbedUpload'

@description('Object id of the deploying user (azd: AZURE_PRINCIPAL_ID) for data-plane access; empty = no user roles.')
param principalId string = ''

@description('Principal type of principalId.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param principalType string = 'User'

// Functions host keys, handed to the app as Container Apps secrets. Defaults are fresh GUIDs,
// so every deployment that does not pass them rotates them; the same deployment updates the
// Event Grid subscription, so the webhook keeps working (docs/deploy.md explains the trade-off).
@secure()
@description('Functions master key. Pass a fixed value to keep it across deployments.')
param functionsMasterKey string = newGuid()

@secure()
@description('Functions default host key. Pass a fixed value to keep it across deployments.')
param functionsHostKey string = newGuid()

@secure()
@description('System key of the blobs extension (the ?code= Event Grid presents). Pass a fixed value to keep it across deployments.')
param blobsExtensionKey string = newGuid()

var contract = loadJsonContent('app-settings.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'mage'
}
var gpuProfileName = 'gpu'
var onGpu = computeProfile == 'gpu'

// The service's own containers: a caller naming one could read or overwrite job state, the model
// or the host's leases, so the caller lists may never include them.
var serviceContainers = [
  contract.containers[2]
  contract.containers[3]
]
var hostContainerPrefix = 'azure-webjobs-'
var refusedCallerContainers = filter(
  union(sourceContainers, outputContainers),
  c => contains(serviceContainers, c) || startsWith(c, hostContainerPrefix)
)
var callerContainers = empty(refusedCallerContainers)
  ? {
      source: sourceContainers
      output: outputContainers
    }
  : fail('sourceContainers and outputContainers may not name the service\'s own containers (${join(serviceContainers, ', ')}, ${hostContainerPrefix}*): remove ${join(refusedCallerContainers, ', ')}')

// Every data queue and its -poison twin, where the host and `mage worker` move failed messages:
// with roles scoped to each queue, neither could create a missing one.
var dataQueues = flatten(map(contract.queues, q => [q, '${q}-poison']))

// The blobs extension's webhook: Event Grid calls it with the system key, so authentication
// leaves exactly this path out.
var blobsWebhookPath = '/runtime/webhooks/blobs'
var auth = enableAuthentication && empty(authClientId)
  ? fail('enableAuthentication is true but authClientId is empty: register an Entra app for the API and pass its client id (docs/deploy.md, Authentication), or set enableAuthentication=false')
  : {
      clientId: authClientId
      openIdIssuer: '${az.environment().authentication.loginEndpoint}${authTenantId}/v2.0'
      allowedAudiences: !empty(authAllowedAudiences)
        ? authAllowedAudiences
        : empty(authClientId) ? [] : ['api://${authClientId}', authClientId]
    }

// Served before the first `azd deploy`; it has the Functions host but none of Mage's functions.
var placeholderImage = 'mcr.microsoft.com/azure-functions/dotnet-isolated:4-dotnet-isolated10.0'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'id-mage-${resourceToken}'
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-mage-${resourceToken}'
    appInsightsName: 'appi-mage-${resourceToken}'
    publisherPrincipalId: identity.outputs.principalId
  }
}

module registry 'modules/registry.bicep' = {
  name: 'registry'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'crmage${resourceToken}'
    pullPrincipalId: identity.outputs.principalId
  }
}

// Two accounts: the Functions host's own (AzureWebJobsStorage) and the data account with Mage's
// containers and queues, on which the app holds only container- and queue-scoped roles.
module hostStorageAccount 'modules/storageaccount.bicep' = {
  name: 'hoststorage-account'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'sthost${resourceToken}'
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    dataProtection: false
  }
}

module hostStorage 'modules/hoststorage.bicep' = {
  name: 'hoststorage'
  scope: rg
  params: {
    accountName: hostStorageAccount.outputs.name
    appPrincipalId: identity.outputs.principalId
  }
}

module storageAccount 'modules/storageaccount.bicep' = {
  name: 'storage-account'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'stmage${resourceToken}'
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    dataProtection: true
    deleteRetentionDays: deleteRetentionDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    accountName: storageAccount.outputs.name
    readerContainers: union([contract.containers[0], contract.containers[3]], callerContainers.source)
    contributorContainers: union([contract.containers[1], contract.containers[2]], callerContainers.output)
    queueNames: dataQueues
    appPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'sb-mage-${resourceToken}'
    topicName: contract.topic
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    exampleSubscriptionName: 'example'
    senderPrincipalId: identity.outputs.principalId
    userPrincipalId: principalId
    userPrincipalType: principalType
  }
}

module environment 'modules/environment.bicep' = {
  name: 'environment'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'cae-mage-${resourceToken}'
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    gpuProfileName: onGpu ? gpuProfileName : ''
    gpuProfileType: gpuProfileType
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'func-mage-${resourceToken}'
    azdServiceName: 'functions'
    environmentId: environment.outputs.id
    workloadProfileName: onGpu ? environment.outputs.gpuProfileName : environment.outputs.consumptionProfileName
    gpuProfileType: onGpu ? gpuProfileType : ''
    cpuReplicaCores: cpuReplicaCores
    image: empty(functionsImageName) ? placeholderImage : functionsImageName
    registryServer: registry.outputs.loginServer
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    hostBlobEndpoint: hostStorageAccount.outputs.blobEndpoint
    hostQueueEndpoint: hostStorageAccount.outputs.queueEndpoint
    hostTableEndpoint: hostStorageAccount.outputs.tableEndpoint
    dataBlobEndpoint: storageAccount.outputs.blobEndpoint
    dataQueueEndpoint: storageAccount.outputs.queueEndpoint
    sourceContainers: callerContainers.source
    outputContainers: callerContainers.output
    requestBodySizeLimitBytes: requestBodySizeLimitBytes
    enableAuthentication: enableAuthentication
    authClientId: auth.clientId
    authOpenIdIssuer: auth.openIdIssuer
    authAllowedAudiences: auth.allowedAudiences
    authExcludedPaths: [
      blobsWebhookPath
    ]
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    eventsTopic: serviceBus.outputs.topicName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    modelBlobPrefix: modelBlobPrefix
    storageNames: {
      uploads: contract.containers[0]
      results: contract.containers[1]
      jobs: contract.containers[2]
      models: contract.containers[3]
      jobsQueue: contract.queues[0]
      shardsQueue: contract.queues[1]
      editsQueue: contract.queues[2]
      generateQueue: contract.queues[3]
      eventsQueue: contract.queues[4]
    }
    masterKey: functionsMasterKey
    hostDefaultKey: functionsHostKey
    blobsExtensionKey: blobsExtensionKey
  }
}

// After the app: the subscription's endpoint is the app's FQDN, and Event Grid validates it.
module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    location: location
    tags: tags
    systemTopicName: 'evgt-mage-${resourceToken}'
    storageAccountName: storageAccount.outputs.name
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    uploadsContainer: contract.containers[0]
    createSubscription: !empty(functionsImageName)
    webhookUrl: 'https://${functionApp.outputs.fqdn}${blobsWebhookPath}?functionName=Host.Functions.${blobTriggerFunctionName}&code=${blobsExtensionKey}'
    subscriptionName: 'uploads-to-${toLower(blobTriggerFunctionName)}'
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = environment.outputs.name
output MAGE_FUNCTIONS_APP_NAME string = functionApp.outputs.name
output MAGE_FUNCTIONS_FQDN string = functionApp.outputs.fqdn
output MAGE_GPU_PROFILE_TYPE string = onGpu ? gpuProfileType : ''
output MAGE_COMPUTE_PROFILE string = computeProfile
output MAGE_STORAGE_ACCOUNT_NAME string = storageAccount.outputs.name
output MAGE_STORAGE_BLOB_ENDPOINT string = storageAccount.outputs.blobEndpoint
output MAGE_HOST_STORAGE_ACCOUNT_NAME string = hostStorageAccount.outputs.name
output MAGE_AUTHENTICATION_ENABLED bool = enableAuthentication
output MAGE_SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output MAGE_EVENTS_TOPIC string = serviceBus.outputs.topicName
output MAGE_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MAGE_APPINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output MAGE_EVENT_SUBSCRIPTION_CREATED bool = eventGrid.outputs.subscriptionCreated
