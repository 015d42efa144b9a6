"""An Azure Resource Manager stand-in: subscriptions, tenants, resource groups, ``Microsoft.KeyVault/vaults``
(through an adapter over the Key Vault emulator), ``Microsoft.ContainerRegistry/registries`` (the devstack registry
and its ACR Tasks quick builds) and ``Microsoft.Authorization`` role definitions and assignments."""
