"""The plugin side of the Notation plugin protocol, as the published azure-kv plugin speaks it (AZKV-10).

One JSON request on stdin, one JSON answer on stdout (newline-terminated, relaxed escaping), or an error object
``{"errorCode", "errorMessage"}`` on stderr with exit code 1. Kept free of Azure imports so that
``get-plugin-metadata`` answers fast.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

NAME = "azure-kv"
DESCRIPTION = "Notation Azure Key Vault plugin"
VERSION = "1.2.1"
URL = "https://github.com/Azure/notation-azure-kv"
CONTRACT_VERSION = "1.0"
CAPABILITY_RAW = "SIGNATURE_GENERATOR.RAW"

VALIDATION_ERROR = "VALIDATION_ERROR"
UNSUPPORTED_CONTRACT_VERSION = "UNSUPPORTED_CONTRACT_VERSION"
ACCESS_DENIED = "ACCESS_DENIED"
TIMEOUT = "TIMEOUT"
THROTTLED = "THROTTLED"
ERROR = "ERROR"

MAX_REQUEST_BYTES = 64 * 1024 * 1024
"""A request larger than this is refused (notation never sends one: payloads are a few KiB)."""


class PluginFailure(Exception):
    """Reported to notation as ``{"errorCode": code, "errorMessage": message}`` (plus optional metadata)."""

    def __init__(self, code: str, message: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.metadata = dict(metadata or {})


def metadata() -> dict[str, Any]:
    """AZKV-01: members in the published plugin's order."""
    return {
        "name": NAME,
        "description": DESCRIPTION,
        "version": VERSION,
        "url": URL,
        "supportedContractVersions": [CONTRACT_VERSION],
        "capabilities": [CAPABILITY_RAW],
    }


def read_request(stream: IO[bytes]) -> dict[str, Any]:
    data = stream.read(MAX_REQUEST_BYTES + 1)
    if len(data) > MAX_REQUEST_BYTES:
        raise PluginFailure(VALIDATION_ERROR, "Standard input is too large")
    if not data.strip():
        raise PluginFailure(VALIDATION_ERROR, "Standard input is empty")
    try:
        request = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        request = None
    if not isinstance(request, dict):
        raise PluginFailure(
            VALIDATION_ERROR,
            "Failed to parse the request in JSON format. Please contact Notation maintainers to resolve the issue.",
        )
    return request


def check_contract(request: Mapping[str, Any]) -> None:
    version = request.get("contractVersion")
    if version != CONTRACT_VERSION:
        raise PluginFailure(UNSUPPORTED_CONTRACT_VERSION, f"Unsupported contract version: {version or ''}")


def required_string(request: Mapping[str, Any], member: str, dotnet_name: str) -> str:
    """Missing required members, with the .NET wording but the spec's code (§1.2)."""
    value = request.get(member)
    if not isinstance(value, str) or not value:
        raise PluginFailure(VALIDATION_ERROR, f"{dotnet_name} must not be null or empty")
    return value


def plugin_config(request: Mapping[str, Any]) -> dict[str, str]:
    config = request.get("pluginConfig") or {}
    if not isinstance(config, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in config.items()):
        raise PluginFailure(VALIDATION_ERROR, "pluginConfig must map strings to strings")
    return dict(config)


def dumps(obj: Mapping[str, Any]) -> str:
    """Compact JSON without ``\\u`` escapes for non-ASCII, ``+`` or ``<`` (relaxed escaping, §1.2)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def error_json(failure: PluginFailure) -> str:
    body: dict[str, Any] = {"errorCode": failure.code, "errorMessage": failure.message}
    if failure.metadata:
        body["errorMetadata"] = failure.metadata
    return dumps(body)
