// Souq in Azure, for `azd up`: a resource group holding the function app (Flex Consumption),
// PostgreSQL Flexible Server, Azure Managed Redis, Storage, Key Vault, monitoring and alerts.
// Sizing comes from the parameter file: main.parameters.json (dev, azd's default) or
// main.production.parameters.json (see docs/deploy.md).
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every resource name and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of every resource; must offer Flex Consumption and Azure Managed Redis.')
param location string

@description('The deploying user or CI principal (azd sets AZURE_PRINCIPAL_ID); gets data roles for operations.')
param principalId string = ''
@allowed(['User', 'Group', 'ServicePrincipal'])
param principalType string = 'User'

@allowed(['dev', 'staging', 'production'])
@description('SOUQ_ENV of the app.')
param souqEnv string = 'dev'

@description('VNet, delegated subnets and private endpoints; false = public endpoints restricted to Azure services and Entra-only auth.')
param privateNetworking bool = false

// Function app sizing. Connection budget: functionMaximumInstanceCount x databasePoolMax must
// fit the PostgreSQL SKU's connections, or PgBouncer must be on (tests/infra checks each file).
// databasePoolMax is derived from the HTTP concurrency per instance (docs/deploy.md, "Scale").
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 6
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048
@minValue(0)
param alwaysReadyHttpInstances int = 0
@minValue(1)
@maxValue(200)
@description('HTTP requests one instance serves at once (scaleAndConcurrency.triggers.http.perInstanceConcurrency). Left unset, Flex Consumption gives Python apps 1; the app is async end to end.')
param httpPerInstanceConcurrency int = 10

// DATABASE_POOL_MAX: a connection for every other request in flight (at least 2: a request and
// the outbox relay). Catalog reads served from Redis hold none and every request spends part of
// its time in Python, so half is enough; 100 is the settings' ceiling (docs/deploy.md, "Scale").
var databasePoolMax = min(100, max(2, (httpPerInstanceConcurrency + 1) / 2))

// PostgreSQL
@description('A compute size listed in postgres-max-connections.json.')
param postgresSkuName string = 'Standard_B1ms'
@allowed(['Burstable', 'GeneralPurpose', 'MemoryOptimized'])
param postgresSkuTier string = 'Burstable'
param postgresStorageSizeGB int = 32
@minValue(7)
@maxValue(35)
param postgresBackupRetentionDays int = 7
@allowed(['Disabled', 'Enabled'])
param postgresGeoRedundantBackup string = 'Disabled'
@allowed(['Disabled', 'SameZone', 'ZoneRedundant'])
param postgresHighAvailability string = 'Disabled'
@description('Built-in PgBouncer (port 6432, transaction mode); ignored on Burstable, which has none.')
param postgresPgBouncer bool = false
@minLength(1)
@description('Object id of the Entra administrator of PostgreSQL (a group in production).')
param postgresAdminObjectId string
@minLength(1)
@description('Its PostgreSQL role name: UPN, group name or service principal name.')
param postgresAdminName string
@allowed(['User', 'Group', 'ServicePrincipal'])
param postgresAdminPrincipalType string = 'User'

// Redis
@description('Azure Managed Redis SKU, e.g. Balanced_B0 (dev), Balanced_B1 (production).')
param redisSkuName string = 'Balanced_B0'
@allowed(['Enabled', 'Disabled'])
param redisHighAvailability string = 'Disabled'

// Identity provider of the API's bearer tokens.
@minLength(1)
param authIssuer string
@minLength(1)
param authAudience string
@minLength(1)
param authJwksUrl string

@description('Queue the outbox relays domain events to (DOMAIN_EVENTS_QUEUE).')
param domainEventsQueue string = 'domain-events'
@description('Queue of order events (ORDER_EVENTS_QUEUE).')
param orderEventsQueue string = 'order-events'
@description('Queue of verified payment webhooks (PAYMENT_EVENTS_QUEUE).')
param paymentEventsQueue string = 'payment-events'
@description('Queue of verified channel webhooks, raw (CHANNEL_INBOUND_QUEUE).')
param channelInboundQueue string = 'channel-inbound'
@description('Queue of agents\' replies to send through their channel (CHANNEL_OUTBOUND_QUEUE).')
param channelOutboundQueue string = 'channel-outbound'
@description('Key Vault secret holding the inbox\'s channel-secrets key ring (CHANNEL_SECRETS_KEY; docs/inbox.md).')
param channelSecretsKeySecret string = 'channel-secrets-key'
@description('Key Vault secret that signs the chat widget\'s visitor tokens (WIDGET_TOKEN_SECRET; docs/widget.md).')
param widgetTokenSecret string = 'widget-token-secret'

@description('App settings backed by Key Vault secrets: [{ setting: NAME, secret: secret-name }].')
param keyVaultSecretSettings array = []

@minLength(3)
@description('Backups (shared/backups): how many daily, weekly and monthly backups the retention timer keeps.')
param backupKeepDaily int = 7
param backupKeepWeekly int = 4
param backupKeepMonthly int = 12
@description('Browser origins allowed to upload to and download from Blob upload/read URLs (CORS), e.g. [\'https://shop.example.sa\']; empty: no browser uploads.')
param uploadBrowserOrigins array = []

@minValue(1)
@description('Days each backup blob is immutable (WORM); at most backupKeepDaily, so retention can delete on time.')
param backupImmutabilityDays int = 7

@description('Where alerts are emailed.')
param alertEmail string

var abbrs = loadJsonContent('abbreviations.json')
var postgresLimits = loadJsonContent('postgres-max-connections.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var databaseName = 'souq'

var functionAppName = '${abbrs.webSitesFunctions}souq-${resourceToken}'
var storageAccountName = '${abbrs.storageStorageAccounts}${resourceToken}'
var keyVaultName = '${abbrs.keyVaultVaults}${resourceToken}'
var redisName = '${abbrs.cacheRedisEnterprise}${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 8)}'

// Every queue a function binds to; the storage module adds each `-poison` twin.
var appQueues = [domainEventsQueue, orderEventsQueue, paymentEventsQueue, channelInboundQueue, channelOutboundQueue]
var backupContainerName = 'backups'
var blobContainers = [deploymentContainerName, backupContainerName, 'prescriptions', 'attachments', 'channel-inbound']

var pgbouncerOn = postgresPgBouncer && postgresSkuTier != 'Burstable'
// The app goes through PgBouncer when it is on; admin work and migrations use 5432.
var databasePort = pgbouncerOn ? 6432 : 5432

var privateDnsZoneNames = [
  // VNet-injected servers need a zone ending in .postgres.database.azure.com.
  '${resourceToken}.private.postgres.database.azure.com'
  'privatelink.blob.${environment().suffixes.storage}'
  'privatelink.queue.${environment().suffixes.storage}'
  'privatelink.table.${environment().suffixes.storage}'
  'privatelink.vaultcore.azure.net'
  'privatelink.redis.azure.net'
]

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}souq-api-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module network 'modules/network.bicep' = if (privateNetworking) {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    nsgNamePrefix: '${abbrs.networkNetworkSecurityGroups}${resourceToken}-'
    location: location
    tags: tags
    privateDnsZoneNames: privateDnsZoneNames
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: storageAccountName
    location: location
    tags: tags
    skuName: souqEnv == 'production' ? 'Standard_ZRS' : 'Standard_LRS'
    containerNames: blobContainers
    backupContainerName: backupContainerName
    backupImmutabilityDays: min(backupImmutabilityDays, backupKeepDaily)
    browserOrigins: uploadBrowserOrigins
    queueNames: appQueues
    privateNetworking: privateNetworking
    workspaceId: monitoring.outputs.workspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: keyVaultName
    location: location
    tags: tags
    privateNetworking: privateNetworking
    workspaceId: monitoring.outputs.workspaceId
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  scope: rg
  params: {
    name: '${abbrs.dBforPostgreSQLServers}${resourceToken}'
    location: location
    tags: tags
    skuName: postgresSkuName
    skuTier: postgresSkuTier
    storageSizeGB: postgresStorageSizeGB
    backupRetentionDays: postgresBackupRetentionDays
    geoRedundantBackup: postgresGeoRedundantBackup
    highAvailability: postgresHighAvailability
    adminObjectId: postgresAdminObjectId
    adminName: postgresAdminName
    adminPrincipalType: postgresAdminPrincipalType
    databaseName: databaseName
    pgbouncerEnabled: pgbouncerOn
    privateNetworking: privateNetworking
    delegatedSubnetId: privateNetworking ? network.outputs.postgresSubnetId : ''
    privateDnsZoneId: privateNetworking ? network.outputs.privateDnsZoneIds[0] : ''
    workspaceId: monitoring.outputs.workspaceId
  }
}

module redis 'modules/redis.bicep' = {
  name: 'redis'
  scope: rg
  params: {
    name: redisName
    location: location
    tags: tags
    skuName: redisSkuName
    highAvailability: redisHighAvailability
    appPrincipalId: identity.outputs.principalId
    workspaceId: monitoring.outputs.workspaceId
  }
}

// Target ids are built from names, so the endpoint list is known before deployment starts.
var privateEndpoints = [
  { kind: 'blob', zone: 1, target: resourceId(subscription().subscriptionId, rg.name, 'Microsoft.Storage/storageAccounts', storageAccountName) }
  { kind: 'queue', zone: 2, target: resourceId(subscription().subscriptionId, rg.name, 'Microsoft.Storage/storageAccounts', storageAccountName) }
  { kind: 'table', zone: 3, target: resourceId(subscription().subscriptionId, rg.name, 'Microsoft.Storage/storageAccounts', storageAccountName) }
  { kind: 'vault', zone: 4, target: resourceId(subscription().subscriptionId, rg.name, 'Microsoft.KeyVault/vaults', keyVaultName) }
  { kind: 'redisEnterprise', zone: 5, target: resourceId(subscription().subscriptionId, rg.name, 'Microsoft.Cache/redisEnterprise', redisName) }
]

module endpoints 'modules/private-endpoint.bicep' = [
  for endpoint in (privateNetworking ? privateEndpoints : []): {
    name: 'pep-${endpoint.kind}'
    scope: rg
    params: {
      name: '${abbrs.networkPrivateEndpoints}${endpoint.kind}-${resourceToken}'
      location: location
      tags: tags
      subnetId: network.outputs.privateEndpointSubnetId
      targetResourceId: endpoint.target
      groupId: endpoint.kind
      privateDnsZoneId: network.outputs.privateDnsZoneIds[endpoint.zone]
    }
    dependsOn: [storage, keyVault, redis]
  }
]

// Every setting the app reads in Azure (README "Settings"); tests/infra compares this with
// shared/platform/settings_model.py. Host storage and Application Insights settings are added by the
// function-app module, Key Vault references from keyVaultSecretSettings.
var appSettings = {
  AzureWebJobsFeatureFlags: 'EnableWorkerIndexing'
  SOUQ_ENV: souqEnv
  DATABASE_URL: 'postgresql://${postgres.outputs.fqdn}:${databasePort}/${databaseName}?sslmode=require'
  DATABASE_AUTH: 'entra'
  DATABASE_ENTRA_USER: identity.outputs.name
  DATABASE_PGBOUNCER: string(pgbouncerOn)
  DATABASE_POOL_MAX: string(databasePoolMax)
  REDIS_URL: 'rediss://${redis.outputs.hostName}:${redis.outputs.port}'
  REDIS_AUTH: 'entra'
  // Azure Managed Redis is clustered: the cache's Lua scripts need every key in one hash slot.
  REDIS_KEY_PREFIX: '{souq}:'
  AZURE_CLIENT_ID: identity.outputs.clientId
  AUTH_ISSUER: authIssuer
  AUTH_AUDIENCE: authAudience
  AUTH_JWKS_URL: authJwksUrl
  DOMAIN_EVENTS_QUEUE: domainEventsQueue
  ORDER_EVENTS_QUEUE: orderEventsQueue
  PAYMENT_EVENTS_QUEUE: paymentEventsQueue
  BACKUP_CONTAINER: backupContainerName
  BACKUP_KEEP_DAILY: string(backupKeepDaily)
  BACKUP_KEEP_WEEKLY: string(backupKeepWeekly)
  BACKUP_KEEP_MONTHLY: string(backupKeepMonthly)
  // Moyasar's keys and webhook secret come from Key Vault (keyVaultSecretSettings); never the sandbox here.
  PAYMENT_GATEWAY: 'moyasar'
  // The inbox: channel webhooks queued raw, replies queued for the senders, large bodies in Blob;
  // the channel secrets' AES-GCM key ring is a Key Vault reference (made by hooks/postprovision.sh).
  CHANNEL_INBOUND_QUEUE: channelInboundQueue
  CHANNEL_OUTBOUND_QUEUE: channelOutboundQueue
  CHANNEL_INBOUND_CONTAINER: 'channel-inbound'
  CHANNEL_SECRETS_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${channelSecretsKeySecret})'
  // The chat widget's visitor tokens are signed with a key derived from this (made by hooks/postprovision.sh).
  WIDGET_TOKEN_SECRET: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${widgetTokenSecret})'
  LOG_FORMAT: 'azure'
  LOG_LEVEL: 'INFO'
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    workspaceId: monitoring.outputs.workspaceId
    appSettings: appSettings
    keyVaultSecretSettings: keyVaultSecretSettings
    keyVaultName: keyVault.outputs.name
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    zoneRedundant: souqEnv == 'production'
    subnetId: privateNetworking ? network.outputs.appSubnetId : ''
  }
  dependsOn: [roles]
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    namePrefix: '${abbrs.insightsActionGroups}${resourceToken}-'
    location: location
    tags: tags
    alertEmail: alertEmail
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    workspaceId: monitoring.outputs.workspaceId
    postgresServerId: postgres.outputs.id
    postgresMaxConnections: postgresLimits.maxConnections[postgresSkuName]
    redisClusterId: redis.outputs.id
  }
}

// azd stores these in the environment; the postprovision hook and docs/deploy.md use them.
// Names and endpoints only: nothing here is a secret.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = functionApp.outputs.name
output SERVICE_API_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output POSTGRES_HOST string = postgres.outputs.fqdn
output POSTGRES_DATABASE string = databaseName
output POSTGRES_APP_ROLE string = identity.outputs.name
output POSTGRES_APP_PRINCIPAL_ID string = identity.outputs.principalId
output POSTGRES_ADMIN_NAME string = postgresAdminName
output PRIVATE_NETWORKING bool = privateNetworking
