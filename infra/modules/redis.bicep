// Azure Managed Redis (Microsoft.Cache/redisEnterprise), the successor of Azure Cache for
// Redis. A cache only: no persistence, LRU eviction. TLS only, access keys disabled; the app
// authenticates with its managed identity through an access policy assignment.
//
// Clustering policy EnterpriseCluster: the cluster is sharded server-side behind one endpoint,
// so redis-py's plain (non-cluster-aware) client works unchanged. OSSCluster would expose the
// shard topology and require RedisCluster plus hash tags for multi-key commands.
param name string
param location string
param tags object

param skuName string
@allowed(['Enabled', 'Disabled'])
param highAvailability string

@description('Object id of the app identity that gets the default data access policy.')
param appPrincipalId string
param workspaceId string

resource cluster 'Microsoft.Cache/redisEnterprise@2025-04-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    highAvailability: highAvailability
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-04-01' = {
  parent: cluster
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    clusteringPolicy: 'EnterpriseCluster'
    evictionPolicy: 'AllKeysLRU'
    accessKeysAuthentication: 'Disabled'
    persistence: {
      aofEnabled: false
      rdbEnabled: false
    }
  }
}

resource appAccess 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-04-01' = {
  parent: database
  name: 'souqapi'
  properties: {
    accessPolicyName: 'default'
    user: {
      objectId: appPrincipalId
    }
  }
}

resource metrics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: cluster
  properties: {
    workspaceId: workspaceId
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

resource connectionLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: database
  properties: {
    workspaceId: workspaceId
    logs: [
      { categoryGroup: 'allLogs', enabled: true }
    ]
  }
}

output id string = cluster.id
output name string = cluster.name
output hostName string = cluster.properties.hostName
output port int = database.properties.port
