// The one shape of diagnostic settings in this deployment, imported by the modules that send
// a resource's logs to the Log Analytics workspace (monitoring.bicep).

@export()
@description('Diagnostic settings properties: every log category of the resource (category group allLogs) to the workspace.')
func allLogsTo(workspaceId string) object => {
  workspaceId: workspaceId
  logs: [
    {
      categoryGroup: 'allLogs'
      enabled: true
    }
  ]
}
