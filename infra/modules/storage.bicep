// The app's storage account: Functions host state (blobs, queues), the deployment package,
// private document containers, and every queue the app binds to plus its `-poison` twin.
// Entra only: shared keys are disabled, so no connection string with a key exists anywhere.
param name string
param location string
param tags object

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GZRS'])
param skuName string = 'Standard_ZRS'

@description('Blob containers to create; all private.')
param containerNames array

@description('Queues the app binds to; each also gets `<name>-poison`, where the host moves a message after maxDequeueCount failures.')
param queueNames array

@description('The container of database backups (shared/backups): version-level immutability with a time-based default policy.')
param backupContainerName string

@minValue(1)
@description('Days a backup blob cannot be changed or deleted by anyone, the app identity included (time-based immutability). At most the daily retention, or retention cannot delete on time.')
param backupImmutabilityDays int = 7

@minValue(1)
@description('Days a deleted or overwritten blob stays recoverable (soft delete, and previous versions).')
param blobRecoveryDays int = 14

@description('Browser origins (the shop\'s web apps) that PUT files to upload URLs and GET read URLs (prescriptions, thread attachments); none: uploads from servers and native apps only.')
param browserOrigins array = []

param privateNetworking bool
param workspaceId string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_206: replication is the skuName parameter: ZRS in production (main.bicep), LRS in dev for cost
  // checkov:skip=CKV_AZURE_35: default action is Deny with privateNetworking; public mode relies on Entra-only auth (see networkAcls)
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      // Public mode: the Flex Consumption app has no fixed outbound address to allow, so the
      // account stays reachable and is protected by Entra-only auth (shared keys are off).
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Versioning: an overwrite or delete keeps the previous version (required by version-level
    // immutability on the backup container); the lifecycle rule below bounds what versions cost.
    isVersioningEnabled: true
    deleteRetentionPolicy: { enabled: true, days: blobRecoveryDays }
    containerDeleteRetentionPolicy: { enabled: true, days: blobRecoveryDays }
    // A browser's PUT to an upload URL is cross-origin: without a rule Blob refuses its preflight.
    // Only the named origins, only what an upload or a download needs; the SAS still authorizes.
    cors: {
      corsRules: empty(browserOrigins) ? [] : [
        {
          allowedOrigins: browserOrigins
          allowedMethods: ['GET', 'HEAD', 'PUT', 'OPTIONS']
          allowedHeaders: ['content-type', 'x-ms-blob-type', 'x-ms-blob-content-type', 'x-ms-version', 'x-ms-date']
          exposedHeaders: ['etag', 'x-ms-request-id']
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in containerNames: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
      // Backups: every blob version is WORM for backupImmutabilityDays from its creation, so one
      // compromised identity can neither overwrite nor delete the recent history.
      immutableStorageWithVersioning: container == backupContainerName ? { enabled: true } : null
    }
  }
]

resource backupImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  name: '${storage.name}/default/${backupContainerName}/default'
  properties: {
    immutabilityPeriodSinceCreationInDays: backupImmutabilityDays
    allowProtectedAppendWrites: false
  }
  dependsOn: [containers]
}

// Previous versions (overwritten or deleted blobs, backups the retention timer removed) go after
// blobRecoveryDays: versioning protects against mistakes without keeping every version forever.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-previous-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'] }
            actions: {
              version: { delete: { daysAfterCreationGreaterThan: blobRecoveryDays } }
            }
          }
        }
      ]
    }
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queue in queueNames: {
    parent: queueService
    name: queue
  }
]

resource poisonQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queue in queueNames: {
    parent: queueService
    name: '${queue}-poison'
  }
]

// Queue write logs feed the "message in a -poison queue" alert.
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
    metrics: [
      { category: 'Transaction', enabled: true }
    ]
  }
}

output id string = storage.id
output name string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output tableEndpoint string = storage.properties.primaryEndpoints.table
