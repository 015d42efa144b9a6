"""Trust store certificates straight from Azure Key Vault (``--akv-certificate STORE_TYPE:STORE_NAME=URL``).

The tutorial's signing certificate lives in Key Vault; Ratify's key management provider trusts it from there, so
does this: each URL (``https://<vault>/certificates/<name>[/<version>]``) is read with the official SDK through
azure-identity's ``DefaultAzureCredential`` (workload identity on AKS) and becomes
``truststore/x509/<type>/<store>/<name>.pem`` in the trust snapshot, beside the mounted files. Refreshed every
``--akv-refresh-interval`` seconds (a new certificate version is a trust material change like any other); a failed
refresh keeps the last good certificates and shows in ``/readyz``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from notation_admission.trust import TrustMaterialError

STORE_TYPES = ("ca", "signingAuthority", "tsa")
_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")
RETRY_AFTER_FAILURE = 30.0


@dataclass(frozen=True)
class AkvCertificate:
    store_type: str
    store_name: str
    vault_url: str
    name: str
    version: str | None

    @property
    def path(self) -> str:
        return f"truststore/x509/{self.store_type}/{self.store_name}/{self.name}.pem"


def parse_spec(spec: str) -> AkvCertificate:
    """``ca:wabbit-networks.io=https://myvault.vault.azure.net/certificates/wabbit-networks-io[/version]``."""
    store, sep, url = spec.partition("=")
    store_type, sep2, store_name = store.partition(":")
    if not sep or not sep2:
        raise ValueError(f"--akv-certificate {spec!r}: expected STORE_TYPE:STORE_NAME=CERTIFICATE_URL")
    if store_type not in STORE_TYPES:
        raise ValueError(f"--akv-certificate {spec!r}: store type must be one of {', '.join(STORE_TYPES)}")
    if not _NAME.match(store_name):
        raise ValueError(f"--akv-certificate {spec!r}: store name needs to follow [a-zA-Z0-9_.-]+ format")
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.scheme != "https" or not parts.netloc or len(segments) not in (2, 3) or segments[0] != "certificates":
        raise ValueError(f"--akv-certificate {spec!r}: expected https://<vault>/certificates/<name>[/<version>]")
    if not all(_NAME.match(s) for s in segments[1:]):
        raise ValueError(f"--akv-certificate {spec!r}: invalid certificate name or version")
    version = segments[2] if len(segments) == 3 else None
    return AkvCertificate(store_type, store_name, f"https://{parts.netloc}", segments[1], version)


class AkvSource:
    """The certificates as trust files; fetched at most every ``refresh_interval`` seconds."""

    def __init__(self, certificates: Sequence[AkvCertificate], refresh_interval: float = 300.0) -> None:
        self.certificates = list(certificates)
        self.refresh_interval = refresh_interval
        self._files: dict[str, bytes] | None = None
        self._next = 0.0
        self._error: str | None = None
        self._credential: Any = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def files(self) -> dict[str, bytes]:
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                if self._error is not None:
                    raise TrustMaterialError(self._error)
                return dict(self._files or {})
            try:
                files = {c.path: self._fetch(c) for c in self.certificates}
            except TrustMaterialError as exc:
                self._error = str(exc)
                self._next = now + min(self.refresh_interval, RETRY_AFTER_FAILURE)
                raise
            self._files, self._error = files, None
            self._next = now + self.refresh_interval
            return dict(files)

    def _client(self, vault_url: str) -> Any:
        client = self._clients.get(vault_url)
        if client is None:
            from azure.identity import DefaultAzureCredential
            from azure.keyvault.certificates import CertificateClient

            if self._credential is None:
                self._credential = DefaultAzureCredential()
            client = self._clients[vault_url] = CertificateClient(vault_url, self._credential)
        return client

    def _fetch(self, c: AkvCertificate) -> bytes:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        where = f"{c.vault_url}/certificates/{c.name}" + (f"/{c.version}" if c.version else "")
        try:
            client = self._client(c.vault_url)
            cert = client.get_certificate_version(c.name, c.version) if c.version else client.get_certificate(c.name)
            der = bytes(cert.cer or b"")
            return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        except Exception as exc:  # SDK, credential and parse errors alike: keep the last good material
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            raise TrustMaterialError(f"Key Vault certificate {where}: {' '.join(str(message).split())}") from exc

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        if self._credential is not None:
            self._credential.close()
