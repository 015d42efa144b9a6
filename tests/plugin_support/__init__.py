"""Helpers for plugin host tests: real test plugins written as executables into tmp dirs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

_BODY = (Path(__file__).parent / "fake_plugin.py").read_text()

CAP_RAW = "SIGNATURE_GENERATOR.RAW"
CAP_ENVELOPE = "SIGNATURE_GENERATOR.ENVELOPE"
CAP_TRUSTED_IDENTITY = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"
CAP_REVOCATION = "SIGNATURE_VERIFIER.REVOCATION_CHECK"


def metadata(
    name: str, *, version: str = "1.0.0", capabilities: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "description": f"test plugin {name}",
        "version": version,
        "url": "https://example.com/plugin",
        "supportedContractVersions": ["1.0"],
        "capabilities": capabilities if capabilities is not None else [CAP_RAW],
    }
    meta.update(extra)
    return meta


def plugin_source(config: dict[str, Any]) -> str:
    """The full text of a test plugin executable (shebang at this interpreter)."""
    body = _BODY.replace(
        "CONFIG: dict = {}  # replaced by the writer",
        f"CONFIG = {json.dumps(config)!r}\nCONFIG = __import__('json').loads(CONFIG)",
    )
    return f"#!{sys.executable}\n" + body


def write_plugin(path: Path, config: dict[str, Any], *, executable: bool = True) -> Path:
    """Write a test plugin executable at ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plugin_source(config))
    os.chmod(path, 0o755 if executable else 0o644)
    return path


def install_plugin(libexec: Path, name: str, config: dict[str, Any] | None = None, **meta_kw: Any) -> Path:
    """Put a test plugin at ``<libexec>/plugins/<name>/notation-<name>``."""
    config = dict(config or {})
    config.setdefault("metadata", metadata(name, **meta_kw))
    return write_plugin(libexec / "plugins" / name / f"notation-{name}", config)


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
