"""A small client for a running emulator, used by the ``notation-devstack vault`` az-like commands.

It finds the server through its state directory (``server.json`` written by ``serve``, the admin token, the CA),
gets a token for the signed-in (default) principal from the admin API, and calls the data plane directly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from notation_devstack.vault.errors import VaultError
from notation_devstack.vault.store import read_json

STATE_ENV = "DEVSTACK_VAULT_STATE_DIR"
API_VERSION = "7.5"
TIMEOUT = 30.0


def resolve_state_dir(value: str | None) -> Path:
    raw = value or os.environ.get(STATE_ENV)
    if not raw:
        raise VaultError(f"no emulator state directory: pass --state-dir or set {STATE_ENV}")
    return Path(raw)


class EmulatorClient:
    def __init__(self, state_dir: Path) -> None:
        info_path = state_dir / "server.json"
        if not info_path.exists():
            raise VaultError(f"no running emulator found in {state_dir} (start it with: notation-devstack vault serve)")
        self.info: dict[str, Any] = read_json(info_path)
        self.url = str(self.info["url"])
        self.ca = str(self.info["caCert"])
        self.admin_token = (state_dir / "identity" / "admin-token").read_text().strip()
        self._token: str | None = None

    def _request(
        self, method: str, url: str, *, token: str, body: Any = None, host: str | None = None
    ) -> tuple[int, Any]:
        import requests

        headers = {"Authorization": f"Bearer {token}"}
        if host:
            headers["Host"] = host
        try:
            resp = requests.request(
                method, url, json=body, headers=headers, verify=self.ca, timeout=TIMEOUT, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise VaultError(f"cannot reach the emulator at {self.url}: {exc}") from exc
        if len(resp.content) > 16 * 1024 * 1024:
            raise VaultError("the emulator answered with an oversized response")
        try:
            data = resp.json() if resp.content else None
        except ValueError as exc:
            raise VaultError(f"the emulator answered {resp.status_code} with a non-JSON body") from exc
        return resp.status_code, data

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self._request(method, f"{self.url}/_emulator/{path}", token=self.admin_token, body=body)
        if status >= 400:
            raise VaultError(_error_text(status, data))
        return data

    def _user_token(self) -> str:
        if self._token is None:
            self._token = str(self.admin("POST", "tokens", {})["accessToken"])
        return self._token

    def vault_host(self, vault: str) -> str | None:
        """None for the default vault (plain URL); ``<vault>.localhost:<port>`` for any other."""
        if vault.lower() == str(self.info["defaultVault"]).lower():
            return None
        port = self.url.rsplit(":", 1)[1]
        return f"{vault}.localhost:{port}"

    def data(self, method: str, vault: str, path: str, body: Any = None) -> Any:
        sep = "&" if "?" in path else "?"
        status, data = self._request(
            method,
            f"{self.url}/{path}{sep}api-version={API_VERSION}",
            token=self._user_token(),
            body=body,
            host=self.vault_host(vault),
        )
        if status >= 400:
            raise VaultError(_error_text(status, data))
        return data


def _error_text(status: int, data: Any) -> str:
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        return f"({err.get('code')}) {err.get('message')}"
    return f"the emulator answered HTTP {status}: {json.dumps(data)[:200]}"
