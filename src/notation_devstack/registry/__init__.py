"""Our own OCI distribution v1.1 registry (``notation-devstack registry serve``): filesystem storage, referrers
API, basic and bearer-token auth, TLS. The Python API is :class:`RegistryServer`.

Names are loaded on first use, so ``notation-devstack`` start-up (which imports every command group's CLI
module, and so this package) does not pay for the HTTP server and ssl imports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notation_devstack.registry.auth import hash_password as hash_password
    from notation_devstack.registry.auth import write_htpasswd as write_htpasswd
    from notation_devstack.registry.server import RegistryServer as RegistryServer
    from notation_devstack.registry.storage import Storage as Storage
    from notation_devstack.registry.tlsgen import TLSFiles as TLSFiles
    from notation_devstack.registry.tlsgen import make_tls_files as make_tls_files

_EXPORTS = {
    "RegistryServer": "server",
    "Storage": "storage",
    "hash_password": "auth",
    "write_htpasswd": "auth",
    "TLSFiles": "tlsgen",
    "make_tls_files": "tlsgen",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
