"""Push helpers for the registry tests: real HTTP requests with ``requests``, digests computed here."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import requests

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
NOTARY = "application/vnd.cncf.notary.signature"
EMPTY = b"{}"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": digest(data), "size": len(data), **extra}


def push_blob(s: requests.Session, url: str, repo: str, data: bytes) -> dict[str, Any]:
    r = s.post(f"{url}/v2/{repo}/blobs/uploads/", params={"digest": digest(data)}, data=data)
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest(data)
    return descriptor("application/octet-stream", data)


def push_manifest(s: requests.Session, url: str, repo: str, body: bytes, ref: str | None = None,
                  media_type: str = OCI_MANIFEST) -> requests.Response:
    r = s.put(f"{url}/v2/{repo}/manifests/{ref or digest(body)}", data=body, headers={"Content-Type": media_type})
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest(body)
    return r


def image(s: requests.Session, url: str, repo: str, payload: bytes = b"layer", tag: str | None = "v1",
          ) -> tuple[bytes, dict[str, Any]]:
    """Push a small image (config + one layer); return (manifest bytes, its descriptor)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    cfg = config.encode()
    push_blob(s, url, repo, cfg)
    push_blob(s, url, repo, payload)
    body = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, cfg),
        "layers": [descriptor(OCI_LAYER, payload)],
    }).encode()
    push_manifest(s, url, repo, body, tag)
    return body, descriptor(OCI_MANIFEST, body)


def signature(s: requests.Session, url: str, repo: str, subject: dict[str, Any], envelope: bytes,
              form_b: bool = False, annotations: dict[str, str] | None = None) -> tuple[bytes, requests.Response]:
    """Push a Notary-style signature manifest (Form A by default) referring to ``subject``."""
    push_blob(s, url, repo, envelope)
    push_blob(s, url, repo, EMPTY)
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.empty.v1+json" if form_b else NOTARY, EMPTY),
        "layers": [descriptor("application/jose+json", envelope)],
        "subject": subject,
        "annotations": annotations or {"org.opencontainers.image.created": "2026-11-28T10:26:04Z"},
    }
    if form_b:
        manifest["artifactType"] = NOTARY
    body = json.dumps(manifest).encode()
    return body, push_manifest(s, url, repo, body)
