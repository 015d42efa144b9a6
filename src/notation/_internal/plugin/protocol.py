"""The plugin contract as data: capabilities, error codes, metadata validation and SemVer (plugins.md §3-5).

Pure: no processes, no I/O. Both the host (``process``, ``manager``, ``signer``, ``verifier``) and tests use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from notation._internal.records import dataclass
from notation.errors import PluginError

CONTRACT_VERSION = "1.0"
"""PLG-01: the only contract version this host speaks."""

CAP_SIGNATURE_GENERATOR_RAW = "SIGNATURE_GENERATOR.RAW"
CAP_SIGNATURE_GENERATOR_ENVELOPE = "SIGNATURE_GENERATOR.ENVELOPE"
CAP_SIGNATURE_GENERATOR_ENVELOPE_FOR_BLOB = "SIGNATURE_GENERATOR.ENVELOPE_FOR_BLOB"
CAP_TRUSTED_IDENTITY = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY"
CAP_REVOCATION_CHECK = "SIGNATURE_VERIFIER.REVOCATION_CHECK"
VERIFIER_CAPABILITIES = (CAP_TRUSTED_IDENTITY, CAP_REVOCATION_CHECK)

CMD_GET_METADATA = "get-plugin-metadata"
CMD_DESCRIBE_KEY = "describe-key"
CMD_GENERATE_SIGNATURE = "generate-signature"
CMD_GENERATE_ENVELOPE = "generate-envelope"
CMD_VERIFY_SIGNATURE = "verify-signature"

ERROR_CODES = ("VALIDATION_ERROR", "UNSUPPORTED_CONTRACT_VERSION", "ACCESS_DENIED", "TIMEOUT", "THROTTLED", "ERROR")
"""PLG-21 / §10: the codes of the spec (plugins such as azure-kv may pass others through; we keep them)."""

MAX_OUTPUT_BYTES = 64 * 1024 * 1024
"""PLG-22: cap on each of stdout and stderr."""

_SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class PluginCommandError(PluginError):
    """The plugin answered a command with its error object (PLG-21); the message is its ``errorMessage``."""

    def __init__(self, message: str, code: str = "ERROR", metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.metadata = dict(metadata or {})


class PluginExecutableError(PluginError):
    """The executable could not be run or died without an error object (Go's PluginExecutableFileError)."""

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno


class PluginMalformedError(PluginError):
    """The plugin answered with output that breaks the contract (Go's PluginMalformedError)."""


def is_semver(version: str) -> bool:
    """PLG-33: SemVer 2.0 without a ``v`` prefix."""
    return bool(_SEMVER_RE.match(version))


def compare_semver(a: str, b: str) -> int:
    """SemVer precedence of ``a`` against ``b`` (-1, 0, 1); build metadata is ignored (SemVer §10-11).

    Raises PluginError with Go's text when either side is not SemVer (PLG-86).
    """
    ma, mb = _SEMVER_RE.match(a), _SEMVER_RE.match(b)
    if ma is None:
        raise PluginError(f"{a} is not a valid semantic version")
    if mb is None:
        raise PluginError(f"{b} is not a valid semantic version")
    core_a = tuple(int(x) for x in ma.group(1, 2, 3))
    core_b = tuple(int(x) for x in mb.group(1, 2, 3))
    if core_a != core_b:
        return -1 if core_a < core_b else 1
    pre_a, pre_b = ma.group(4), mb.group(4)
    if pre_a == pre_b:
        return 0
    if pre_a is None:
        return 1
    if pre_b is None:
        return -1
    for x, y in zip(pre_a.split("."), pre_b.split("."), strict=False):
        if x == y:
            continue
        xd, yd = x.isdigit(), y.isdigit()
        if xd and yd:
            return -1 if int(x) < int(y) else 1
        if xd != yd:
            return -1 if xd else 1  # numeric identifiers have lower precedence
        return -1 if x < y else 1
    na, nb = len(pre_a.split(".")), len(pre_b.split("."))
    return 0 if na == nb else (-1 if na < nb else 1)


@dataclass(frozen=True)
class PluginMetadata:
    """A validated ``get-plugin-metadata`` response (PLG-32)."""

    name: str
    description: str
    version: str
    url: str
    supported_contract_versions: tuple[str, ...]
    capabilities: tuple[str, ...]

    def has(self, capability: str) -> bool:
        return capability in self.capabilities

    @property
    def verifier_capabilities(self) -> tuple[str, ...]:
        """The SIGNATURE_VERIFIER.* capabilities, in the plugin's order (PLG-63)."""
        return tuple(c for c in self.capabilities if c in VERIFIER_CAPABILITIES)


def _string(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def _strings(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{key} is not a list of strings")
    return tuple(value)


def parse_metadata(plugin_name: str, response: Mapping[str, Any]) -> PluginMetadata:
    """Turn a decoded response into PluginMetadata, checking every member in Go's order (PLG-32)."""
    try:
        meta = PluginMetadata(
            name=_string(response, "name"),
            description=_string(response, "description"),
            version=_string(response, "version"),
            url=_string(response, "url"),
            supported_contract_versions=_strings(response, "supportedContractVersions"),
            capabilities=_strings(response, "capabilities"),
        )
    except TypeError as exc:
        raise PluginMalformedError(
            f"failed to unmarshal the response of {CMD_GET_METADATA} command for plugin {plugin_name}: {exc}"
        ) from exc
    reason = None
    if not meta.name:
        reason = "empty name"
    elif not meta.description:
        reason = "empty description"
    elif not meta.version:
        reason = "empty version"
    elif not meta.url:
        reason = "empty url"
    elif not meta.capabilities:
        reason = "empty capabilities"
    elif not meta.supported_contract_versions:
        reason = "supported contract versions not specified"
    elif CONTRACT_VERSION not in meta.supported_contract_versions:
        listed = " ".join(meta.supported_contract_versions)
        reason = f'contract version "{CONTRACT_VERSION}" is not in the list of the plugin supported versions [{listed}]'
    if reason is not None:
        raise PluginMalformedError(f"metadata validation failed for plugin {plugin_name}: {reason}")
    if meta.name != plugin_name:
        raise PluginMalformedError(
            f'plugin executable file name must be "notation-{meta.name}" instead of "notation-{plugin_name}"'
        )
    return meta


def go_quote_list(items: Sequence[str]) -> str:
    """Go's ``%+q`` of a []string: ``["a" "b"]``."""
    import json

    return "[" + " ".join(json.dumps(i) for i in items) + "]"
