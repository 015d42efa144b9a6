"""Helpers for the notation-py extension tests: a tiny JSON Schema validator, policies, multi-platform images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from notation._internal.cli.main import main
from notation._internal.oci.descriptor import Descriptor
from registry_support import IMAGE_MANIFEST, push_image
from registry_support.server import RegistryServer

DOCS = Path(__file__).resolve().parents[2] / "docs"
INDEX = "application/vnd.oci.image.index.v1+json"
PLATFORMS = ("linux/amd64", "linux/arm64/v8", "windows/amd64")

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "boolean": bool,
    "null": type(None),
}


def validate(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None, where: str = "$") -> None:
    """The subset of JSON Schema the docs use: type (list too), enum, required, properties, additionalProperties
    (false or a schema), items, minItems/maxItems, minimum, $ref into $defs. Raises AssertionError with the path."""
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        validate(instance, root["$defs"][name], root, where)
        return
    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        ok = any(
            isinstance(instance, _TYPES[t]) and not (t == "integer" and isinstance(instance, bool)) for t in allowed
        )
        assert ok, f"{where}: {instance!r} is not of type {allowed}"
    if "enum" in schema:
        assert instance in schema["enum"], f"{where}: {instance!r} not in {schema['enum']}"
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            assert key in instance, f"{where}: missing {key}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key in props:
                validate(value, props[key], root, f"{where}.{key}")
            elif extra is False:
                raise AssertionError(f"{where}: unexpected property {key}")
            elif isinstance(extra, dict):
                validate(value, extra, root, f"{where}.{key}")
    if isinstance(instance, list):
        assert len(instance) >= schema.get("minItems", 0), f"{where}: too few items"
        assert len(instance) <= schema.get("maxItems", len(instance)), f"{where}: too many items"
        for i, item in enumerate(instance):
            if "items" in schema:
                validate(item, schema["items"], root, f"{where}[{i}]")
    if isinstance(instance, int) and "minimum" in schema:
        assert instance >= schema["minimum"], f"{where}: below minimum"


def schema(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DOCS / name).read_text())
    return doc


def setup_trust(tmp_path: Path, scope: str = "*", name: str = "reg") -> None:
    """A default test key (``cert generate-test``) and a strict policy trusting it for ``scope``."""
    assert main(["cert", "generate-test", "--default", "test"]) == 0
    import_policy(tmp_path, scope, name)


def import_policy(tmp_path: Path, scope: str = "*", name: str = "reg", level: str = "strict") -> None:
    policy = {
        "version": "1.0",
        "trustPolicies": [
            {
                "name": name,
                "registryScopes": [scope],
                "signatureVerification": {"level": level},
                "trustStores": ["ca:test"],
                "trustedIdentities": ["*"],
            }
        ],
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    assert main(["policy", "import", "--force", str(path)]) == 0


def push_index(
    server: RegistryServer, name: str = "app", tag: str = "multi", salt: str = ""
) -> tuple[Descriptor, list[Descriptor]]:
    """Three platform images and an OCI image index listing them (with platforms), tagged ``tag``."""
    children = [
        push_image(server, name, tag=f"{tag}-{i}", layer=f"layer {p}{salt}".encode()) for i, p in enumerate(PLATFORMS)
    ]
    entries = []
    for desc, platform in zip(children, PLATFORMS, strict=True):
        os_name, arch, *variant = platform.split("/")
        plat: dict[str, str] = {"os": os_name, "architecture": arch}
        if variant:
            plat["variant"] = variant[0]
        entries.append({"mediaType": IMAGE_MANIFEST, "digest": desc.digest, "size": desc.size, "platform": plat})
    body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}).encode()
    digest = server.put_manifest(name, body, INDEX, tag)
    return Descriptor(INDEX, digest, len(body)), children
