"""Key identifiers (``--id`` of ``notation sign``): Key Vault key or certificate URIs (AZKV-03, -04, -11)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from notation_azure_kv.protocol import ERROR, VALIDATION_ERROR, PluginFailure

_FORMAT_HINT = (
    'Invalid input passed to "--id". Please follow this format to input the ID '
    '"https://<vault-name>.vault.azure.net/certificates/<certificate-name>/[certificate-version]"'
)


@dataclass(frozen=True)
class KeyId:
    vault_url: str
    """``scheme://host[:port]``: the port is kept (AZKV-04; the .NET plugin drops it)."""
    name: str
    version: str | None

    @property
    def key_url(self) -> str:
        """The key id used for signing: ``<vault>/keys/<name>[/<version>]``."""
        return f"{self.vault_url}/keys/{self.name}" + (f"/{self.version}" if self.version else "")


def parse_key_id(raw: str) -> KeyId:
    """Parse as plugin v1.2.x does, checks and messages in its order."""
    text = raw.rstrip("/")
    if not text:
        raise PluginFailure(VALIDATION_ERROR, 'Input passed to "--id" must not be empty')
    try:
        parts = urlsplit(text)
        host = parts.hostname
        port = parts.port
    except ValueError as exc:
        raise PluginFailure(ERROR, f"Invalid URI: {exc}") from None
    if not parts.scheme or not host:
        raise PluginFailure(ERROR, "Invalid URI: The format of the URI could not be determined.")
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) not in (2, 3):
        raise PluginFailure(VALIDATION_ERROR, _FORMAT_HINT)
    if segments[0] not in ("keys", "certificates"):
        raise PluginFailure(VALIDATION_ERROR, f"Unsupported key vualt object type {segments[0]}.")  # [sic]
    if parts.scheme.lower() != "https":
        raise PluginFailure(VALIDATION_ERROR, f"Unsupported scheme {parts.scheme}. The scheme must be https.")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    return KeyId(f"https://{netloc}", segments[1], segments[2] if len(segments) == 3 else None)
