// The user-assigned identity the function app runs as. User-assigned (not system-assigned)
// so its principal exists before the app, and roles, the Redis access policy and the
// PostgreSQL role can be granted to it up front.
param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
