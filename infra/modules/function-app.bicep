// The Souq API: a Python 3.11 function app on a Flex Consumption (FC1, Linux) plan, running as
// a user-assigned identity that also pulls the deployment package and resolves Key Vault
// references. Host storage and Application Insights are reached with that identity, never keys.
param name string
param planName string
param location string
param tags object

param identityId string
param identityClientId string

param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string
param workspaceId string

@description('App settings the app reads (see README "Settings"), as name → value.')
param appSettings object

@description('Settings whose value lives in Key Vault: [{ setting: NAME, secret: secret-name }], written as Key Vault references.')
param keyVaultSecretSettings array = []
param keyVaultName string

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int
@minValue(1)
@maxValue(200)
@description('HTTP trigger invocations one instance runs at once (the platform default for Python is 1).')
param httpPerInstanceConcurrency int
@minValue(0)
@description('Always-ready instances for the HTTP trigger group (0 = scale to zero).')
param alwaysReadyHttpInstances int = 0

@description('Subnet delegated to Microsoft.App/environments; empty = no VNet integration.')
param subnetId string = ''

@description('Spread the plan across availability zones (production).')
param zoneRedundant bool

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The host reaches Storage and Application Insights as the user-assigned identity.
var hostSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storage.properties.primaryEndpoints.blob
  AzureWebJobsStorage__queueServiceUri: storage.properties.primaryEndpoints.queue
  AzureWebJobsStorage__tableServiceUri: storage.properties.primaryEndpoints.table
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

var plainSettings = [for setting in items(union(appSettings, hostSettings)): { name: setting.key, value: setting.value }]
// Resolved by the platform with the identity in keyVaultReferenceIdentity; the secret never
// appears in the template, the deployment history or the app's configuration.
var secretSettings = [
  for item in keyVaultSecretSettings: {
    name: item.setting
    value: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${item.secret})'
  }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy is the zoneRedundant parameter, true in production (main.bicep)
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  // checkov:skip=CKV_AZURE_222: the public HTTP API is the product; callers authenticate with JWTs and function keys
  // checkov:skip=CKV_AZURE_17: shoppers' browsers and apps cannot present client certificates; auth is bearer JWT
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero per function group; alwaysReadyHttpInstances keeps warm capacity
  // checkov:skip=CKV_AZURE_213: App Service health check exists only on Dedicated and Premium plans, not Flex Consumption
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat(plainSettings, secretSettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyHttpInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyHttpInstances }] : []
        triggers: {
          http: {
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// No FTP and no basic-auth publishing: azd deploys with an Entra token.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: workspaceId
    logs: [
      { category: 'FunctionAppLogs', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
