// Azure Database for PostgreSQL Flexible Server 16: Entra authentication only (password auth
// off), an Entra administrator, the application database, the extensions the migrations
// create, pg_stat_statements tracking and, outside Burstable, the built-in PgBouncer (6432).
param name string
param location string
param tags object

param skuName string
@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
param skuTier string
param storageSizeGB int = 32

@minValue(7)
@maxValue(35)
param backupRetentionDays int
@allowed(['Disabled', 'Enabled'])
param geoRedundantBackup string
@allowed(['Disabled', 'SameZone', 'ZoneRedundant'])
param highAvailability string

@description('Object id of the Entra principal (user, group or service principal) that administers the server.')
param adminObjectId string
@description('Its name as PostgreSQL sees it: a UPN, group name or service principal name.')
param adminName string
@allowed(['User', 'Group', 'ServicePrincipal'])
param adminPrincipalType string

param databaseName string
@description('Turn on the built-in PgBouncer; the caller passes false on Burstable, where it does not exist.')
param pgbouncerEnabled bool
@description('Server connections PgBouncer opens per user/database pair.')
param pgbouncerPoolSize int = 50
@description('Client connections PgBouncer accepts (all instances x DATABASE_POOL_MAX).')
param pgbouncerMaxClientConnections int = 5000

param privateNetworking bool
param delegatedSubnetId string = ''
param privateDnsZoneId string = ''
param workspaceId string

// Upper case, as the server parameter lists them. pg_trgm and unaccent: catalog search;
// pg_stat_statements: query statistics; pgcrypto: gen_random_uuid() and digests.
var allowedExtensions = 'PG_TRGM,UNACCENT,PG_STAT_STATEMENTS,PGCRYPTO'

var baseConfiguration = {
  'azure.extensions': allowedExtensions
  // Static: takes effect after a server restart (docs/operations.md, "Database reports").
  shared_preload_libraries: 'pg_stat_statements'
  'pg_stat_statements.track': 'top'
  track_io_timing: 'on'
  require_secure_connection: 'on'
  ssl_min_protocol_version: 'TLSv1.2'
}
var pgbouncerSettings = {
  'pgbouncer.enabled': 'true'
  'pgbouncer.pool_mode': 'transaction'
  'pgbouncer.default_pool_size': string(pgbouncerPoolSize)
  'pgbouncer.max_client_conn': string(pgbouncerMaxClientConnections)
}
var pgbouncerConfiguration = pgbouncerEnabled ? pgbouncerSettings : {}
var serverConfiguration = union(baseConfiguration, pgbouncerConfiguration)

var privateNetwork = {
  publicNetworkAccess: 'Disabled'
  delegatedSubnetResourceId: delegatedSubnetId
  privateDnsZoneArmResourceId: privateDnsZoneId
}
var publicNetwork = {
  publicNetworkAccess: 'Enabled'
}

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: '16'
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: subscription().tenantId
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: backupRetentionDays
      geoRedundantBackup: geoRedundantBackup
    }
    highAvailability: {
      mode: highAvailability
    }
    network: privateNetworking ? privateNetwork : publicNetwork
    maintenanceWindow: {
      customWindow: 'Enabled'
      dayOfWeek: 0
      startHour: 2
      startMinute: 0
    }
  }
}

resource administrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: server
  name: adminObjectId
  properties: {
    principalType: adminPrincipalType
    principalName: adminName
    tenantId: subscription().tenantId
  }
}

// Public mode: only connections from inside Azure (the 0.0.0.0 rule), never the internet at large.
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2024-08-01' = if (!privateNetworking) {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
}

// One at a time: the server rejects concurrent parameter updates.
@batchSize(1)
resource configurations 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2024-08-01' = [
  for setting in items(serverConfiguration): {
    parent: server
    name: setting.key
    properties: {
      value: setting.value
      source: 'user-override'
    }
    dependsOn: [administrator, allowAzureServices]
  }
]

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [configurations]
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: server
  properties: {
    workspaceId: workspaceId
    logs: [
      { categoryGroup: 'allLogs', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

output id string = server.id
output name string = server.name
output fqdn string = server.properties.fullyQualifiedDomainName
output databaseName string = database.name
