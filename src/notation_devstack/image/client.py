"""A minimal OCI distribution client for pushing and pulling whole images.

The devstack must not depend on notation's internals (it stands in for Azure Container Registry's build service,
which is not part of notation), so it carries this small client: basic and bearer auth, TLS from the environment's
CA bundle, blobs by monolithic upload, every pulled byte checked against its digest.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

import requests

MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MAX_PULL = 512 * 1024 * 1024


class PushError(Exception):
    """The registry refused or failed a request; the message says which and why (never a credential)."""


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        m = re.fullmatch(
            r"([^/]+)/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
            r"(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?",
            text,
        )
        if not m:
            raise PushError(f"invalid image reference {text!r}: expected REGISTRY/REPOSITORY[:TAG]")
        return cls(m.group(1), m.group(2), m.group(4) or m.group(3) or "latest")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class RegistryClient:
    def __init__(self, registry: str, username: str | None = None, password: str | None = None, insecure: bool = False):
        self.registry = registry
        host = registry.split(":")[0]
        plain = insecure or (host == "localhost" and ":" in registry)
        self.base = f"{'http' if plain else 'https'}://{registry}"
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "notation-devstack"
        self.auth: tuple[str, str] | None = (username, password or "") if username else None
        self._token: str | None = None
        self._basic = False
        """Set once the registry asked for Basic: later requests send it up front (bodies are not re-sent)."""

    def _request(self, method: str, path: str, scope: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        headers = dict(kwargs.pop("headers", {}) or {})
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            if self._basic and self.auth:
                kwargs["auth"] = self.auth
            resp = self.session.request(method, url, headers=headers, timeout=60, **kwargs)
            if resp.status_code == 401 and not headers.get("Authorization", "").startswith("Basic"):
                challenge = resp.headers.get("WWW-Authenticate", "")
                if challenge.lower().startswith("basic"):
                    if not self.auth:
                        raise PushError(f"{self.registry}: authentication required (give --username/--password)")
                    self._basic = True
                    kwargs["auth"] = self.auth
                    resp = self.session.request(method, url, headers=headers, timeout=60, **kwargs)
                elif challenge.lower().startswith("bearer"):
                    self._token = self._fetch_token(challenge, scope)
                    headers["Authorization"] = f"Bearer {self._token}"
                    resp = self.session.request(method, url, headers=headers, timeout=60, **kwargs)
        except requests.RequestException as exc:
            raise PushError(f"{self.registry}: {type(exc).__name__}: cannot reach the registry") from exc
        if resp.status_code in (401, 403):
            raise PushError(f"{self.registry}: access denied ({resp.status_code}) for {method} {path}")
        return resp

    def _fetch_token(self, challenge: str, scope: str) -> str:
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", "")
        if not realm:
            raise PushError(f"{self.registry}: bearer challenge without realm")
        query = {"service": params.get("service", ""), "scope": scope}
        resp = self.session.get(realm, params=query, auth=self.auth, timeout=60)
        if resp.status_code != 200:
            raise PushError(f"{self.registry}: token request refused ({resp.status_code})")
        body = resp.json()
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str):
            raise PushError(f"{self.registry}: token response without a token")
        return token

    # --- push ---
    def push_blob(self, repository: str, data: bytes) -> str:
        digest = _digest(data)
        scope = f"repository:{repository}:pull,push"
        if self._request("HEAD", f"/v2/{repository}/blobs/{digest}", scope).status_code == 200:
            return digest
        resp = self._request("POST", f"/v2/{repository}/blobs/uploads/", scope)
        if resp.status_code != 202 or "Location" not in resp.headers:
            raise PushError(f"{self.registry}: cannot start upload of {digest} ({resp.status_code})")
        location = resp.headers["Location"]
        if location.startswith("/"):
            location = self.base + location
        sep = "&" if "?" in location else "?"
        resp = self._request(
            "PUT",
            f"{location}{sep}digest={digest}",
            scope,
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if resp.status_code != 201:
            raise PushError(f"{self.registry}: upload of {digest} failed ({resp.status_code})")
        return digest

    def push_manifest(self, repository: str, reference: str, media_type: str, data: bytes) -> str:
        scope = f"repository:{repository}:pull,push"
        resp = self._request(
            "PUT", f"/v2/{repository}/manifests/{reference}", scope, data=data, headers={"Content-Type": media_type}
        )
        if resp.status_code != 201:
            raise PushError(f"{self.registry}: manifest push to {repository}:{reference} failed ({resp.status_code})")
        return _digest(data)

    # --- pull ---
    def get_manifest(self, repository: str, reference: str) -> tuple[str, bytes]:
        scope = f"repository:{repository}:pull"
        resp = self._request(
            "GET", f"/v2/{repository}/manifests/{reference}", scope, headers={"Accept": ", ".join(MANIFEST_TYPES)}
        )
        if resp.status_code != 200:
            raise PushError(f"{self.registry}: {repository}:{reference} not found ({resp.status_code})")
        data = resp.content
        if reference.startswith("sha256:") and _digest(data) != reference:
            raise PushError(f"{self.registry}: manifest {reference} does not match its digest")
        return resp.headers.get("Content-Type", "").split(";")[0], data

    def get_blob(self, repository: str, digest: str) -> bytes:
        resp = self._request("GET", f"/v2/{repository}/blobs/{digest}", f"repository:{repository}:pull", stream=True)
        if resp.status_code != 200:
            raise PushError(f"{self.registry}: blob {digest} not found ({resp.status_code})")
        chunks, total = [], 0
        for chunk in resp.iter_content(1 << 20):
            total += len(chunk)
            if total > MAX_PULL:
                raise PushError(f"{self.registry}: blob {digest} is larger than {MAX_PULL} bytes")
            chunks.append(chunk)
        data = b"".join(chunks)
        if _digest(data) != digest:
            raise PushError(f"{self.registry}: blob {digest} does not match its digest")
        return data


def credentials_from_env() -> tuple[str | None, str | None]:
    """The devstack env file exports these; the notation ones work too."""
    user = os.environ.get("DEVSTACK_REGISTRY_USERNAME") or os.environ.get("NOTATION_USERNAME")
    password = os.environ.get("DEVSTACK_REGISTRY_PASSWORD") or os.environ.get("NOTATION_PASSWORD")
    return user, password


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
