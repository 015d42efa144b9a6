"""An offline Azure Key Vault emulator (``notation-devstack vault``), per spec azure-key-vault.md §2-§3.

HTTPS on loopback with a local CA, the Key Vault bearer challenge (answered so that the SDKs' default challenge
verification passes), the certificates / keys / secrets data plane, several named vaults (``<vault>.localhost``),
access policies or RBAC per vault with the service's 403 texts, token endpoints for the azure-identity credentials
(see :mod:`notation_devstack.vault.identity`), persistence to a state directory. The control plane (vaults,
policies, role assignments) is :mod:`notation_devstack.vault.registry`.

Python API::

    from notation_devstack.vault import VaultServer
    with VaultServer(tmp_path) as vault:
        client = CertificateClient(vault.url, vault.credential(), connection_verify=str(vault.ca_cert_path))
        vault.registry.create_vault("kv2", enable_rbac_authorization=True)   # https://kv2.localhost:<port>
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notation_devstack.vault.server import VaultServer

__all__ = ["VaultServer"]


def __getattr__(name: str) -> Any:
    if name == "VaultServer":
        from notation_devstack.vault.server import VaultServer

        return VaultServer
    raise AttributeError(name)
