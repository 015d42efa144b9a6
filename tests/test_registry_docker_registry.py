"""Against Debian's ``docker-registry`` (distribution 2.8: no referrers API): REF-02 fallback, REF-03/05 tag schema,
and the acceptance case of 8 processes signing one image at once. Skipped when the binary is absent."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from notation._internal.oci import mediatypes
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.reference import parse_reference
from notation._internal.registry import RegistryClient, RegistryRepository
from notation._internal.registry.repository import referrers_tag
from notation.errors import NotFoundError
from registry_support import FAST, IMAGE_MANIFEST, sign_into

BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
pytestmark = pytest.mark.skipif(not os.access(BINARY, os.X_OK), reason="docker-registry not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'data'}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen([BINARY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.skip("docker-registry did not start")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _push_image(store: RegistryRepository) -> Descriptor:
    config = b'{"architecture":"amd64","os":"linux"}'
    layer = b"hello layer"
    cdesc = Descriptor.for_content(mediatypes.OCI_IMAGE_CONFIG, config)
    ldesc = Descriptor.for_content(mediatypes.OCI_LAYER_TAR, layer)
    store.push_blob(cdesc, config)
    store.push_blob(ldesc, layer, chunk_size=4)
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": IMAGE_MANIFEST, "config": cdesc.to_dict(), "layers": [ldesc.to_dict()]}
    ).encode()
    store.push_manifest("v1", IMAGE_MANIFEST, manifest)
    return Descriptor.for_content(IMAGE_MANIFEST, manifest)


def test_ref02_ref05_sign_and_list_against_distribution(registry: str) -> None:
    client = RegistryClient(insecure=True, options=FAST)
    store = client.repository(parse_reference(f"{registry}/app:v1"))
    subject = _push_image(store)
    assert store.resolve("v1") == subject
    first = sign_into(store, subject, b"first")
    old_index = store.resolve(referrers_tag(subject.digest))
    second = sign_into(
        client.repository(parse_reference(f"{registry}/app:v1"), force_referrers_tag=False), subject, b"second"
    )
    listed = [d.digest for d in client.repository(parse_reference(f"{registry}/app:v1")).list_signatures(subject)]
    assert listed == [first.digest, second.digest]
    assert client.referrers_unsupported(registry)
    index = store.resolve(referrers_tag(subject.digest))
    assert index.media_type == mediatypes.OCI_IMAGE_INDEX
    assert index.digest != old_index.digest
    with pytest.raises(NotFoundError):  # REF-05: the outdated index was deleted
        store.resolve(old_index.digest)
    client.close()


SIGNER = """
import sys, time
sys.path.insert(0, {tests!r})
from notation._internal.oci.descriptor import Descriptor
from notation._internal.oci.reference import parse_reference
from notation._internal.registry import RegistryRepository
from registry_support import sign_into
subject = Descriptor.from_dict({subject!r})
store = RegistryRepository(parse_reference({ref!r}), insecure=True)
while time.time() < {start!r}:
    time.sleep(0.001)
sign_into(store, subject, sys.argv[1].encode())
"""


def test_concurrent_signing_processes_lose_no_signature(registry: str) -> None:
    """Acceptance (issue 3): 8 processes sign the same image at once under the tag schema; all 8 are listed."""
    store = RegistryRepository(parse_reference(f"{registry}/app:v1"), insecure=True)
    subject = _push_image(store)
    script = SIGNER.format(
        tests=str(Path(__file__).parent),
        subject=subject.to_dict(),
        ref=f"{registry}/app:v1",
        start=time.time() + 1.5,
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, f"envelope-{i}"]) for i in range(8)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    assert len(list(store.list_signatures(subject))) == 8
    store.close()
