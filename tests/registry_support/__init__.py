"""In-test OCI registry for the registry client tests (see server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.reference import parse_reference
from notation._internal.registry.client import RegistryClient
from notation._internal.registry.repository import RegistryRepository
from notation._internal.registry.transport import TransportOptions
from registry_support.server import RegistryServer, State, digest_of

IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
FAST = TransportOptions(connect_timeout=2.0, read_timeout=2.0, body_deadline=2.0, retries=2, backoff=0.01)


@contextmanager
def running(state: State | None = None, **kwargs: object) -> Iterator[RegistryServer]:
    server = RegistryServer(state or State(), **kwargs).start()  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


def push_image(server: RegistryServer, name: str = "app", tag: str = "v1", layer: bytes = b"layer") -> Descriptor:
    """Seed a small image (config, one layer, manifest) and return the manifest descriptor."""
    config = b'{"architecture":"amd64","os":"linux"}'
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": IMAGE_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": server.put_blob(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": server.put_blob(layer),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    digest = server.put_manifest(name, manifest, IMAGE_MANIFEST, tag)
    return Descriptor(IMAGE_MANIFEST, digest, len(manifest))


def repo(
    server: RegistryServer,
    name: str = "app",
    *,
    client: RegistryClient | None = None,
    force_referrers_tag: bool = True,
    **kwargs: object,
) -> RegistryRepository:
    """A RegistryRepository for ``server`` (plain HTTP unless it serves TLS) with fast timeouts."""
    if client is None:
        kwargs.setdefault("insecure", server.scheme == "http")
        client = RegistryClient(options=FAST, **kwargs)  # type: ignore[arg-type]
    reference = parse_reference(f"{server.address}/{name}:x")
    return RegistryRepository(reference, client=client, force_referrers_tag=force_referrers_tag)


def sign_into(store: RegistryRepository, subject: Descriptor, envelope: bytes = b'{"jws":1}') -> Descriptor:
    """Push an envelope, the config blob and a Form A signature manifest for ``subject``; return its descriptor."""
    import datetime as dt

    from notation._internal.oci import mediatypes
    from notation._internal.oci.signature_manifest import build_signature_manifest

    env_desc = Descriptor.for_content(mediatypes.JWS_ENVELOPE, envelope)
    store.push_blob(env_desc, envelope)
    store.push_blob(Descriptor.for_content(mediatypes.NOTARY_SIGNATURE, b"{}"), b"{}")
    data, desc = build_signature_manifest(
        subject, env_desc, signing_time=dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC), thumbprints=["ab" * 32]
    )
    store.warnings = store.push_signature_manifest(subject, desc, data)  # type: ignore[attr-defined]
    return desc


__all__ = ["FAST", "IMAGE_MANIFEST", "State", "digest_of", "push_image", "repo", "running", "sign_into"]
