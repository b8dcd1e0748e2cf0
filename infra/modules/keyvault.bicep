// Key Vault for channel and payment-gateway secrets. RBAC mode (no access policies), soft
// delete and purge protection on; the app reads secrets through Key Vault references.
param name string
param location string
param tags object
param privateNetworking bool
param workspaceId string

var publicNetworkAccess = privateNetworking ? 'Disabled' : 'Enabled'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: firewall default is Deny with privateNetworking; public mode relies on Entra RBAC (see networkAcls)
  // checkov:skip=CKV_AZURE_189: public network access is Disabled with privateNetworking; public mode needs it for Key Vault references
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      // Public mode: Key Vault references are resolved from App Service's shared outbound
      // addresses, which cannot be allow-listed; access is Entra RBAC only.
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      { categoryGroup: 'audit', enabled: true }
    ]
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
