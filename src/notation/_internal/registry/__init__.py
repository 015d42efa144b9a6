"""Registries: the OCI distribution client, authentication and credentials.

Modules: ``transport`` (HTTP, timeouts, retries, bounded reads), ``auth`` (challenges and tokens), ``credentials``
(flags, config files, docker credential helpers), ``client`` (what a command shares across repositories),
``repository`` (one repository as an ArtifactStore), ``login`` (``notation login/logout``).
Importing this package is cheap: ``requests`` is only imported when a connection is made.
"""

from __future__ import annotations

from notation._internal.registry.client import RegistryClient
from notation._internal.registry.login import LoginResult, login, logout
from notation._internal.registry.repository import RegistryRepository

__all__ = ["LoginResult", "RegistryClient", "RegistryRepository", "login", "logout"]
