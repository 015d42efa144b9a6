"""A ``TokenCredential`` that mints the emulator's tokens in-process, for tests that are not about credentials."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notation_devstack.vault.server import VaultServer


class StaticEmulatorCredential:
    """Implements azure-core's ``get_token`` / ``get_token_info`` protocol for one principal."""

    def __init__(self, server: VaultServer, object_id: str | None, app_id: str | None) -> None:
        self._server = server
        self._object_id = object_id
        self._app_id = app_id

    def get_token(self, *scopes: str, **_kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        token = self._server.token(self._object_id, app_id=self._app_id)
        return AccessToken(token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        token = self._server.token(self._object_id, app_id=self._app_id)
        return AccessTokenInfo(token, int(time.time()) + 3600)

    def close(self) -> None:
        return None

    def __enter__(self) -> StaticEmulatorCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        return None
