"""An offline Azure Key Vault emulator (``notation-devstack vault``), per spec azure-key-vault.md §2-§3.

HTTPS on loopback with a local CA, the Key Vault bearer challenge, keys / certificates / secrets, access policies
with the service's 403 texts, token endpoints for the azure-identity credentials (see
:mod:`notation_devstack.vault.identity` for the environment variables of each), persistence to a state directory.

Python API::

    from notation_devstack.vault import VaultServer
    with VaultServer(tmp_path) as vault:
        client = CertificateClient(vault.url, vault.credential(), verify_challenge_resource=False,
                                   connection_verify=str(vault.ca_cert_path))
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
