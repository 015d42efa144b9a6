"""The verify workflow (signature.md §14): policy, resolve, list, and per signature the checks in Go's order."""

from __future__ import annotations

from collections.abc import Mapping

from notation._internal.oci.store import ArtifactStore
from notation.models import VerificationOutcome


def verify_artifact(
    store: ArtifactStore,
    reference: str,
    *,
    policy: object,
    trust_store: object,
    scope: str,
    user_metadata: Mapping[str, str] | None = None,
    max_signatures: int = 100,
    plugin_config: Mapping[str, str] | None = None,
) -> VerificationOutcome:
    """Verify the artifact ``reference`` names in ``store``; ``scope`` is ``registry/repo`` or ``--scope``.

    Raises VerificationError (message as the Go CLI prints it after ``Error: ``) when verification fails.
    """
    raise NotImplementedError
