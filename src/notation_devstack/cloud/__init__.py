"""The Azure control plane, offline: cloud metadata, the host that serves Entra ID, Resource Manager and Graph
stand-ins on one loopback TLS port, the devstack-owned ``az`` configuration, and a loopback-only CONNECT proxy
that gives ``<vault>.localhost`` names (built by ``az keyvault ... --vault-name``) their RFC 6761 meaning."""
