"""The one interface between the sign/verify workflows and where artifacts live (a registry or an OCI layout).

The workflows never know which implementation they hold: ``notation._internal.registry.RegistryRepository`` or
``notation._internal.oci.layout.OCILayout``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from notation._internal.oci.descriptor import Descriptor


class ArtifactStore(Protocol):
    """One repository (registry) or one OCI image layout directory."""

    @property
    def display_name(self) -> str:
        """How the CLI names an artifact here: ``registry/repo`` or the layout path (``<name>@<digest>``)."""
        ...

    def resolve(self, reference: str) -> Descriptor:
        """Resolve a tag or a digest (``sha256:...``) in this store to the manifest's descriptor.

        Raises NotFoundError if absent; the digest of a digest reference must equal the resolved one.
        """
        ...

    def fetch(self, descriptor: Descriptor, max_size: int) -> bytes:
        """Fetch a manifest or blob by descriptor.

        Content larger than ``max_size`` (by the descriptor or by what arrives) is refused before it is read
        in full; what arrives must match the descriptor's digest and size (StoreError otherwise).
        """
        ...

    def list_signatures(self, subject: Descriptor) -> Iterator[Descriptor]:
        """Yield the descriptors of the Notary signature manifests whose subject is ``subject``, in store order.

        Registries: referrers API with artifactType filter, else the referrers tag schema (REF-01..03).
        Layouts: manifests in index.json with that subject and the notary config/artifact type (MAN-11).
        """
        ...

    def push_blob(self, descriptor: Descriptor, data: bytes, *, check_exists: bool = True) -> None:
        """Store a blob (no-op if it already exists). ``check_exists=False``: the caller just made the content, so
        asking the store whether it has it first is a needless round trip; storing it again must be harmless."""
        ...

    def push_signature_manifest(self, subject: Descriptor, descriptor: Descriptor, data: bytes) -> list[str]:
        """Store a signature manifest by digest and do the referrers bookkeeping (REF-05..07, MAN-21).

        Returns warnings to print (e.g. the REF-06 garbage collection warning); raises on failure.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...
