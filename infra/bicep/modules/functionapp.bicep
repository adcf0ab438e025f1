// The Mage Functions app: a container app of kind functionapp on the serverless-GPU workload
// profile (gpuProfileType set) or on the Consumption profile with CPU inference (gpuProfileType empty). No scale rules here on purpose: for kind functionapp the platform derives them from
// the app's triggers and host.json; only the replica bounds are ours.
// Container Apps authentication (authConfigs) stands in front of the API with Microsoft Entra ID
// when enableAuthentication is on; the Event Grid webhook stays reachable with its system key.

@description('Azure region.')
param location string

@description('Tags for every resource (the azd-service-name tag is added here).')
param tags object

@description('Container app name.')
param name string

@description('azd service name this app belongs to (azure.yaml).')
param azdServiceName string

@description('Container Apps environment resource id.')
param environmentId string

@description('Workload profile the app runs on (the GPU profile, or Consumption for CPU).')
param workloadProfileName string

@description('Serverless GPU profile type, which sizes the container to the whole node; empty for a CPU replica of cpuReplicaCores.')
@allowed([
  ''
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuProfileType string

@description('vCPUs of a CPU replica (gpuProfileType empty), with 2 GiB of memory per vCPU as the Consumption profile requires.')
@allowed([
  2
  4
])
param cpuReplicaCores int

@description('Container image (registry/repository:tag).')
param image string

@description('Registry login server the image is pulled from with the identity.')
param registryServer string

@description('User-assigned identity resource id.')
param identityId string

@description('User-assigned identity client id.')
param identityClientId string

@description('Minimum replicas; 0 lets the app scale to zero (cold start includes the model load).')
@minValue(0)
param minReplicas int

@description('Maximum replicas; each one holds a whole GPU.')
@minValue(1)
param maxReplicas int

@description('Blob endpoint of the Functions host\'s own storage account (https://<account>.blob.<suffix>/).')
param hostBlobEndpoint string

@description('Queue endpoint of the host\'s storage account.')
param hostQueueEndpoint string

@description('Table endpoint of the host\'s storage account.')
param hostTableEndpoint string

@description('Blob endpoint of the data storage account (Mage\'s containers).')
param dataBlobEndpoint string

@description('Queue endpoint of the data storage account (Mage\'s queues).')
param dataQueueEndpoint string

@description('Containers callers may name as a source (read only).')
param sourceContainers string[]

@description('Containers callers may name as an output.')
param outputContainers string[]

@description('Largest HTTP request body the Functions host accepts, in bytes.')
@minValue(1)
param requestBodySizeLimitBytes int

@description('Put Container Apps authentication (Microsoft Entra ID) in front of the app.')
param enableAuthentication bool

@description('Application (client) id of the Entra app registration that represents the API.')
param authClientId string

@description('OpenID issuer of the tenant (https://login.microsoftonline.com/<tenant>/v2.0).')
param authOpenIdIssuer string

@description('Token audiences the app accepts.')
param authAllowedAudiences string[]

@description('Paths served without authentication: the Event Grid webhook, which presents its own system key.')
param authExcludedPaths string[]

@description('Service Bus fully qualified namespace (<ns>.servicebus.windows.net).')
param serviceBusNamespace string

@description('Service Bus topic for Mage events.')
param eventsTopic string

@secure()
@description('Application Insights connection string (not a secret per Microsoft, handled as one anyway).')
param appInsightsConnectionString string

@description('Blob prefix of the model package in the models container; empty = the package baked into the image.')
param modelBlobPrefix string

@description('Blob container and queue names, keyed by their role in the app\'s settings.')
param storageNames {
  uploads: string
  results: string
  jobs: string
  models: string
  jobsQueue: string
  shardsQueue: string
  editsQueue: string
  generateQueue: string
  eventsQueue: string
}

@secure()
@description('Functions host master key (_master).')
param masterKey string

@secure()
@description('Functions host default key.')
param hostDefaultKey string

@secure()
@description('System key of the blobs extension: the code Event Grid presents on /runtime/webhooks/blobs.')
param blobsExtensionKey string

// Sizes of the serverless GPU nodes: a replica gets the whole node (one GPU).
var gpuNodeSizes = {
  'Consumption-GPU-NC8as-T4': {
    cpu: 8
    memory: '56Gi'
  }
  'Consumption-GPU-NC24-A100': {
    cpu: 24
    memory: '220Gi'
  }
}

var onGpu = !empty(gpuProfileType)
var replicaSize = onGpu ? gpuNodeSizes[gpuProfileType] : {
  cpu: cpuReplicaCores
  memory: '${cpuReplicaCores * 2}Gi'
}

// The image runs as a non-root user, which cannot bind port 80 (the Functions image's default).
var targetPort = 8080

resource app 'Microsoft.App/containerApps@2025-02-02-preview' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: workloadProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      // Ingress is required for the platform's event-driven scaling of function apps, and it is
      // where Event Grid delivers blob events.
      ingress: {
        external: true
        targetPort: targetPort
        transport: 'auto'
        allowInsecure: false
      }
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
      secrets: [
        {
          name: 'appinsights-connection-string'
          value: appInsightsConnectionString
        }
        {
          name: 'host-master'
          value: masterKey
        }
        {
          name: 'host-function-default'
          value: hostDefaultKey
        }
        {
          name: 'host-systemkey-blobs-extension'
          value: blobsExtensionKey
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'functions'
          image: image
          resources: {
            cpu: replicaSize.cpu
            memory: replicaSize.memory
          }
          // The settings contract: infra/bicep/app-settings.json lists these names.
          env: [
            // Host storage (its own account) and the MageStorage trigger/client connection (the
            // data account), identity-based.
            { name: 'AzureWebJobsStorage__blobServiceUri', value: hostBlobEndpoint }
            { name: 'AzureWebJobsStorage__queueServiceUri', value: hostQueueEndpoint }
            { name: 'AzureWebJobsStorage__tableServiceUri', value: hostTableEndpoint }
            { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
            { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
            { name: 'MageStorage__blobServiceUri', value: dataBlobEndpoint }
            { name: 'MageStorage__queueServiceUri', value: dataQueueEndpoint }
            { name: 'MageStorage__credential', value: 'managedidentity' }
            { name: 'MageStorage__clientId', value: identityClientId }
            // Functions host.
            { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'dotnet-isolated' }
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            // Not a secret per Microsoft's guidance, but kept out of plain env values all the same.
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', secretRef: 'appinsights-connection-string' }
            // App Insights has local auth off: the host sends telemetry with an Entra token for this identity.
            { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
            // Host keys come from Container Apps secrets mounted as files (see docs/deploy.md).
            { name: 'AzureWebJobsSecretStorageType', value: 'containerapp' }
            { name: 'ASPNETCORE_URLS', value: 'http://+:${targetPort}' }
            // The host refuses larger bodies before the worker sees them.
            { name: 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT', value: string(requestBodySizeLimitBytes) }
            // Mage options (the app binds these at start-up).
            // The app takes exactly one model source: the image's folder unless a blob prefix is given.
            { name: 'Mage__Model__PackagePath', value: empty(modelBlobPrefix) ? '/models/mage' : '' }
            { name: 'Mage__Model__BlobPrefix', value: modelBlobPrefix }
            { name: 'Mage__Model__Device', value: onGpu ? 'cuda' : 'cpu' }
            { name: 'Mage__Storage__UploadsContainer', value: storageNames.uploads }
            { name: 'Mage__Storage__ResultsContainer', value: storageNames.results }
            { name: 'Mage__Storage__JobsContainer', value: storageNames.jobs }
            { name: 'Mage__Storage__ModelsContainer', value: storageNames.models }
            { name: 'Mage__Storage__JobsQueue', value: storageNames.jobsQueue }
            { name: 'Mage__Storage__ShardsQueue', value: storageNames.shardsQueue }
            { name: 'Mage__Storage__EditsQueue', value: storageNames.editsQueue }
            { name: 'Mage__Storage__GenerateQueue', value: storageNames.generateQueue }
            { name: 'Mage__Storage__EventsQueue', value: storageNames.eventsQueue }
            { name: 'Mage__Storage__SourceContainers', value: join(sourceContainers, ',') }
            { name: 'Mage__Storage__OutputContainers', value: join(outputContainers, ',') }
            // The deployment creates every container and queue; the app's roles are scoped to
            // each one and could not create a missing one anyway.
            { name: 'Mage__Storage__CreateMissing', value: 'false' }
            // Only behind Container Apps authentication may the app believe X-MS-CLIENT-PRINCIPAL*.
            { name: 'Mage__Api__TrustAuthHeaders', value: enableAuthentication ? 'true' : 'false' }
            { name: 'Mage__Events__ServiceBusNamespace', value: serviceBusNamespace }
            { name: 'Mage__Events__Topic', value: eventsTopic }
          ]
          volumeMounts: [
            {
              volumeName: 'functions-keys'
              mountPath: '/run/secrets/functions-keys'
            }
          ]
        }
      ]
      volumes: [
        {
          name: 'functions-keys'
          storageType: 'Secret'
          // The host reads dotted file names; secret names allow only dashes.
          secrets: [
            {
              secretRef: 'host-master'
              path: 'host.master'
            }
            {
              secretRef: 'host-function-default'
              path: 'host.function.default'
            }
            {
              secretRef: 'host-systemkey-blobs-extension'
              path: 'host.systemKey.blobs_extension'
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
      }
    }
  }
}

// Always deployed, so that turning the parameter off also turns enforcement off on an app
// where it was on.
resource authentication 'Microsoft.App/containerApps/authConfigs@2025-02-02-preview' = {
  parent: app
  name: 'current'
  properties: {
    platform: {
      enabled: enableAuthentication
    }
    globalValidation: {
      // An API, not a web site: no login redirect.
      unauthenticatedClientAction: 'Return401'
      excludedPaths: authExcludedPaths
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: enableAuthentication
        registration: {
          clientId: authClientId
          openIdIssuer: authOpenIdIssuer
        }
        validation: {
          allowedAudiences: authAllowedAudiences
        }
      }
    }
  }
}

output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
