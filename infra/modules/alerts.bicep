// Alerts to one action group (email): function failure rate, any message moved to a `-poison`
// queue, a failed backup or backup verification, PostgreSQL CPU and connection use, Redis memory.
param namePrefix string
param tags object
param location string
param alertEmail string

param applicationInsightsId string
param workspaceId string
param postgresServerId string
@description('max_connections of the PostgreSQL SKU; the alert fires at 80% of it.')
param postgresMaxConnections int
param redisClusterId string

@description('Percentage of failed function invocations (15 min window) that fires the alert.')
param failureRatePercent int = 5

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}ops'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'souq-ops'
    enabled: true
    emailReceivers: [
      {
        name: 'operations'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Every invocation (HTTP, timer, queue) is a `requests` row in Application Insights.
resource failureRate 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: '${namePrefix}function-failure-rate'
  location: location
  tags: tags
  properties: {
    displayName: 'Function failure rate above ${failureRatePercent}%'
    severity: 1
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'requests | summarize total = count(), failed = countif(success == false) | where total >= 20 and failed * 100.0 / total > ${failureRatePercent}'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

// The host moves a message to `<queue>-poison` with a PutMessage, logged by the queue
// service's diagnostic setting (storage module).
resource poisonMessage 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: '${namePrefix}poison-queue-message'
  location: location
  tags: tags
  properties: {
    displayName: 'A message was moved to a -poison queue'
    severity: 2
    enabled: true
    scopes: [workspaceId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: 'StorageQueueLogs | where OperationName == "PutMessage" and ObjectKey has "-poison"'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

// shared/backups logs "backup verification failed …" at ERROR when the weekly restore of the newest
// backup does not match (or there is none); a failed daily backup fails its timer, logged by the
// job wrapper as "backup_database failed". Either means the history is not proven: page someone.
resource backupFailed 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: '${namePrefix}backup-failed'
  location: location
  tags: tags
  properties: {
    displayName: 'A database backup or its weekly verification failed'
    severity: 1
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'traces | where severityLevel >= 3 and message has_any ("backup verification failed", "backup_database failed")'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

var metricAlerts = [
  {
    name: 'postgres-cpu'
    scope: postgresServerId
    metric: 'cpu_percent'
    threshold: 80
    description: 'PostgreSQL CPU above 80% for 15 minutes'
  }
  {
    name: 'postgres-connections'
    scope: postgresServerId
    metric: 'active_connections'
    threshold: postgresMaxConnections * 80 / 100
    description: 'PostgreSQL connections above 80% of max_connections'
  }
  {
    name: 'redis-memory'
    scope: redisClusterId
    metric: 'usedmemorypercentage'
    threshold: 80
    description: 'Redis memory above 80%'
  }
]

resource metricAlertRules 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for alert in metricAlerts: {
    name: '${namePrefix}${alert.name}'
    location: 'global'
    tags: tags
    properties: {
      description: alert.description
      severity: 2
      enabled: true
      scopes: [alert.scope]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT15M'
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            criterionType: 'StaticThresholdCriterion'
            name: alert.metric
            metricName: alert.metric
            operator: 'GreaterThan'
            threshold: alert.threshold
            timeAggregation: 'Average'
          }
        ]
      }
      actions: [
        {
          actionGroupId: actionGroup.id
        }
      ]
    }
  }
]
