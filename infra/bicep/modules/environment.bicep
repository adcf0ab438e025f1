// Container Apps environment with workload profiles: the default Consumption profile plus, unless
// gpuProfileName is empty (a CPU deployment), one serverless-GPU profile. Logs go to Log Analytics through diagnostic settings
// (destination azure-monitor), so no workspace shared key passes through the template.

import { allLogsTo } from 'diagnostics.bicep'

@description('Azure region. Serverless GPU profiles exist only in some regions (docs/deploy.md).')
param location string

@description('Tags for every resource.')
param tags object

@description('Environment name.')
param name string

@description('Log Analytics workspace resource id.')
param logAnalyticsId string

@description('Name of the GPU workload profile inside the environment; empty for none (a CPU deployment).')
param gpuProfileName string

@description('Serverless GPU workload profile type (unused without gpuProfileName).')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuProfileType string

var consumptionProfileName = 'Consumption'

resource environment 'Microsoft.App/managedEnvironments@2025-01-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: concat([
      {
        name: consumptionProfileName
        workloadProfileType: 'Consumption'
      }
    ], empty(gpuProfileName) ? [] : [
      {
        name: gpuProfileName
        workloadProfileType: gpuProfileType
      }
    ])
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: environment
  properties: allLogsTo(logAnalyticsId)
}

output id string = environment.id
output name string = environment.name
output defaultDomain string = environment.properties.defaultDomain
output gpuProfileName string = gpuProfileName
output consumptionProfileName string = consumptionProfileName
