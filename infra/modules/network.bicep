// Private networking (only deployed when `privateNetworking` is true): one VNet with a subnet
// delegated to the Flex Consumption app (outbound VNet integration), a subnet delegated to
// PostgreSQL (VNet-injected server) and a subnet for private endpoints, each behind an NSG,
// plus the private DNS zones those endpoints resolve through.
param name string
param location string
param tags object
param nsgNamePrefix string

@description('Private DNS zones to create and link; one per private endpoint kind plus PostgreSQL.')
param privateDnsZoneNames array

param addressPrefix string = '10.20.0.0/16'

var subnets = [
  { name: 'app', prefix: '10.20.1.0/24', delegation: 'Microsoft.App/environments' }
  { name: 'postgres', prefix: '10.20.2.0/24', delegation: 'Microsoft.DBforPostgreSQL/flexibleServers' }
  { name: 'private-endpoints', prefix: '10.20.3.0/24', delegation: '' }
]

resource nsgs 'Microsoft.Network/networkSecurityGroups@2024-01-01' = [
  for subnet in subnets: {
    name: '${nsgNamePrefix}${subnet.name}'
    location: location
    tags: tags
    properties: {
      securityRules: []
    }
  }
]

resource vnet 'Microsoft.Network/virtualNetworks@2024-01-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [addressPrefix]
    }
    subnets: [
      for (subnet, i) in subnets: {
        name: subnet.name
        properties: {
          addressPrefix: subnet.prefix
          networkSecurityGroup: {
            id: nsgs[i].id
          }
          privateEndpointNetworkPolicies: 'Disabled'
          delegations: empty(subnet.delegation) ? [] : [{ name: subnet.delegation, properties: { serviceName: subnet.delegation } }]
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for zone in privateDnsZoneNames: {
    name: zone
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (zone, i) in privateDnsZoneNames: {
    parent: zones[i]
    name: '${name}-link'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: {
        id: vnet.id
      }
    }
  }
]

output appSubnetId string = vnet.properties.subnets[0].id
output postgresSubnetId string = vnet.properties.subnets[1].id
output privateEndpointSubnetId string = vnet.properties.subnets[2].id
output privateDnsZoneIds array = [for (zone, i) in privateDnsZoneNames: zones[i].id]
