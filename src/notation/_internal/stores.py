"""Open the artifact store a user reference names: a registry repository or an OCI image layout.

Shared by the CLI and the public API so that both read references the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from notation._internal.oci.store import ArtifactStore
from notation._internal.records import dataclass

if TYPE_CHECKING:
    from notation._internal.oci.descriptor import Descriptor

DIGEST_RE = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


def is_digest(ref: str) -> bool:
    return bool(DIGEST_RE.match(ref))


def resolve_in_store(store: ArtifactStore, ref: str) -> Descriptor:
    """Resolve ``ref`` in ``store``; errors read ``failed to get manifest descriptor: <e>`` (CLI-31)."""
    from notation.errors import NotationError

    try:
        return store.resolve(ref)
    except NotationError as exc:
        message = str(exc)
        if message.startswith(("failed to get manifest descriptor: ", "user input digest ")):
            raise
        raise type(exc)(f"failed to get manifest descriptor: {message}") from exc


@dataclass(frozen=True)
class RegistryOptions:
    username: str | None = None
    password: str | None = None
    insecure: bool = False
    force_referrers_tag: bool = True
    config_dir: Path | None = None


def open_store(
    reference: str, *, oci_layout: bool = False, options: RegistryOptions | None = None
) -> tuple[ArtifactStore, str]:
    """Return the store and the tag-or-digest inside it that ``reference`` names.

    ``registry/repo:tag``, ``registry/repo@sha256:...`` for registries; ``path:tag`` or ``path@sha256:...`` for
    layouts (``oci_layout=True``).
    """
    if oci_layout:
        from notation._internal.oci.layout import OCILayout, parse_layout_reference

        path, ref = parse_layout_reference(reference)
        return OCILayout.open(path), ref

    from notation._internal.oci.reference import parse_reference
    from notation._internal.registry import RegistryRepository

    opts = options or RegistryOptions()
    parsed = parse_reference(reference)
    store = RegistryRepository(
        parsed,
        username=opts.username,
        password=opts.password,
        insecure=opts.insecure,
        force_referrers_tag=opts.force_referrers_tag,
        config_dir=opts.config_dir,
    )
    return store, parsed.digest or parsed.tag or ""
