"""``{CONFIG}/config.json`` (CLI-20): insecure registries, credential helpers, default signature format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from notation._internal.config import dirs
from notation._internal.config.fileio import read_regular_file
from notation._internal.records import dataclass, field
from notation.errors import ConfigError


@dataclass(frozen=True)
class CLIConfig:
    insecure_registries: tuple[str, ...] = ()
    creds_store: str = ""
    cred_helpers: Mapping[str, str] = field(default_factory=dict)
    signature_format: str = ""
    auths: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def is_insecure(self, registry: str) -> bool:
        return registry.lower() in (r.lower() for r in self.insecure_registries)

    @property
    def configures_auth(self) -> bool:
        """CLI-36: the file counts as a credentials configuration."""
        return bool(self.creds_store or self.cred_helpers or self.auths)


def _str_map(value: Any, member: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"malformed config.json: {member} must map strings to strings")
    return dict(value)


def load_config(config_dir: Path | None = None) -> CLIConfig:
    """Load config.json strictly; a missing file is the empty config, a malformed one raises ConfigError."""
    return load_config_file((config_dir or dirs.config_dir()) / dirs.CONFIG_FILE)


def load_config_file(path: Path) -> CLIConfig:
    """One config.json at ``path`` (notation's, Docker's, or an imagePullSecret's ``.dockerconfigjson``)."""
    data = read_regular_file(path)
    if data is None:
        return CLIConfig(path=path)
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"malformed config.json: {exc}") from exc
    if not isinstance(obj, dict):
        raise ConfigError("malformed config.json: not a JSON object")
    insecure = obj.get("insecureRegistries") or []
    if not isinstance(insecure, list) or not all(isinstance(r, str) for r in insecure):
        raise ConfigError("malformed config.json: insecureRegistries must be a list of strings")
    creds_store = obj.get("credsStore") or ""
    signature_format = obj.get("signatureFormat") or ""
    if not isinstance(creds_store, str) or not isinstance(signature_format, str):
        raise ConfigError("malformed config.json: credsStore and signatureFormat must be strings")
    auths = obj.get("auths") or {}
    if not isinstance(auths, dict):
        raise ConfigError("malformed config.json: auths must be an object")
    return CLIConfig(
        insecure_registries=tuple(insecure),
        creds_store=creds_store,
        cred_helpers=_str_map(obj.get("credHelpers"), "credHelpers"),
        signature_format=signature_format,
        auths=auths,
        path=path,
    )


def load_config_lenient(config_dir: Path | None = None) -> CLIConfig:
    """CLI-20: for signatureFormat/insecureRegistries a malformed file silently means the defaults."""
    try:
        return load_config(config_dir)
    except ConfigError:
        return CLIConfig()


def default_signature_format(config_dir: Path | None = None) -> str:
    """``signatureFormat`` lower-cased, else ``jws``."""
    return load_config_lenient(config_dir).signature_format.lower() or "jws"
