"""The sign workflow (signature.md §13): resolve, build payload, sign, verify what was made, push."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from notation._internal.oci.store import ArtifactStore
from notation.models import SignResult


def sign_artifact(
    store: ArtifactStore,
    reference: str,
    signer: object,
    *,
    envelope_media_type: str,
    expiry: dt.timedelta | None = None,
    user_metadata: Mapping[str, str] | None = None,
) -> SignResult:
    """Sign the manifest ``reference`` (tag or digest) names in ``store`` and push the signature.

    ``signer`` is a PrimitiveSigner (local key, plugin generate-signature) or a plugin envelope generator.
    """
    raise NotImplementedError
