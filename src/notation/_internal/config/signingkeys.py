"""``{CONFIG}/signingkeys.json`` (CLI-21): the named signing keys and the default one.

Validated on load and before save with Go's messages; saved atomically, 0600, 4-space JSON and a newline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from notation._internal.config import dirs
from notation._internal.config.fileio import atomic_write, go_json, read_regular_file
from notation._internal.records import dataclass, field, replace
from notation.errors import ConfigError, KeyError_

DEFAULT_KEY_NOT_SET = "default signing key not set. Please set default signing key or specify a key name"


@dataclass(frozen=True)
class KeySuite:
    """One named key: a local pair (key_path, cert_path) or an external key (id, plugin_name, plugin_config)."""

    name: str
    key_path: str = ""
    cert_path: str = ""
    id: str = ""
    plugin_name: str = ""
    plugin_config: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        return bool(self.key_path or self.cert_path)

    @property
    def is_external(self) -> bool:
        return bool(self.id or self.plugin_name)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.key_path:
            out["keyPath"] = self.key_path
        if self.cert_path:
            out["certPath"] = self.cert_path
        if self.id:
            out["id"] = self.id
        if self.plugin_name:
            out["pluginName"] = self.plugin_name
        if self.plugin_config:
            out["pluginConfig"] = dict(sorted(self.plugin_config.items()))
        return out

    @classmethod
    def from_json(cls, obj: Any) -> KeySuite:
        if not isinstance(obj, dict):
            raise ConfigError("malformed signingkeys.json: a key entry is not a JSON object")
        strings = {}
        for member in ("name", "keyPath", "certPath", "id", "pluginName"):
            value = obj.get(member)
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise ConfigError(f"malformed signingkeys.json: {member} must be a string")
            strings[member] = value
        config = obj.get("pluginConfig") or {}
        if not isinstance(config, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in config.items()
        ):
            raise ConfigError("malformed signingkeys.json: pluginConfig must map strings to strings")
        return cls(
            name=strings["name"],
            key_path=strings["keyPath"],
            cert_path=strings["certPath"],
            id=strings["id"],
            plugin_name=strings["pluginName"],
            plugin_config=dict(config),
        )


@dataclass(frozen=True)
class SigningKeys:
    """The whole signingkeys.json document; methods return new documents (save explicitly)."""

    default: str | None = None
    keys: tuple[KeySuite, ...] = ()

    def validate(self) -> None:
        seen: set[str] = set()
        for key in self.keys:
            if not key.name:
                raise ConfigError("malformed signingkeys.json: key name cannot be empty")
            if key.name in seen:
                raise ConfigError(f"malformed signingkeys.json: multiple keys with name '{key.name}' found")
            seen.add(key.name)
        if self.default is not None:
            if not self.default:
                raise ConfigError("malformed signingkeys.json: default key name cannot be empty")
            if self.default not in seen:
                raise ConfigError(f"malformed signingkeys.json: default key '{self.default}' not found")

    def get(self, name: str) -> KeySuite:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError_(f"signing key {name} not found")

    def resolve(self, name: str = "") -> KeySuite:
        """The key named ``name``, or the default key when ``name`` is empty (CLI-42)."""
        if not name:
            if not self.default:
                raise KeyError_(DEFAULT_KEY_NOT_SET)
            name = self.default
        return self.get(name)

    def add(self, key: KeySuite, *, mark_default: bool = False) -> SigningKeys:
        if not key.name:
            raise ConfigError("malformed signingkeys.json: key name cannot be empty")
        if any(k.name == key.name for k in self.keys):
            raise KeyError_(f'signing key with name "{key.name}" already exists')
        return replace(self, keys=(*self.keys, key), default=key.name if mark_default else self.default)

    def set_default(self, name: str) -> SigningKeys:
        self.get(name)
        return replace(self, default=name)

    def remove(self, names: list[str]) -> tuple[SigningKeys, list[tuple[str, bool]]]:
        """Remove ``names`` in order; the first unknown one aborts. Returns (doc, [(name, was_default)])."""
        doc = self
        removed: list[tuple[str, bool]] = []
        for name in names:
            doc.get(name)
            was_default = doc.default == name
            doc = replace(
                doc,
                keys=tuple(k for k in doc.keys if k.name != name),
                default=None if was_default else doc.default,
            )
            removed.append((name, was_default))
        return doc, removed

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.default:
            out["default"] = self.default
        out["keys"] = [k.to_json() for k in self.keys]
        return out


def _path(config_dir: Path | None) -> Path:
    return (config_dir or dirs.config_dir()) / dirs.SIGNING_KEYS_FILE


def load_signing_keys(config_dir: Path | None = None) -> SigningKeys:
    """Load and validate signingkeys.json; a missing file is an empty document."""
    data = read_regular_file(_path(config_dir))
    if data is None:
        return SigningKeys()
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"malformed signingkeys.json: {exc}") from exc
    if not isinstance(obj, dict):
        raise ConfigError("malformed signingkeys.json: not a JSON object")
    default = obj.get("default")
    if default is not None and not isinstance(default, str):
        raise ConfigError("malformed signingkeys.json: default must be a string")
    keys = obj.get("keys") or []
    if not isinstance(keys, list):
        raise ConfigError("malformed signingkeys.json: keys must be a list")
    doc = SigningKeys(default=default, keys=tuple(KeySuite.from_json(k) for k in keys))
    doc.validate()
    return doc


def save_signing_keys(doc: SigningKeys, config_dir: Path | None = None) -> None:
    doc.validate()
    atomic_write(_path(config_dir), go_json(doc.to_json()).encode())
