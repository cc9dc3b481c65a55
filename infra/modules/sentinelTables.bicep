// The DCR-based custom tables the Logs Ingestion path writes to, in the existing Sentinel workspace. main.bicep deploys
// this module into the workspace's own resource group (and subscription), so it needs write access there.
param workspaceName string
param activityTableName string
param alertTableName string
param alertsEnabled bool
@description('Tables this module must not write, e.g. a classic table you migrated yourself (infra/README.md).')
param unmanagedTables array

// Column lists generated from the mapping by scripts/generateTableSchemas.ts; the path is relative to this file.
var schemas = loadJsonContent('../generated/tableSchemas.json')

// Table names are not case-sensitive in Log Analytics: a migrated table listed as mcas_activity_log_cl is still
// MCAS_Activity_Log_CL, and writing it would drop its columns. So the names are compared in lower case.
var unmanaged = map(unmanagedTables, table => toLower(table))

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' existing = {
  name: workspaceName
}

// A table write sets its whole column list: any column it does not name is deleted, so a migrated classic table's
// _s/_t columns would go. Such a table belongs in unmanagedTables.
resource activityTable 'Microsoft.OperationalInsights/workspaces/tables@2026-03-01' = if (!contains(unmanaged, toLower(activityTableName))) {
  parent: workspace
  name: activityTableName
  properties: {
    plan: 'Analytics'
    schema: {
      name: activityTableName
      description: 'Microsoft Defender for Cloud Apps activities, copied by mcas-activity-connector.'
      columns: schemas.activities
    }
  }
}

resource alertTable 'Microsoft.OperationalInsights/workspaces/tables@2026-03-01' = if (alertsEnabled && !contains(unmanaged, toLower(alertTableName))) {
  parent: workspace
  name: alertTableName
  properties: {
    plan: 'Analytics'
    schema: {
      name: alertTableName
      description: 'Microsoft Defender for Cloud Apps alerts, copied by mcas-activity-connector.'
      columns: schemas.alerts
    }
  }
}
